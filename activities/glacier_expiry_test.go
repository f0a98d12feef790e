package activities_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestDownloadRangeExpiryIsOnlyAGoneJob: GetJobOutput answering that the
// job is gone is JobOutputExpired (the workflow retrieves again); a
// NoSuchUpload from the S3 destination is NotFound, not expiry.
func TestDownloadRangeExpiryIsOnlyAGoneJob(t *testing.T) {
	a := retrieveArchive(t, 2*mib)
	env, _ := a.env(nil)
	gone := *a
	gone.job.JobID = "a-job-glacier-forgot"
	_, err := gone.download(env, 0, flowdata.ByteRange{Start: 0, End: mib - 1})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeJobExpired {
		t.Fatalf("download of a gone job: %v, want %s", err, activities.ErrTypeJobExpired)
	}

	ctx := context.Background()
	if _, err := a.clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("out")}); err != nil {
		t.Fatal(err)
	}
	toS3 := *a
	toS3.prepared = activities.Prepared{Dest: location.Location{Scheme: location.S3, Bucket: "out", Key: "x"}, Size: 2 * mib, UploadID: "no-such-upload"}
	env, _ = a.env(nil)
	_, err = toS3.download(env, 0, flowdata.ByteRange{Start: 0, End: mib - 1})
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeNotFound {
		t.Fatalf("upload to a missing multipart upload: %v, want %s", err, activities.ErrTypeNotFound)
	}
}

// TestAbortDestinationRemovesWhatWasLeft: a partial file is removed, an
// open multipart upload (by ID, or found by key when the ID is unknown) is
// aborted, and the result says what; nothing left is not an error.
func TestAbortDestinationRemovesWhatWasLeft(t *testing.T) {
	a := retrieveArchive(t, mib)
	ctx := context.Background()
	sinks := &activities.Sinks{S3: a.clients.S3}
	res, err := sinks.AbortDestination(ctx, a.prepared)
	if err != nil || len(res.Removed) != 1 || res.Removed[0] != "partial file "+a.partial() {
		t.Fatalf("abort of the file: %+v, %v", res, err)
	}
	if res, err := sinks.AbortDestination(ctx, a.prepared); err != nil || len(res.Removed) != 0 {
		t.Errorf("second abort: %+v, %v; want nothing removed", res, err)
	}
	if _, err := a.clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("out")}); err != nil {
		t.Fatal(err)
	}
	for _, byID := range []bool{true, false} {
		up, err := a.clients.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("out"), Key: aws.String("x")})
		if err != nil {
			t.Fatal(err)
		}
		p := activities.Prepared{Dest: location.Location{Scheme: location.S3, Bucket: "out", Key: "x"}}
		if byID {
			p.UploadID = aws.ToString(up.UploadId)
		}
		res, err := sinks.AbortDestination(ctx, p)
		if err != nil || len(res.Removed) != 1 {
			t.Errorf("abort (by id %v): %+v, %v", byID, res, err)
		}
		list, err := a.clients.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("out")})
		if err != nil || len(list.Uploads) != 0 {
			t.Errorf("uploads left after abort (by id %v): %+v, %v", byID, list, err)
		}
	}
}
