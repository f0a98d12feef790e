package activities

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/vigilops/vigil/internal/location"
	"go.temporal.io/sdk/activity"
)

// Clean-up of a destination that will not be finished: partial files and
// open multipart uploads.

// AbortResult says what AbortDestination removed.
type AbortResult struct {
	// Removed lists what was cleaned up: "partial file /x.vigil-partial",
	// "multipart upload U of s3://b/k". Empty when nothing was left.
	Removed []string `json:"removed,omitempty"`
}

// String is the clean-up in one phrase for messages.
func (r AbortResult) String() string {
	if len(r.Removed) == 0 {
		return "nothing to clean up"
	}
	return "removed " + strings.Join(r.Removed, ", ")
}

// AbortDestination removes a partial file or aborts a multipart upload
// (uploads cost money until aborted). Without an upload ID (a delivery
// whose upload was started inside one activity) it aborts every upload
// still open for the destination key. Nothing left is not an error.
func (a *Sinks) AbortDestination(ctx context.Context, p Prepared) (AbortResult, error) {
	var res AbortResult
	switch p.Dest.Scheme {
	case location.File:
		partials := []string{p.PartialPath()}
		if p.Partial == "" && activity.IsActivity(ctx) {
			// A delivery that names its partial file for its workflow
			// (S3 restore) passes only the destination.
			partials = append(partials, partialFor(p.Dest.Path, activity.GetInfo(ctx).WorkflowExecution.ID))
		}
		for _, partial := range partials {
			removed, err := removePresent(partial)
			if err != nil {
				return res, err
			}
			if removed {
				res.Removed = append(res.Removed, "partial file "+partial)
			}
			if err := removeIdentity(partial); err != nil {
				return res, err
			}
		}
	case location.S3:
		ids := []string{p.UploadID}
		if p.UploadID == "" {
			var err error
			if ids, err = a.openUploads(ctx, p.Dest); err != nil {
				return res, err
			}
		}
		for _, id := range ids {
			_, err := a.S3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: aws.String(p.Dest.Bucket), Key: aws.String(p.Dest.Key), UploadId: aws.String(id)})
			if isAPICode(err, "NoSuchUpload") {
				continue // aborted (or completed) already
			}
			if err != nil {
				return res, Classify("S3 AbortMultipartUpload "+p.Dest.String(), err)
			}
			res.Removed = append(res.Removed, "multipart upload "+id+" of "+p.Dest.String())
		}
	}
	return res, nil
}

// openUploads lists the multipart uploads open for dest's key.
func (a *Sinks) openUploads(ctx context.Context, dest location.Location) ([]string, error) {
	var ids []string
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(dest.Bucket), Prefix: aws.String(dest.Key)}
	for {
		out, err := a.S3.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, Classify("S3 ListMultipartUploads "+dest.String(), err)
		}
		for _, u := range out.Uploads {
			if aws.ToString(u.Key) == dest.Key {
				ids = append(ids, aws.ToString(u.UploadId))
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return ids, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// removePresent removes path if it is there. A path that is not there is
// looked up first: on a read-only file system, unlink answers EROFS even
// for a name that does not exist, and a clean-up with nothing to remove
// must not report a failure.
func removePresent(path string) (bool, error) {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	return true, nil
}
