//go:build !linux

package activities

import "syscall"

// dieWithWorker has no portable equivalent outside Linux: there a command
// outlives a worker that is killed (a stopped worker still kills it).
func dieWithWorker(*syscall.SysProcAttr) {}
