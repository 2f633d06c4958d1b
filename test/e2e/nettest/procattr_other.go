//go:build !linux

package nettest

import "os/exec"

// setPdeathsig is Linux-only; elsewhere t.Cleanup is the only safety net.
func setPdeathsig(*exec.Cmd) {}
