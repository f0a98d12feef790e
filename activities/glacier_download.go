package activities

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/treehash"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// ErrTypeJobExpired: GetJobOutput says the Glacier job is gone (its output
// expired); the retrieval initiates a new job. Other not-found answers
// (NoSuchUpload, NoSuchBucket) are ErrTypeNotFound and fail the run.
const ErrTypeJobExpired = "JobOutputExpired"

// ChecksumAttempts is how many attempts a range gets before a tree-hash
// mismatch becomes a non-retryable ChecksumMismatch error.
const ChecksumAttempts = 3

// heartbeatEvery throttles progress heartbeats.
const heartbeatEvery = time.Second

// DownloadRangeInput is one range of a job's output.
type DownloadRangeInput struct {
	Job flowdata.GlacierJob `json:"job"`
	// Index of the range (0-based); the S3 part number is Index+1.
	Index int                `json:"index"`
	Range flowdata.ByteRange `json:"range"`
	// Prepared is the destination.
	Prepared Prepared `json:"prepared"`
	// Fsync syncs a file range before it is reported done.
	Fsync bool `json:"fsync,omitempty"`
}

// RangeProgress is the heartbeat detail of a range download: the bytes
// written and verified so far (whole MiB chunks) and their leaf hashes, so
// a retry resumes where the last attempt stopped.
type RangeProgress struct {
	Done   int64    `json:"done"`
	Leaves []string `json:"leaves,omitempty"`
	// Want is the range's tree hash as Glacier sent it to the first
	// attempt (a resumed request covers only the rest of the range).
	Want string `json:"want,omitempty"`
}

// DownloadRange fetches one range with GetJobOutput, checks its tree hash
// against the one Glacier returns, and writes it to the destination, with
// 1 MiB of buffer. File destinations resume within the range from the last
// heartbeat.
func (a *Glacier) DownloadRange(ctx context.Context, in DownloadRangeInput) (RangePart, error) {
	var prog RangeProgress
	if in.Prepared.Dest.Scheme == location.File && activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &prog); err != nil || prog.Done > in.Range.Len() {
			prog = RangeProgress{}
		}
	}
	part, err := a.downloadRange(ctx, in, prog)
	var mismatch *checksumError
	if errors.As(err, &mismatch) {
		activity.RecordHeartbeat(ctx, RangeProgress{}) // start the range over
		if activity.GetInfo(ctx).Attempt >= ChecksumAttempts {
			return part, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeChecksumMismatch, nil)
		}
	}
	return part, err
}

type checksumError struct{ got, want string }

func (e *checksumError) Error() string {
	return fmt.Sprintf("tree hash mismatch: got %s, Glacier says %s", e.got, e.want)
}

func (a *Glacier) downloadRange(ctx context.Context, in DownloadRangeInput, prog RangeProgress) (RangePart, error) {
	switch in.Prepared.Dest.Scheme {
	case location.File:
		return a.rangeToFile(ctx, in, prog)
	case location.S3:
		body, want, err := a.fetch(ctx, in, 0)
		if err != nil {
			return RangePart{}, err
		}
		defer body.Close()
		return a.rangeToS3(ctx, in, body, want)
	}
	return RangePart{}, BadInput("destination %s not supported", in.Prepared.Dest)
}

// fetch requests the range from offset skip on, and returns the body and
// the tree hash Glacier sent (for a whole aligned range only).
func (a *Glacier) fetch(ctx context.Context, in DownloadRangeInput, skip int64) (io.ReadCloser, string, error) {
	r := in.Range
	out, err := a.Client.GetJobOutput(ctx, &glacier.GetJobOutputInput{
		AccountId: aws.String(in.Job.AccountID), VaultName: aws.String(in.Job.Vault), JobId: aws.String(in.Job.JobID),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", r.Start+skip, r.End)),
	})
	var gone *gtypes.ResourceNotFoundException
	if errors.As(err, &gone) {
		// Glacier no longer knows the job: its output expired (24 h after
		// completion). Only this is expiry; the workflow retrieves again.
		return nil, "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("Glacier job %s output expired: %s", in.Job.JobID, gone.ErrorMessage()),
			ErrTypeJobExpired, err)
	}
	if err != nil {
		return nil, "", Classify("Glacier GetJobOutput "+in.Job.JobID, err)
	}
	return out.Body, aws.ToString(out.Checksum), nil
}

