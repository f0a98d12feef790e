package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// CopyAPI is the part of the S3 client CopyInParts uses: the multipart
// calls, UploadPartCopy, and GetObject for the streamed fallback.
type CopyAPI interface {
	manager.UploadAPIClient
	UploadPartCopy(context.Context, *s3.UploadPartCopyInput, ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	// HeadObject checks the object a completed upload made.
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// PartCopy is one copy of an object too large for CopyObject.
type PartCopy struct {
	// Bucket, Key and VersionID name the source.
	Bucket    string
	Key       string
	VersionID string
	// Source is the source's HeadObject: every part requires its ETag
	// (x-amz-copy-source-if-match), its size is cut into parts, and its
	// content headers and user metadata are carried over.
	Source *s3.HeadObjectOutput
	// Metadata, when not nil, replaces the source's user metadata.
	Metadata map[string]string
	// DestBucket and DestKey are where the copy goes.
	DestBucket string
	DestKey    string
	// MinPartSize is the smallest part; zero is CopyStreamPartSize. Parts
	// grow so that there are at most 10,000.
	MinPartSize int64
}

func (p PartCopy) src() string  { return fmt.Sprintf("s3://%s/%s", p.Bucket, p.Key) }
func (p PartCopy) dest() string { return fmt.Sprintf("s3://%s/%s", p.DestBucket, p.DestKey) }
func (p PartCopy) etag() string { return `"` + unquote(aws.ToString(p.Source.ETag)) + `"` }

// createUpload starts the destination's multipart upload with what
// CopyObject's default MetadataDirective=COPY keeps (or p.Metadata).
func (p PartCopy) createUpload() *s3.CreateMultipartUploadInput {
	h, md := p.Source, p.Source.Metadata
	if p.Metadata != nil {
		md = p.Metadata
	}
	return &s3.CreateMultipartUploadInput{Bucket: aws.String(p.DestBucket), Key: aws.String(p.DestKey),
		ContentType: h.ContentType, ContentEncoding: h.ContentEncoding, ContentDisposition: h.ContentDisposition,
		ContentLanguage: h.ContentLanguage, CacheControl: h.CacheControl, Metadata: md}
}

// ErrNoPartCopy says the server does not implement UploadPartCopy.
var ErrNoPartCopy = errors.New("UploadPartCopy not supported")

// CopyInParts copies an object above CopyObject's limit server-side, in
// UploadPartCopy parts (at most 10,000), each conditional on the source's
// ETag and followed by a heartbeat; a server without UploadPartCopy gets
// the streamed copy (GetObject of that ETag into a multipart upload)
// instead. A source replaced during the copy is a non-retryable
// ObjectChanged error. A failed copy aborts its upload, also when the
// activity's context is gone, and a retry aborts the upload of an attempt
// whose worker died (PartCopyProgress). It returns the bytes copied.
func CopyInParts(ctx context.Context, c CopyAPI, p PartCopy) (int64, error) {
	n, err := partCopy(ctx, c, p)
	if errors.Is(err, ErrNoPartCopy) {
		activity.GetLogger(ctx).Info("the server has no UploadPartCopy; streaming the copy", "object", p.src())
		return streamCopy(ctx, c, p)
	}
	return n, err
}

// PartCopyProgress is the heartbeat of a copy in parts. A retry aborts
// the upload it names: the attempt that made it died (its worker with it)
// before it could complete or abort it, and an unfinished upload is
// billed until aborted.
type PartCopyProgress struct {
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	UploadID string `json:"uploadId"`
	Done     int64  `json:"done"`
	Size     int64  `json:"size"`
}

// abortPrevious aborts the upload of the attempt before this one.
func abortPrevious(ctx context.Context, c CopyAPI) {
	var prev PartCopyProgress
	// Details of another kind (a byte count, a text) do not decode.
	if !activity.HasHeartbeatDetails(ctx) || activity.GetHeartbeatDetails(ctx, &prev) != nil || prev.UploadID == "" {
		return
	}
	activity.GetLogger(ctx).Info("aborting the multipart upload of the previous attempt", "bucket", prev.Bucket, "key", prev.Key,
		"uploadId", prev.UploadID, "done", prev.Done)
	abortUpload(ctx, c, prev.Bucket, prev.Key, prev.UploadID)
}

func partCopy(ctx context.Context, c CopyAPI, p PartCopy) (int64, error) {
	abortPrevious(ctx, c)
	size := aws.ToInt64(p.Source.ContentLength)
	up, err := c.CreateMultipartUpload(ctx, p.createUpload())
	if err != nil {
		return 0, Classify("S3 CreateMultipartUpload "+p.dest(), err)
	}
	prog := PartCopyProgress{Bucket: p.DestBucket, Key: p.DestKey, UploadID: aws.ToString(up.UploadId), Size: size}
	activity.RecordHeartbeat(ctx, prog)
	partSize, _ := copyParts(size, p.MinPartSize)
	var parts []s3types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+partSize, n+1 {
		last := min(off+partSize, size) - 1
		out, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(p.DestBucket), Key: aws.String(p.DestKey),
			UploadId: up.UploadId, PartNumber: aws.Int32(n), CopySource: aws.String(CopySource(p.Bucket, p.Key, p.VersionID)),
			CopySourceIfMatch: aws.String(p.etag()), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, last))})
		if err != nil {
			abortUpload(ctx, c, p.DestBucket, p.DestKey, aws.ToString(up.UploadId))
			if n == 1 && partCopyUnsupported(err) {
				return 0, ErrNoPartCopy
			}
			return 0, partCopyError(fmt.Sprintf("S3 UploadPartCopy %s → %s part %d", p.src(), p.dest(), n), err)
		}
		etag := ""
		if out.CopyPartResult != nil {
			etag = aws.ToString(out.CopyPartResult.ETag)
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)})
		prog.Done = last + 1
		activity.RecordHeartbeat(ctx, prog)
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(p.DestBucket), Key: aws.String(p.DestKey),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		abortUpload(ctx, c, p.DestBucket, p.DestKey, aws.ToString(up.UploadId))
		return 0, Classify("S3 CompleteMultipartUpload "+p.dest(), err)
	}
	if err := checkCompleted(ctx, c, p.DestBucket, p.DestKey, done, parts, size); err != nil {
		return 0, err
	}
	return size, nil
}

