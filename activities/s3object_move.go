package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// MoveObjectInput moves an object version to an archive or dead-letter
// location.
type MoveObjectInput struct {
	Object flowdata.S3ObjectRef `json:"object"`
	// DestBucket and DestKey are where the copy goes.
	DestBucket string `json:"destBucket"`
	DestKey    string `json:"destKey"`
	// Error, when set, is stored in the copy's metadata (vigil-error): a
	// dead-letter move.
	Error string `json:"error,omitempty"`
}

// MoveObjectResult says where the object went.
type MoveObjectResult struct {
	Location string `json:"location"`
	// AlreadyMoved tells that an earlier attempt had moved it.
	AlreadyMoved bool `json:"alreadyMoved,omitempty"`
	// SourceKept tells that the copy was made but the source was not
	// deleted: a newer version had replaced it after the copy (the
	// conditional delete failed), which its own run processes.
	SourceKept bool `json:"sourceKept,omitempty"`
}

// MoveObject copies the object version (only if it still has the run's
// ETag: CopySourceIfMatch), checks the copy (ETag when copied in one
// CopyObject of a single-part object, and size), then deletes the source
// only if it still is that version (If-Match; see deleteSource). The copy
// is one CopyObject up to MaxCopyObjectSize, heartbeating while S3 copies,
// and above it CopyInParts (UploadPartCopy parts, each conditional on the
// ETag). A retry after the source was deleted finds the copy and
// succeeds. A source replaced before or during the copy is an
// ObjectChanged error; replaced after it, the result says SourceKept.
func (a *S3Object) MoveObject(ctx context.Context, in MoveObjectInput) (MoveObjectResult, error) {
	o := in.Object
	loc := "s3://" + in.DestBucket + "/" + in.DestKey
	src := fmt.Sprintf("s3://%s/%s", o.Bucket, o.Key)
	head, err := a.head(ctx, o.Bucket, o.Key, o.VersionID)
	if err != nil {
		return MoveObjectResult{}, err
	}
	if head == nil {
		d, err := a.head(ctx, in.DestBucket, in.DestKey, "")
		if err != nil {
			return MoveObjectResult{}, err
		}
		if d != nil && sameVersion(o.ETag, unquote(aws.ToString(d.ETag))) {
			return MoveObjectResult{Location: loc, AlreadyMoved: true}, nil
		}
		return MoveObjectResult{}, temporal.NewNonRetryableApplicationError(src+" is gone and "+loc+" does not hold it", ErrTypeNotFound, nil)
	}
	etag := unquote(aws.ToString(head.ETag))
	if o.ETag != "" && etag != unquote(o.ETag) {
		return MoveObjectResult{}, temporal.NewNonRetryableApplicationError(src+" was replaced by another version", ErrTypeObjectChanged, nil)
	}
	var md map[string]string
	if in.Error != "" {
		md = map[string]string{}
		for k, v := range head.Metadata {
			md[k] = v
		}
		md[ErrorMetadataKey] = metadataValue(in.Error)
	}
	inParts, err := a.copyObject(ctx, in, head, md)
	if err != nil {
		return MoveObjectResult{}, err
	}
	d, err := a.head(ctx, in.DestBucket, in.DestKey, "")
	if err != nil {
		return MoveObjectResult{}, err
	}
	switch {
	case d == nil:
		return MoveObjectResult{}, fmt.Errorf("copy %s not found after the copy", loc)
	case aws.ToInt64(d.ContentLength) != aws.ToInt64(head.ContentLength):
		return MoveObjectResult{}, a.discardCopy(ctx, in, d, fmt.Sprintf("copy %s has %d bytes, source %d", loc,
			aws.ToInt64(d.ContentLength), aws.ToInt64(head.ContentLength)))
	case !inParts && !strings.Contains(etag, "-") && unquote(aws.ToString(d.ETag)) != etag:
		return MoveObjectResult{}, a.discardCopy(ctx, in, d, fmt.Sprintf("copy %s has ETag %s, source %s", loc,
			unquote(aws.ToString(d.ETag)), etag))
	}
	kept, err := a.deleteSource(ctx, o, etag)
	if err != nil {
		return MoveObjectResult{}, err
	}
	return MoveObjectResult{Location: loc, SourceKept: kept}, nil
}

