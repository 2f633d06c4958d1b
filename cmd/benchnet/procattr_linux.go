package main

import (
	"os/exec"
	"syscall"
)

// setPdeathsig makes the kernel kill a node if the harness dies without
// running its cleanup, so no validator outlives it.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
