package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"time"

	"go.temporal.io/sdk/activity"
)

// rereadSHA256 reads f from its start again, heartbeating the bytes read,
// and returns its hex SHA-256. The file's cached pages are dropped first
// where the platform allows (dropCache), so the bytes come from the disk.
func rereadSHA256(ctx context.Context, f *os.File) (string, error) {
	return rereadSHA256Beat(ctx, f, nil)
}

// rereadSHA256Beat is rereadSHA256 heartbeating detail() instead of the
// bytes read when detail is set (an activity whose heartbeat details are
// its resume state keeps them while it re-reads).
func rereadSHA256Beat(ctx context.Context, f *os.File, detail func() any) (string, error) {
	dropCache(f)
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
