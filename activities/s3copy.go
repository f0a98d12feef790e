package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/activity"

	"github.com/vigilops/vigil/internal/location"
)

// copySource is the x-amz-copy-source of the object in names.
func copySource(in DeliverObjectInput) string {
	src := in.Bucket + "/" + url.PathEscape(in.Key)
	if in.VersionID != "" {
		src += "?versionId=" + url.QueryEscape(in.VersionID)
	}
	return src
}

// heartbeatWhile heartbeats every heartbeatEvery until the returned stop is
// called: a single CopyObject of up to 5 GiB can outlast the heartbeat
// timeout while S3 copies.
func heartbeatWhile(ctx context.Context, size int64) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, fmt.Sprintf("copying %d bytes server-side", size))
			}
		}
	}()
	return func() { close(done) }
}

// errNoPartCopy says the server does not implement UploadPartCopy.
var errNoPartCopy = errors.New("UploadPartCopy not supported")

// bigCopy copies an object above CopyObject's limit server-side, in
// UploadPartCopy parts (sized as the streamed copy's, at most 10,000),
// heartbeating after each; a server without UploadPartCopy gets the
// streamed copy instead. A failed copy aborts its upload.
func (a *S3) bigCopy(ctx context.Context, in DeliverObjectInput, dest location.Location, src string) (FinishResult, error) {
	fin, err := a.partCopy(ctx, in, dest, src)
	if errors.Is(err, errNoPartCopy) {
		activity.GetLogger(ctx).Info("the server has no UploadPartCopy; streaming the copy", "object", src)
		return a.streamCopy(ctx, in, dest, src)
	}
	return fin, err
}

func (a *S3) partCopy(ctx context.Context, in DeliverObjectInput, dest location.Location, src string) (FinishResult, error) {
	head := &s3.HeadObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key)}
	if in.VersionID != "" {
		head.VersionId = aws.String(in.VersionID)
	}
	h, err := a.Client.HeadObject(ctx, head)
	if err != nil {
		return FinishResult{}, Classify("S3 HeadObject "+src, err)
	}
	size := aws.ToInt64(h.ContentLength)
	up, err := a.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(dest.Bucket), Key: aws.String(dest.Key),
		// What CopyObject's default MetadataDirective=COPY keeps.
		ContentType: h.ContentType, ContentEncoding: h.ContentEncoding, ContentDisposition: h.ContentDisposition,
		ContentLanguage: h.ContentLanguage, CacheControl: h.CacheControl, Metadata: h.Metadata})
	if err != nil {
		return FinishResult{}, Classify("S3 CreateMultipartUpload "+dest.String(), err)
	}
	abort := func() {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = a.Client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(dest.Bucket), Key: aws.String(dest.Key),
			UploadId: up.UploadId})
	}
	partSize, _ := copyStreamParts(size)
	var parts []s3types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+partSize, n+1 {
		last := min(off+partSize, size) - 1
		out, err := a.Client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(dest.Bucket), Key: aws.String(dest.Key),
			UploadId: up.UploadId, PartNumber: aws.Int32(n), CopySource: aws.String(copySource(in)),
			CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, last))})
		if err != nil {
			abort()
			if n == 1 && partCopyUnsupported(err) {
				return FinishResult{}, errNoPartCopy
			}
			return FinishResult{}, Classify(fmt.Sprintf("S3 UploadPartCopy %s → %s part %d", src, dest, n), err)
		}
		etag := ""
		if out.CopyPartResult != nil {
			etag = aws.ToString(out.CopyPartResult.ETag)
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)})
		activity.RecordHeartbeat(ctx, fmt.Sprintf("copied %d of %d bytes server-side", last+1, size))
	}
	if _, err := a.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(dest.Bucket), Key: aws.String(dest.Key),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		abort()
		return FinishResult{}, Classify("S3 CompleteMultipartUpload "+dest.String(), err)
	}
	return FinishResult{Location: dest.String(), Bytes: size}, nil
}

// partCopyUnsupported tells a server that has no UploadPartCopy (501 Not
// Implemented, or an UploadPart that wants a body: 411) from a refusal.
func partCopyUnsupported(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "NotImplemented" || api.ErrorCode() == "MissingContentLength") {
		return true
	}
	s := httpStatus(err)
	return s == http.StatusNotImplemented || s == http.StatusLengthRequired
}