// partCopyError sorts a refused part: a source whose ETag no longer
// matches was replaced during the copy (non-retryable ObjectChanged).
func partCopyError(op string, err error) error {
	if isPreconditionFailed(err) {
		return temporal.NewNonRetryableApplicationError(op+": the source was replaced during the copy", ErrTypeObjectChanged, err)
	}
	return Classify(op, err)
}

func isPreconditionFailed(err error) bool {
	return httpStatus(err) == http.StatusPreconditionFailed || isAPICode(err, "PreconditionFailed")
}

// abortUpload aborts a multipart upload in a context of its own: the
// activity's may be the reason the copy failed. One already gone
// (completed or aborted) is fine.
func abortUpload(ctx context.Context, c CopyAPI, bucket, key, uploadID string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := c.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: aws.String(uploadID)})
	if err != nil && !isAPICode(err, "NoSuchUpload") {
		activity.GetLogger(ctx).Warn("could not abort a failed copy's multipart upload", "bucket", bucket, "key", key,
			"uploadId", uploadID, "error", err)
	}
}

// partCopyUnsupported tells a server that has no UploadPartCopy (501 Not
// Implemented, or an UploadPart that wants a body: 411) from a refusal.
func partCopyUnsupported(err error) bool {
	if isAPICode(err, "NotImplemented", "MissingContentLength") {
		return true
	}
	s := httpStatus(err)
	return s == http.StatusNotImplemented || s == http.StatusLengthRequired
}

// heartbeatWhile heartbeats every heartbeatEvery until the returned stop is
// called: a single CopyObject of up to 5 GiB can outlast the heartbeat
// timeout while S3 copies.
func heartbeatWhile(ctx context.Context, size int64) (stop func()) {
	return heartbeatDetailWhile(ctx, fmt.Sprintf("copying %d bytes server-side", size))
}

// heartbeatDetailWhile heartbeats detail every heartbeatEvery until the
// returned stop is called.
func heartbeatDetailWhile(ctx context.Context, detail string) (stop func()) {
	return heartbeatUntil(ctx, heartbeatEvery, detail)
}
