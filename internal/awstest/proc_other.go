//go:build !linux

package awstest

import (
	"os"
	"os/exec"
	"syscall"
)

// sysProcAttr returns no special attributes: process groups and parent-death
// signals are only used on Linux, where skymap's tests run.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup interrupts, or when hard kills, moto's main process.
func signalGroup(cmd *exec.Cmd, hard bool) {
	if hard {
		_ = cmd.Process.Kill()
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
}
