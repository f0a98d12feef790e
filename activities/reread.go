package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"go.temporal.io/sdk/activity"
)

// afterDrop, when set (tests), is called by fromDisk once f's cached pages
// are dropped, before anything is re-read.
var afterDrop func(f *os.File)

// fromDisk prepares f to be re-read from the disk: its written pages are
// synced, so they are clean, then its cached pages are dropped where the
// platform allows (dropCache), so the reads that follow come from the disk
// and not from the page cache the writes filled.
func fromDisk(f *os.File) error {
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s before re-reading it: %w", f.Name(), err)
	}
	dropCache(f)
	if afterDrop != nil {
		afterDrop(f)
	}
	return nil
}

// rereadSHA256 reads f from its start again, heartbeating the bytes read,
// and returns its hex SHA-256. The file is synced and its cached pages
// dropped first (fromDisk), so the bytes come from the disk.
func rereadSHA256(ctx context.Context, f *os.File) (string, error) {
	return rereadSHA256Beat(ctx, f, nil)
}

// rereadSHA256Beat is rereadSHA256 heartbeating detail() instead of the
// bytes read when detail is set (an activity whose heartbeat details are
// its resume state keeps them while it re-reads).
func rereadSHA256Beat(ctx context.Context, f *os.File, detail func() any) (string, error) {
	if err := fromDisk(f); err != nil {
		return "", err
	}
	h := sha256.New()
	var r io.Reader = io.NewSectionReader(f, 0, 1<<62)
	if activity.IsActivity(ctx) {
		r = &heartbeatReader{ctx: ctx, r: r, last: time.Now(), detail: detail}
	}
	if _, err := io.CopyBuffer(h, r, make([]byte, restoreHashChunk)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
