package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// streamCopy copies an object too large for CopyObject where the server
// has no UploadPartCopy: GetObject of the source's ETag streamed into a
// multipart upload by the SDK's upload manager, with bounded memory and
// heartbeats of the bytes read. A failed upload is aborted (by the
// manager, or here if the activity's context is gone); a retry starts
// over.
func streamCopy(ctx context.Context, c CopyAPI, p PartCopy) (int64, error) {
	req := &s3.GetObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key), IfMatch: aws.String(p.etag())}
	if p.VersionID != "" {
		req.VersionId = aws.String(p.VersionID)
	}
	out, err := c.GetObject(ctx, req)
	if err != nil {
		return 0, partCopyError("S3 GetObject "+p.src(), err)
	}
	defer out.Body.Close()
	if got := `"` + unquote(aws.ToString(out.ETag)) + `"`; out.ETag != nil && got != p.etag() {
		// A server that ignored If-Match.
		return 0, temporal.NewNonRetryableApplicationError(fmt.Sprintf("S3 GetObject %s: ETag %s, want %s: the source was replaced",
			p.src(), got, p.etag()), ErrTypeObjectChanged, nil)
	}
	size := aws.ToInt64(out.ContentLength)
	partSize, concurrency := copyParts(size, p.MinPartSize)
	body := &progressReader{ctx: ctx, r: out.Body, want: size, last: time.Now()}
	cu := p.createUpload()
	put := &s3.PutObjectInput{Bucket: cu.Bucket, Key: cu.Key, Body: body, ContentType: cu.ContentType, ContentEncoding: cu.ContentEncoding,
		ContentDisposition: cu.ContentDisposition, ContentLanguage: cu.ContentLanguage, CacheControl: cu.CacheControl, Metadata: cu.Metadata}
	u := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize, u.Concurrency = partSize, concurrency })
	up, err := u.Upload(ctx, put)
	if err != nil {
		var failed manager.MultiUploadFailure
		if errors.As(err, &failed) && ctx.Err() != nil {
			// The manager's abort used the cancelled context.
			abortUpload(ctx, c, p.DestBucket, p.DestKey, failed.UploadID())
		}
		return 0, Classify("S3 multipart copy "+p.src()+" → "+p.dest(), err)
	}
	if err := checkUploaded(ctx, c, p.DestBucket, p.DestKey, up, body.n); err != nil {
		return 0, err
	}
	return body.n, nil
}

// copyParts sizes the parts of a copy of size bytes in parts (whole MiB,
// at least minPart, zero meaning copyPartSize, and at most 10,000 parts)
// and how many a streamed copy uploads at once.
func copyParts(size, minPart int64) (partSize int64, concurrency int) {
	if minPart <= 0 {
		minPart = copyPartSize
	}
	partSize = max(minPart, (size+int64(manager.MaxUploadParts)-1)/int64(manager.MaxUploadParts))
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
	s3restoreBytes.Add(float64(n))
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