// rangeToFile writes at the range's offset in the partial file. Unless
// in.Fsync, nothing waits for the disk (a sync per range costs half the
// throughput): the range is reported with the host's boot id, and the
// finish re-checks ranges written before a reboot. The partial file must
// exist and have the identity it was prepared with (it is never created
// here: a file re-created on a replaced disk would take the range while
// the ranges recorded before are gone); otherwise the range fails with a
// DestinationReplaced error and the workflow starts the file over. A
// resumed attempt first
// checks that the bytes its heartbeat claims are really in the file (they
// are not after an OS crash), then fetches the rest and checks the whole
// range against the tree hash Glacier sent the first attempt.
func (a *Glacier) rangeToFile(ctx context.Context, in DownloadRangeInput, prog RangeProgress) (RangePart, error) {
	f, err := openPartialForWrite(in.Prepared.PartialPath(), in.Prepared.Identity)
	if err != nil {
		return RangePart{}, err
	}
	defer f.Close()
	leaves := make([][]byte, 0, in.Range.Len()/treehash.ChunkSize+1)
	for _, l := range prog.Leaves {
		leaves = append(leaves, mustHex(l))
	}
	buf := make([]byte, treehash.ChunkSize)
	if prog.Done > 0 && !prefixIntact(f, in.Range.Start, prog.Done, leaves, buf) {
		// Ask for the whole range again: the next attempt starts clean.
		activity.RecordHeartbeat(ctx, RangeProgress{})
		return RangePart{}, fmt.Errorf("destination %s lost bytes written before the restart; downloading range %d again", in.Prepared.Dest, in.Index)
	}
	want, done := prog.Want, prog.Done
	if done < in.Range.Len() { // a heartbeat may already cover the whole range
		body, sent, err := a.fetch(ctx, in, done)
		if err != nil {
			return RangePart{}, err
		}
		defer body.Close()
		if done == 0 {
			want = sent
		}
		last := time.Now()
		for done < in.Range.Len() {
			n, err := io.ReadFull(body, buf[:min(int64(len(buf)), in.Range.Len()-done)])
			if err != nil {
				return RangePart{}, fmt.Errorf("reading job output at %d: %w", in.Range.Start+done, err)
			}
			if _, err := f.WriteAt(buf[:n], in.Range.Start+done); err != nil {
				return RangePart{}, fmt.Errorf("destination: %w", err)
			}
			leaf := treehash.New()
			leaf.Write(buf[:n])
			leaves = append(leaves, leaf.Sum())
			done += int64(n)
			glacierBytes.Add(float64(n))
			if time.Since(last) >= heartbeatEvery {
				activity.RecordHeartbeat(ctx, RangeProgress{Done: done, Leaves: hexAll(leaves), Want: want})
				last = time.Now()
			}
		}
	}
	sum := hex.EncodeToString(treehash.Combine(leaves))
	if want != "" && sum != want {
		return RangePart{}, &checksumError{sum, want}
	}
	if in.Fsync {
		if err := f.Sync(); err != nil {
			return RangePart{}, fmt.Errorf("destination: %w", err)
		}
	}
	return RangePart{Index: in.Index, Bytes: done, TreeHash: sum, Boot: BootID()}, nil
}

// prefixIntact reads back the done bytes a heartbeat recorded, starting at
// off, and reports whether their 1 MiB chunks still have the recorded
// hashes.
func prefixIntact(f *os.File, off, done int64, leaves [][]byte, buf []byte) bool {
	if int64(len(leaves)) != (done+treehash.ChunkSize-1)/treehash.ChunkSize {
		return false
	}
	for i, want := range leaves {
		at := int64(i) * treehash.ChunkSize
		chunk := buf[:min(treehash.ChunkSize, done-at)]
		if _, err := f.ReadAt(chunk, off+at); err != nil {
			return false
		}
		h := treehash.New()
		h.Write(chunk)
		if !bytes.Equal(h.Sum(), want) {
			return false
		}
	}
	return true
}

// rangeToS3 spools the range to a temporary file (so memory stays bounded
// and the upload body is seekable), then uploads it as one part.
func (a *Glacier) rangeToS3(ctx context.Context, in DownloadRangeInput, body io.Reader, want string) (RangePart, error) {
	tmp, err := os.CreateTemp(a.Sinks.TempDir, "vigil-range-*")
	if err != nil {
		return RangePart{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := treehash.New()
	n, err := copyWithHeartbeat(ctx, io.MultiWriter(tmp, h), body, in.Range.Len())
	if err != nil {
		return RangePart{}, fmt.Errorf("reading job output: %w", err)
	}
	sum := h.Hex()
	if want != "" && sum != want {
		return RangePart{}, &checksumError{sum, want}
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return RangePart{}, err
	}
	d := in.Prepared.Dest
	up, err := a.Sinks.S3.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(d.Bucket), Key: aws.String(d.Key), UploadId: aws.String(in.Prepared.UploadID),
		PartNumber: aws.Int32(int32(in.Index + 1)), Body: tmp, ContentLength: aws.Int64(n)})
	if err != nil {
		return RangePart{}, Classify("S3 UploadPart "+d.String(), err)
	}
	return RangePart{Index: in.Index, Bytes: n, TreeHash: sum, ETag: aws.ToString(up.ETag)}, nil
}

// copyWithHeartbeat copies exactly n bytes, heartbeating the count.
func copyWithHeartbeat(ctx context.Context, dst io.Writer, src io.Reader, n int64) (int64, error) {
	buf := make([]byte, treehash.ChunkSize)
	var done int64
	last := time.Now()
	for done < n {
		m, err := io.ReadFull(src, buf[:min(int64(len(buf)), n-done)])
		if err != nil {
			return done, err
		}
		if _, err := dst.Write(buf[:m]); err != nil {
			return done, err
		}
		done += int64(m)
		glacierBytes.Add(float64(m))
		if time.Since(last) >= heartbeatEvery {
			activity.RecordHeartbeat(ctx, RangeProgress{Done: done})
			last = time.Now()
		}
	}
	return done, nil
}

func hexAll(leaves [][]byte) []string {
	out := make([]string, len(leaves))
	for i, l := range leaves {
		out[i] = hex.EncodeToString(l)
	}
	return out
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}
