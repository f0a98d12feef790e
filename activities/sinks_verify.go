package activities

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/internal/treehash"
)

// span is a stretch of a partial file whose tree hash was recorded when
// it was written: a range, or a batch of ranges.
type span struct {
	// N is what a RangesLost error names: a range index or batch number.
	N      int
	Offset int64
	Bytes  int64
	Hash   string
	// Boot the span was written under ("" when unknown).
	Boot string
}

// VerifyProgress is the heartbeat detail of the finish's re-reading: the
// spans checked so far and the lost ones among them, so a retried finish
// resumes where the last attempt stopped.
type VerifyProgress struct {
	Checked int   `json:"checked"`
	Lost    []int `json:"lost,omitempty"`
	// Bytes re-read so far in this attempt (for the UI).
	Bytes int64 `json:"bytes,omitempty"`
}

// lostSpans returns the spans of the partial file f (size bytes) whose
// bytes do not have their recorded tree hash: those past the file's end,
// and among the others those re-read — every span when full, otherwise
// only those written under another boot of the host. It heartbeats as it
// reads and resumes from the last attempt's heartbeat.
func lostSpans(ctx context.Context, f *os.File, size int64, spans []span, full bool) ([]int, error) {
	var prog VerifyProgress
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &prog); err != nil || prog.Checked > len(spans) {
			prog = VerifyProgress{}
		}
	}
	boot := BootID()
	buf := make([]byte, treehash.ChunkSize)
	last := time.Now()
	for i := prog.Checked; i < len(spans); i++ {
		s := spans[i]
		switch {
		case s.Offset+s.Bytes > size:
			prog.Lost = append(prog.Lost, s.N)
		case !full && boot != "" && s.Boot == boot:
		default:
			h := treehash.New()
			for off := int64(0); off < s.Bytes; {
				n, err := f.ReadAt(buf[:min(int64(len(buf)), s.Bytes-off)], s.Offset+off)
				if n == 0 && err != nil {
					if err == io.EOF {
						err = io.ErrUnexpectedEOF
					}
					return nil, fmt.Errorf("re-reading %s at %d: %w", f.Name(), s.Offset+off, err)
				}
				h.Write(buf[:n])
				off += int64(n)
				prog.Bytes += int64(n)
				if activity.IsActivity(ctx) && time.Since(last) >= heartbeatEvery {
					activity.RecordHeartbeat(ctx, prog)
					last = time.Now()
				}
			}
			if h.Hex() != s.Hash {
				prog.Lost = append(prog.Lost, s.N)
			}
		}
		prog.Checked = i + 1
	}
	return prog.Lost, nil
}

// checkSpans checks a file destination before its finish publishes it: it
// must be the file prepared (present, same identity, not longer than the
// output), and its spans must have their recorded hashes (lostSpans). Lost
// spans are reported in a RangesLost error whose details list their
// numbers; the workflow downloads them again. With full, the file is
// synced and its cached pages dropped before the re-reading (fromDisk), so
// the hashes are of the bytes on disk, not of the pages the writes cached.
func checkSpans(ctx context.Context, p Prepared, spans []span, full bool, what string) error {
	partial := p.PartialPath()
	f, size, err := openPartial(partial)
	if err != nil {
		return err
	}
	if f == nil && p.Identity != "" {
		return destinationReplaced(partial, "it is gone")
	}
	if f != nil {
		defer f.Close()
	}
	if err := checkIdentity(partial, p.Identity); err != nil {
		return err
	}
	if p.Identity != "" && p.Size > 0 && size > p.Size {
		return destinationReplaced(partial, fmt.Sprintf("it has %d bytes, the output %d", size, p.Size))
	}
	if full && f != nil {
		if err := fromDisk(f); err != nil {
			return err
		}
	}
	lost, err := lostSpans(ctx, f, size, spans, full)
	if err != nil {
		return err
	}
	if len(lost) == 0 {
		return nil
	}
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%d %s of %s do not have the bytes written to them (lost when the host restarted, or changed on disk): %v",
		len(lost), what, partial, lost), ErrTypeRangesLost, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{lost}})
}

// fileTreeHash is the tree hash of a whole file, read with heartbeats;
// with full, from the disk (fromDisk) rather than the page cache.
func fileTreeHash(ctx context.Context, path string, full bool) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if full {
		if err := fromDisk(f); err != nil {
			return "", err
		}
	}
	h := treehash.New()
	var r io.Reader = f
	if activity.IsActivity(ctx) {
		r = &heartbeatReader{ctx: ctx, r: f, last: time.Now()}
	}
	if _, err := io.CopyBuffer(h, r, make([]byte, treehash.ChunkSize)); err != nil {
		return "", err
	}
	return h.Hex(), nil
}
