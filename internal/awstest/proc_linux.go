package awstest

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts moto in its own process group, so Stop reaches every
// process it forks, and asks the kernel to kill it when the test binary
// dies without calling Stop.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends SIGTERM, or SIGKILL when hard, to cmd's process group.
func signalGroup(cmd *exec.Cmd, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig) // ESRCH: already gone, which is the goal
}
