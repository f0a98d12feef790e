package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/internal/location"
)

// MaxCopyObjectSize is the largest object one CopyObject copies: S3
// answers InvalidRequest for a larger source.
const MaxCopyObjectSize int64 = 5 << 30

// CopyStreamPartSize is the part size of the streamed copy of objects
// larger than MaxCopyObjectSize (grown for objects that would need more
// than 10,000 parts). copyStreamMemory bounds the part buffers the upload
// holds, (concurrency+2) × part size, with 1 to 4 parts in flight.
const (
	CopyStreamPartSize int64 = 32 << 20
	copyStreamMemory   int64 = 256 << 20
)

// copyObjectLimit and copyPartSize are MaxCopyObjectSize and
// CopyStreamPartSize; tests lower them to stream small objects.
var (
	copyObjectLimit = MaxCopyObjectSize
	copyPartSize    = CopyStreamPartSize
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

// DeliverObject copies the object server-side to an S3 destination (one
// CopyObject up to MaxCopyObjectSize; above, S3 refuses that and the
// object is streamed through the worker into a multipart upload), or
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
		if in.Size > copyObjectLimit {
			return a.streamCopy(ctx, in, dest, src)
		}
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

// streamCopy copies an object too large for CopyObject: GetObject streamed
// into a multipart upload by the SDK's upload manager, with bounded memory
// and heartbeats of the bytes read. A failed upload is aborted (by the
// manager, or here if the activity's context is gone); a retry starts over.
// The S3 API has UploadPartCopy for this, server-side, but the local S3
// emulator cannot do it, so vigil's tests could not exercise it.
func (a *S3) streamCopy(ctx context.Context, in DeliverObjectInput, dest location.Location, src string) (FinishResult, error) {
	up, ok := a.Client.(manager.UploadAPIClient)
	if !ok {
		return FinishResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("copying %s (%d bytes) to %s needs multipart uploads, which this S3 client lacks", src, in.Size, dest), ErrTypeConfig, nil)
	}
	req := &s3.GetObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key)}
	if in.VersionID != "" {
		req.VersionId = aws.String(in.VersionID)
	}
	out, err := a.Client.GetObject(ctx, req)
	if err != nil {
		return FinishResult{}, Classify("S3 GetObject "+src, err)
	}
	defer out.Body.Close()
	size := aws.ToInt64(out.ContentLength)
	partSize, concurrency := copyStreamParts(size)
	body := &progressReader{ctx: ctx, r: out.Body, want: size, last: time.Now()}
	put := &s3.PutObjectInput{Bucket: aws.String(dest.Bucket), Key: aws.String(dest.Key), Body: body,
		// What CopyObject's default MetadataDirective=COPY keeps.
		ContentType: out.ContentType, ContentEncoding: out.ContentEncoding, ContentDisposition: out.ContentDisposition,
		ContentLanguage: out.ContentLanguage, CacheControl: out.CacheControl, Metadata: out.Metadata}
	u := manager.NewUploader(up, func(u *manager.Uploader) { u.PartSize, u.Concurrency = partSize, concurrency })
	if _, err := u.Upload(ctx, put); err != nil {
		var failed manager.MultiUploadFailure
		if errors.As(err, &failed) && ctx.Err() != nil {
			// The manager's abort used the cancelled context.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_, _ = up.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(dest.Bucket), Key: aws.String(dest.Key),
				UploadId: aws.String(failed.UploadID())})
			cancel()
		}
		return FinishResult{}, Classify("S3 multipart copy "+src+" → "+dest.String(), err)
	}
	return FinishResult{Location: dest.String(), Bytes: body.n}, nil
}

// copyStreamParts sizes the parts of a streamed copy of size bytes (whole
// MiB, at most 10,000 parts) and how many are uploaded at once.
func copyStreamParts(size int64) (partSize int64, concurrency int) {
	partSize = max(copyPartSize, (size+int64(manager.MaxUploadParts)-1)/int64(manager.MaxUploadParts))
	partSize = (partSize + 1<<20 - 1) &^ (1<<20 - 1)
	return partSize, int(min(max(copyStreamMemory/partSize-2, 1), 4))
}

// progressReader counts the bytes read, heartbeats the count, and turns a
// body that ends early into an error (so the upload is not completed).
type progressReader struct {
	ctx     context.Context
	r       io.Reader
	n, want int64
	last    time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if time.Since(p.last) >= heartbeatEvery {
		activity.RecordHeartbeat(p.ctx, p.n)
		p.last = time.Now()
	}
	switch {
	case err == io.EOF && p.n != p.want:
		return n, fmt.Errorf("source ended at %d of %d bytes: %w", p.n, p.want, io.ErrUnexpectedEOF)
	case err != nil && err != io.EOF:
		return n, fmt.Errorf("reading source at %d: %w", p.n, err)
	}
	return n, err
}
