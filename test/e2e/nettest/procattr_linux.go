package nettest

import (
	"os/exec"
	"syscall"
)

// setPdeathsig makes the kernel kill a process if the test binary dies
// without running its cleanups (a -timeout panic, say), so no process
// outlives it.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
