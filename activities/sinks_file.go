package activities

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Local files of file destinations: the boot id that dates their ranges,
// publishing (rename and sync) and reopening a partial file.

// bootIDFile holds the kernel's id of the current boot (Linux).
const bootIDFile = "/proc/sys/kernel/random/boot_id"

// BootID identifies the current boot of this host; "" when unknown (then
// every range is re-checked at the finish).
var BootID = sync.OnceValue(func() string {
	b, err := os.ReadFile(bootIDFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
})

// publishFile renames the verified partial file to its destination; with
// fsync, the file is made durable first and the rename after, so a crash
// never leaves a short or empty file at the destination path.
func publishFile(partial, dest string, fsync bool) error {
	if fsync {
		if err := syncPath(partial); err != nil {
			return err
		}
	}
	// The partial file is 0600 while unverified; the output gets the mode
	// of the file it replaces, or 0644.
	if err := os.Chmod(partial, publishedMode(dest)); err != nil {
		return err
	}
	if err := os.Rename(partial, dest); err != nil {
		return err
	}
	if err := removeIdentity(partial); err != nil {
		return err
	}
	if fsync {
		return syncPath(filepath.Dir(dest))
	}
	return nil
}

// syncPath syncs a file or directory.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// openPartial opens a partial file for the after-reboot checks and returns
// its size; a missing file is no error: nil and size 0 (every range in it
// counts as lost).
func openPartial(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}
