package activities

import (
	"os"
	"testing"
)

// SetCopyStreamLimits lowers, for one test, the object size above which
// DeliverObject streams an S3 copy into a multipart upload instead of one
// CopyObject, and the streamed copy's part size.
func SetCopyStreamLimits(t testing.TB, limit, partSize int64) {
	oldLimit, oldPart := copyObjectLimit, copyPartSize
	copyObjectLimit, copyPartSize = limit, partSize
	t.Cleanup(func() { copyObjectLimit, copyPartSize = oldLimit, oldPart })
}

// CopyStreamParts exposes copyParts (default minimum part).
func CopyStreamParts(size int64) (partSize int64, concurrency int) { return copyParts(size, 0) }

// SetMoveCopyLimits lowers, for one S3Object, the object size above which
// MoveObject copies in UploadPartCopy parts, and the smallest part.
func SetMoveCopyLimits(a *S3Object, limit, partSize int64) { a.copyLimit, a.partSize = limit, partSize }

// SetAfterDrop sets, for one test, what runs when a file about to be
// re-read from disk has been synced and its cached pages dropped.
func SetAfterDrop(t testing.TB, fn func(f *os.File)) {
	old := afterDrop
	afterDrop = fn
	t.Cleanup(func() { afterDrop = old })
}

// OpenPartialForWrite exposes openPartialForWrite.
var OpenPartialForWrite = openPartialForWrite

// SetRestoreSynced sets, for one test, what a directory restore calls with
// each path it has fsynced.
func SetRestoreSynced(t testing.TB, fn func(path string)) {
	old := restoreSynced
	restoreSynced = fn
	t.Cleanup(func() { restoreSynced = old })
}
