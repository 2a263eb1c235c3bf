package pgtest

import (
	"os/exec"
	"syscall"
)

// stopWithParent asks Linux to send the server SIGQUIT (immediate
// shutdown) if the test binary dies without running Main's cleanup, e.g.
// on a test timeout, so that no server outlives the tests.
func stopWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
}
