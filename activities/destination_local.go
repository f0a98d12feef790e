package activities

import (
	"os"
	"path/filepath"
)

// localDestination readies the directory of a file destination the way
// every flow that writes one does (Glacier and S3 restore delivery): a
// destination that names an existing directory is refused at once
// (LocalPermanent: renaming the finished file onto it could never
// succeed), and a directory that cannot be made is sorted by fileError and
// the one classification (read-only or forbidden: permanent; a full disk:
// retried).
func localDestination(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nonRetryable(ErrTypeLocalPermanent, "destination %s is a directory on host %s: name the file to write", path, DefaultHostName())
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fileError("destination", path, err)
	}
	return nil
}
