package activities

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/activity"

	"github.com/vigilops/vigil/internal/location"
)

// DeliverObjectInput copies or downloads one S3 object.
type DeliverObjectInput struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId,omitempty"`
	// Dest is s3://bucket/key (server-side copy) or file:///abs/path.
	Dest string `json:"dest"`
	// Size of the object, for progress.
	Size int64 `json:"size"`
}

// DeliverObject copies the object server-side to an S3 destination, or
// streams it to a file on the worker host (1 MiB buffer, resuming from the
// last heartbeat's offset, renamed into place when complete).
func (a *S3) DeliverObject(ctx context.Context, in DeliverObjectInput) (FinishResult, error) {
	dest, err := location.Parse(in.Dest)
	if err != nil {
		return FinishResult{}, BadInput("destination: %v", err)
	}
	src := fmt.Sprintf("s3://%s/%s", in.Bucket, in.Key)
	switch dest.Scheme {
	case location.S3:
		copySource := in.Bucket + "/" + url.PathEscape(in.Key)
		if in.VersionID != "" {
			copySource += "?versionId=" + url.QueryEscape(in.VersionID)
		}
		if _, err := a.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dest.Bucket), Key: aws.String(dest.Key),
			CopySource: aws.String(copySource)}); err != nil {
			return FinishResult{}, Classify("S3 CopyObject "+src+" → "+dest.String(), err)
		}
		return FinishResult{Location: dest.String(), Bytes: in.Size}, nil
	case location.File:
		return a.download(ctx, in, dest, src)
	}
	return FinishResult{}, BadInput("destination %s: want s3:// or file://", dest)
}

func (a *S3) download(ctx context.Context, in DeliverObjectInput, dest location.Location, src string) (FinishResult, error) {
	var done int64
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &done)
	}
	if err := os.MkdirAll(filepath.Dir(dest.Path), 0o755); err != nil {
		return FinishResult{}, BadInput("destination: %v", err)
	}
	partial := dest.Path + PartialSuffix
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return FinishResult{}, BadInput("destination: %v", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() < done {
		done = 0 // the partial file is not what the heartbeat describes
	}
	req := &s3.GetObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key)}
	if in.VersionID != "" {
		req.VersionId = aws.String(in.VersionID)
	}
	if done > 0 {
		req.Range = aws.String(fmt.Sprintf("bytes=%d-", done))
	}
	out, err := a.Client.GetObject(ctx, req)
	if err != nil {
		return FinishResult{}, Classify("S3 GetObject "+src, err)
	}
	defer out.Body.Close()
	if err := f.Truncate(done); err != nil {
		return FinishResult{}, err
	}
	if _, err := f.Seek(done, io.SeekStart); err != nil {
		return FinishResult{}, err
	}
	buf := make([]byte, 1<<20)
	last := time.Now()
	for {
		n, rerr := out.Body.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return FinishResult{}, fmt.Errorf("destination: %w", err)
			}
			done += int64(n)
			if time.Since(last) >= heartbeatEvery {
				if err := f.Sync(); err != nil {
					return FinishResult{}, err
				}
				activity.RecordHeartbeat(ctx, done)
				last = time.Now()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return FinishResult{}, fmt.Errorf("reading %s at %d: %w", src, done, rerr)
		}
	}
	if in.Size > 0 && done != in.Size {
		return FinishResult{}, fmt.Errorf("%s: got %d bytes, want %d", src, done, in.Size)
	}
	if err := f.Sync(); err != nil {
		return FinishResult{}, err
	}
	if err := os.Rename(partial, dest.Path); err != nil {
		return FinishResult{}, err
	}
	return FinishResult{Location: dest.String(), Bytes: done}, nil
}