// discardCopy deletes a copy that failed its check (only that version:
// If-Match its ETag), so that no unverified copy stays beside the source,
// and returns the ChecksumMismatch error msg describes, saying whether the
// copy is gone.
func (a *S3Object) discardCopy(ctx context.Context, in MoveObjectInput, d *s3.HeadObjectOutput, msg string) error {
	_, err := a.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(in.DestBucket), Key: aws.String(in.DestKey),
		IfMatch: aws.String(`"` + unquote(aws.ToString(d.ETag)) + `"`)})
	if err != nil && !isNotFound(err) {
		activity.GetLogger(ctx).Warn("the copy that failed its check was not deleted", "bucket", in.DestBucket, "key", in.DestKey, "error", err)
		msg += "; the copy was not deleted: " + err.Error()
	} else {
		msg += "; the copy was deleted"
	}
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeChecksumMismatch, nil)
}

// copyObject copies the version head describes to the destination, with
// its metadata replaced by md when md is not nil, and tells whether it
// was copied in parts (a copy of a single-part object then has another
// ETag than its source).
func (a *S3Object) copyObject(ctx context.Context, in MoveObjectInput, head *s3.HeadObjectOutput, md map[string]string) (inParts bool, err error) {
	o := in.Object
	op := fmt.Sprintf("S3 CopyObject s3://%s/%s to s3://%s/%s", o.Bucket, o.Key, in.DestBucket, in.DestKey)
	limit := a.copyLimit
	if limit <= 0 {
		limit = MaxCopyObjectSize
	}
	if size := aws.ToInt64(head.ContentLength); size > limit {
		_, err := CopyInParts(ctx, a.Client, PartCopy{Bucket: o.Bucket, Key: o.Key, VersionID: o.VersionID, Source: head, Metadata: md,
			DestBucket: in.DestBucket, DestKey: in.DestKey, MinPartSize: a.partSize})
		return true, err
	}
	req := &s3.CopyObjectInput{Bucket: aws.String(in.DestBucket), Key: aws.String(in.DestKey),
		CopySource: aws.String(CopySource(o.Bucket, o.Key, o.VersionID)), CopySourceIfMatch: aws.String(`"` + unquote(aws.ToString(head.ETag)) + `"`)}
	if md != nil {
		// REPLACE keeps nothing of the source's: carry over what COPY would.
		req.Metadata, req.MetadataDirective = md, s3types.MetadataDirectiveReplace
		req.ContentType, req.ContentEncoding, req.ContentDisposition = head.ContentType, head.ContentEncoding, head.ContentDisposition
		req.ContentLanguage, req.CacheControl = head.ContentLanguage, head.CacheControl
	}
	stop := heartbeatWhile(ctx, aws.ToInt64(head.ContentLength))
	_, err = a.Client.CopyObject(ctx, req)
	stop()
	if isPreconditionFailed(err) {
		return false, temporal.NewNonRetryableApplicationError(op+": the source was replaced by another version", ErrTypeObjectChanged, err)
	}
	return false, Classify(op, err)
}

// deleteSource deletes the moved version of the source. Without a version
// id the delete is conditional on the ETag (If-Match): when a newer
// version was written under the key after the copy, S3 answers 412
// PreconditionFailed, the newer version stays (its own run processes it)
// and deleteSource reports it kept. A source already gone (an earlier
// attempt deleted it) is fine.
func (a *S3Object) deleteSource(ctx context.Context, o flowdata.S3ObjectRef, etag string) (kept bool, err error) {
	del := &s3.DeleteObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Key)}
	if o.VersionID != "" {
		del.VersionId = aws.String(o.VersionID)
	} else {
		del.IfMatch = aws.String(`"` + etag + `"`)
	}
	_, err = a.Client.DeleteObject(ctx, del)
	var api smithy.APIError
	switch {
	case err == nil, isNotFound(err):
		return false, nil
	case errors.As(err, &api) && api.ErrorCode() == "PreconditionFailed":
		activity.GetLogger(ctx).Info("not deleting the source: a newer version was written after the copy",
			"bucket", o.Bucket, "key", o.Key, "etag", etag)
		return true, nil
	}
	return false, Classify(fmt.Sprintf("S3 DeleteObject s3://%s/%s", o.Bucket, o.Key), err)
}

// metadataValue makes an error message fit S3 user metadata: printable
// ASCII, at most 1 KiB.
func metadataValue(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < unicode.MaxASCII && unicode.IsPrint(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
		if b.Len() >= 1024 {
			break
		}
	}
	return b.String()
}
