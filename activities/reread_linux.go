//go:build linux && (amd64 || arm64)

package activities

import (
	"os"
	"syscall"
)

// fadvDontNeed is POSIX_FADV_DONTNEED.
const fadvDontNeed = 4

// dropCache asks the kernel to drop f's clean cached pages (best effort:
// f must be synced for its pages to be clean).
func dropCache(f *os.File) {
	_, _, _ = syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0)
}
