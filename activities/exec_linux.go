package activities

import "syscall"

// dieWithWorker makes the kernel kill the command when the worker process
// dies (SIGKILL, OOM): an orphaned command would otherwise run on beside
// the retry that a new worker starts. The signal follows the OS thread that
// started the command, so runCommand keeps its goroutine on that thread
// until the command ends. Only the command itself gets it; its own children
// share its process group but not the death signal.
func dieWithWorker(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
