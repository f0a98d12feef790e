package activities

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"go.temporal.io/sdk/activity"
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
	if isAPICode(err, "NoSuchUpload") {
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
	return checkCompleted(ctx, c, p.Dest.Bucket, p.Dest.Key, out, parts, size)
}

// checkCompleted checks the object a CompleteMultipartUpload of parts
// made before the delivery reports success (checkStored).
func checkCompleted(ctx context.Context, c headAPI, bucket, key string, done *s3.CompleteMultipartUploadOutput, parts []s3types.CompletedPart, size int64) error {
	return checkStored(ctx, c, bucket, key, aws.ToString(done.VersionId), aws.ToString(done.ETag), parts, true, size)
}

// checkUploaded checks the object an upload manager's Upload made: a
// multipart upload as checkCompleted does, a single PutObject (no
// completed parts) by its size, ETag and checksums.
func checkUploaded(ctx context.Context, c headAPI, bucket, key string, up *manager.UploadOutput, size int64) error {
	if len(up.CompletedParts) > 0 {
		return checkStored(ctx, c, bucket, key, aws.ToString(up.VersionID), aws.ToString(up.ETag), up.CompletedParts, true, size)
	}
	whole := s3types.CompletedPart{ETag: up.ETag, ChecksumCRC32: up.ChecksumCRC32, ChecksumCRC32C: up.ChecksumCRC32C,
		ChecksumCRC64NVME: up.ChecksumCRC64NVME, ChecksumSHA1: up.ChecksumSHA1, ChecksumSHA256: up.ChecksumSHA256}
	return checkStored(ctx, c, bucket, key, aws.ToString(up.VersionID), aws.ToString(up.ETag), []s3types.CompletedPart{whole}, false, size)
}

// checkStored checks the object an upload made (HeadObject of its key,
// checksums asked for; the current version must be the upload's) against what was sent: its size; for a
// multipart upload its part count (the "-N" suffix of the ETags and the
// object's PartsCount); and any checksum S3 returns that the parts carried
// too (matchChecksums). A difference is a non-retryable ChecksumMismatch:
// what S3 holds is not what was sent. An ETag other than the one AWS
// derives from the parts' ETags (multipartETag) is only logged: the
// documentation calls it opaque and S3-compatible servers differ.
func checkStored(ctx context.Context, c headAPI, bucket, key, version, etag string, parts []s3types.CompletedPart, multipart bool, size int64) error {
	dest := fmt.Sprintf("s3://%s/%s", bucket, key)
	mismatch := func(format string, args ...any) error {
		return temporal.NewNonRetryableApplicationError(dest+": "+fmt.Sprintf(format, args...), ErrTypeChecksumMismatch, nil)
	}
	// The key, not the version the upload made: a HEAD of a version needs
	// s3:GetObjectVersion, which a role that may only write and read its
	// objects lacks. A current version that is not the upload's is
	// someone else's write.
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
	if err != nil {
		return Classify("S3 HeadObject "+dest+" (after the upload)", err)
	}
	if got := aws.ToString(h.VersionId); version != "" && got != "" && got != version {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: version %s was written over by version %s right after the upload", dest, version, got), ErrTypeObjectChanged, nil)
	}
	if got := aws.ToInt64(h.ContentLength); h.ContentLength != nil && got != size {
		return mismatch("the completed upload has %d bytes, %d were sent", got, size)
	}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b s3types.CompletedPart) int {
		return int(aws.ToInt32(a.PartNumber) - aws.ToInt32(b.PartNumber))
	})
	if multipart {
		for _, e := range []string{etag, aws.ToString(h.ETag)} {
			if n, ok := etagParts(e); ok && n != len(parts) {
				return mismatch("the completed upload has %d parts (ETag %s), %d were sent", n, e, len(parts))
			}
		}
		if n := aws.ToInt32(h.PartsCount); h.PartsCount != nil && int(n) != len(parts) {
			return mismatch("the completed upload has %d parts, %d were sent", n, len(parts))
		}
		if want := multipartETag(parts); want != "" && !opaqueETag(h) {
			for _, e := range []string{etag, aws.ToString(h.ETag)} {
				if _, ok := etagParts(e); ok && strings.Trim(e, `"`) != want && activity.IsActivity(ctx) {
					// AWS documents the ETag as opaque; S3-compatible servers
					// (MinIO with encryption, others) derive it otherwise.
					// Size, part count and checksums decide.
					activity.GetLogger(ctx).Warn("the completed upload's ETag is not the one its parts make (the server computes ETags its own way); size, part count and checksums are checked",
						"object", dest, "etag", e, "partsMake", want)
					break
				}
			}
		}
	}
	return matchChecksums(h, parts, mismatch)
}

// opaqueETag reports whether an object's ETag is not derived from MD5s
// (SSE-KMS, SSE-C).
func opaqueETag(h *s3.HeadObjectOutput) bool {
	return h.SSECustomerAlgorithm != nil || strings.HasPrefix(string(h.ServerSideEncryption), "aws:kms")
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
