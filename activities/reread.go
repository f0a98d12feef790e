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
	dropCache(f)
	h := sha256.New()
	var r io.Reader = io.NewSectionReader(f, 0, 1<<62)
	if activity.IsActivity(ctx) {
		r = &heartbeatReader{ctx: ctx, r: r, last: time.Now()}
	}
	if _, err := io.CopyBuffer(h, r, make([]byte, restoreHashChunk)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
