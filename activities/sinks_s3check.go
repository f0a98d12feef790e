package activities

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/temporal"
)

// headAPI is the HeadObject of an S3 client.
type headAPI interface {
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// completeUpload completes the multipart upload of a prepared S3
// destination and checks the object it made (checkCompleted). An upload
// S3 no longer knows (NoSuchUpload) was completed by an earlier attempt
// or aborted: the object's ETag tells which.
func completeUpload(ctx context.Context, c S3TransferAPI, p Prepared, parts []s3types.CompletedPart, size int64) error {
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(p.Dest.Bucket), Key: aws.String(p.Dest.Key), UploadId: aws.String(p.UploadID),
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "NoSuchUpload" {
		// Completed by an earlier attempt (whose check then failed, or
		// whose answer was lost) only if the object has the ETag these
		// parts make; otherwise the upload was aborted.
		if want := multipartETag(parts); want != "" && completedAs(ctx, c, p, want) {
			out, err = &s3.CompleteMultipartUploadOutput{ETag: aws.String(want)}, nil
		}
	}
	if err != nil {
		return Classify("S3 CompleteMultipartUpload "+p.Dest.String(), err)
	}
	return checkCompleted(ctx, c, p.Dest.Bucket, p.Dest.Key, out, len(parts), size)
}

// checkCompleted checks the object a CompleteMultipartUpload made before
// the delivery reports success: its size (HeadObject of the version the
// upload made) and its part count (the "-N" suffix of a multipart ETag,
// from the completion's answer or the object's). A difference is a
// non-retryable ChecksumMismatch: what S3 holds is not what was sent.
func checkCompleted(ctx context.Context, c headAPI, bucket, key string, done *s3.CompleteMultipartUploadOutput, parts int, size int64) error {
	dest := fmt.Sprintf("s3://%s/%s", bucket, key)
	in := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if v := aws.ToString(done.VersionId); v != "" {
		in.VersionId = aws.String(v)
	}
	h, err := c.HeadObject(ctx, in)
	if err != nil {
		return Classify("S3 HeadObject "+dest+" (after CompleteMultipartUpload)", err)
	}
	if got := aws.ToInt64(h.ContentLength); h.ContentLength != nil && got != size {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: the completed upload has %d bytes, %d were sent", dest, got, size), ErrTypeChecksumMismatch, nil)
	}
	for _, etag := range []string{aws.ToString(done.ETag), aws.ToString(h.ETag)} {
		if n, ok := etagParts(etag); ok && n != parts {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: the completed upload has %d parts (ETag %s), %d were sent", dest, n, etag, parts), ErrTypeChecksumMismatch, nil)
		}
	}
	if n := aws.ToInt32(h.PartsCount); h.PartsCount != nil && int(n) != parts {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: the completed upload has %d parts, %d were sent", dest, n, parts), ErrTypeChecksumMismatch, nil)
	}
	return nil
}

// etagParts reads the part count of a multipart ETag ("md5-N").
func etagParts(etag string) (int, bool) {
	etag = strings.Trim(etag, `"`)
	i := strings.LastIndexByte(etag, '-')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(etag[i+1:])
	return n, err == nil
}

// multipartETag is the ETag S3 gives the object of a multipart upload of
// parts (hex MD5 of the parts' binary MD5s, "-", the part count); "" when
// a part's ETag is not an MD5 (SSE-KMS, SSE-C).
func multipartETag(parts []s3types.CompletedPart) string {
	h := md5.New()
	for _, p := range parts {
		b, err := hex.DecodeString(strings.Trim(aws.ToString(p.ETag), `"`))
		if err != nil || len(b) != md5.Size {
			return ""
		}
		h.Write(b)
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(parts))
}

// completedAs reports whether the destination object has the ETag want.
func completedAs(ctx context.Context, c headAPI, p Prepared, want string) bool {
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(p.Dest.Bucket), Key: aws.String(p.Dest.Key)})
	return err == nil && strings.Trim(aws.ToString(h.ETag), `"`) == want
}
