package activities_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestMoveObjectInParts moves objects above the CopyObject limit (lowered:
// tests do not move 5 GiB) with the real SDK client against the local S3:
// an archive and a dead-letter move go through UploadPartCopy parts with
// the source's content headers and metadata (plus the error for the dead
// letter), delete the source and leave no upload; a retry aborts the
// upload of the attempt before it (its worker died); a source replaced
// between two parts fails the move for good (ObjectChanged), its upload
// aborted, no copy written and the new version kept.
func TestMoveObjectInParts(t *testing.T) {
	const limit, partSize = 1 << 20, 5 << 20
	rec := &s3Calls{}
	cloud, c := stacktest.Cloud(t, localcloud.Options{Wrap: rec.wrap})
	ctx := context.Background()
	if err := cloud.S3.CreateBucket("copy-inbox"); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 2*partSize+54_321) // three parts
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	put := func(key string, b []byte) string {
		t.Helper()
		out, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("copy-inbox"), Key: aws.String(key), Body: bytes.NewReader(b),
			ContentType: aws.String("application/x-tar"), Metadata: map[string]string{"owner": "ops"}})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Trim(aws.ToString(out.ETag), `"`)
	}
	var suite testsuite.WorkflowTestSuite
	// move runs MoveObject; details are the heartbeat of a previous attempt.
	move := func(client activities.S3ObjectAPI, in activities.MoveObjectInput, details ...any) (activities.MoveObjectResult, error) {
		a := &activities.S3Object{Client: client}
		activities.SetMoveCopyLimits(a, limit, partSize)
		env := suite.NewTestActivityEnvironment()
		if len(details) > 0 {
			env.SetHeartbeatDetails(details[0])
		}
		a.Register(env)
		v, err := env.ExecuteActivity(activities.MoveObjectName, in)
		var res activities.MoveObjectResult
		if err == nil {
			err = v.Get(&res)
		}
		return res, err
	}
	notFound := func(key string) bool {
		_, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("copy-inbox"), Key: aws.String(key)})
		var api smithy.APIError
		return errors.As(err, &api) && api.ErrorCode() == "NotFound"
	}
	noUploads := func(what string) {
		t.Helper()
		ups, err := c.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("copy-inbox")})
		if err != nil {
			t.Fatal(err)
		}
		if len(ups.Uploads) != 0 {
			t.Errorf("%s: %d multipart uploads left", what, len(ups.Uploads))
		}
	}

	for _, tc := range []struct{ name, key, dest, errText string }{
		{"archive", "incoming/big dump+1.tar", "bak/incoming/big dump+1.tar", ""},
		{"dead letter", "incoming/bad dump.tar", "failed/incoming/bad dump.tar", "HTTP 422: é bad"},
	} {
		obj := flowdata.S3ObjectRef{Bucket: "copy-inbox", Key: tc.key, ETag: put(tc.key, body)}
		rec.take()
		res, err := move(c.S3, activities.MoveObjectInput{Object: obj, DestBucket: "copy-inbox", DestKey: tc.dest, Error: tc.errText})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Location != "s3://copy-inbox/"+tc.dest || res.AlreadyMoved || res.SourceKept {
			t.Errorf("%s: result %+v", tc.name, res)
		}
		calls := rec.take()
		if count(calls, "CopyObject") != 0 || count(calls, "CreateMultipartUpload") != 1 || count(calls, "UploadPartCopy ") != 3 ||
			count(calls, "CompleteMultipartUpload") != 1 || count(calls, "AbortMultipartUpload") != 0 {
			t.Errorf("%s: requests %q, want a multipart upload of 3 UploadPartCopy parts", tc.name, calls)
		}
		if got := getBody(t, c.S3, "copy-inbox", tc.dest); got != string(body) {
			t.Errorf("%s: the copy's %d bytes differ from the source's %d", tc.name, len(got), len(body))
		}
		h, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("copy-inbox"), Key: aws.String(tc.dest)})
		if err != nil {
			t.Fatal(err)
		}
		wantErr := map[bool]string{true: "HTTP 422: ? bad", false: ""}[tc.errText != ""]
		if aws.ToString(h.ContentType) != "application/x-tar" || h.Metadata["owner"] != "ops" || h.Metadata[activities.ErrorMetadataKey] != wantErr {
			t.Errorf("%s: copy has content type %q, metadata %v; want the source's (and error %q)", tc.name, aws.ToString(h.ContentType), h.Metadata, wantErr)
		}
		if !notFound(tc.key) {
			t.Errorf("%s: the source is still there", tc.name)
		}
		noUploads(tc.name)
	}

	// A retry after the worker died mid-copy aborts the upload the dead
	// attempt heartbeated, and copies again.
	key := "incoming/retried.tar"
	obj := flowdata.S3ObjectRef{Bucket: "copy-inbox", Key: key, ETag: put(key, body)}
	dead, err := c.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("copy-inbox"), Key: aws.String("bak/" + key)})
	if err != nil {
		t.Fatal(err)
	}
	if ups, err := c.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("copy-inbox")}); err != nil || len(ups.Uploads) != 1 {
		t.Fatalf("the dead attempt's upload is not listed: %v %v", ups, err)
	}
	rec.take()
	if _, err := move(c.S3, activities.MoveObjectInput{Object: obj, DestBucket: "copy-inbox", DestKey: "bak/" + key},
		activities.PartCopyProgress{Bucket: "copy-inbox", Key: "bak/" + key, UploadID: aws.ToString(dead.UploadId), Done: partSize}); err != nil {
		t.Fatalf("retried move: %v", err)
	}
	if calls := rec.take(); count(calls, "AbortMultipartUpload") != 1 || count(calls, "CompleteMultipartUpload") != 1 {
		t.Errorf("retried move: requests %q, want the dead attempt's upload aborted and a new one completed", calls)
	}
	noUploads("retried move")

	// The source replaced between part 1 and part 2.
	key = "incoming/replaced.tar"
	obj = flowdata.S3ObjectRef{Bucket: "copy-inbox", Key: key, ETag: put(key, body)}
	newer := append([]byte("v2 "), body...)
	racy := &replacingParts{Client: c.S3, replace: func() error {
		_, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("copy-inbox"), Key: aws.String(key), Body: bytes.NewReader(newer)})
		return err
	}}
	rec.take()
	_, err = move(racy, activities.MoveObjectInput{Object: obj, DestBucket: "copy-inbox", DestKey: "bak/" + key})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeObjectChanged || !appErr.NonRetryable() {
		t.Fatalf("source replaced during the copy: %v, want non-retryable %s", err, activities.ErrTypeObjectChanged)
	}
	if calls := rec.take(); count(calls, "UploadPartCopy ") != 2 || count(calls, "AbortMultipartUpload") != 1 || count(calls, "CompleteMultipartUpload") != 0 {
		t.Errorf("source replaced during the copy: requests %q, want part 2 refused and the upload aborted", calls)
	}
	noUploads("source replaced during the copy")
	if !notFound("bak/" + key) {
		t.Error("source replaced during the copy: a copy was written")
	}
	if got := getBody(t, c.S3, "copy-inbox", key); got != string(newer) {
		t.Errorf("source replaced during the copy: the newer version was changed or deleted (%d bytes)", len(got))
	}
}

// replacingParts runs replace (a producer overwriting the object) right
// after the first UploadPartCopy succeeded.
type replacingParts struct {
	*s3.Client
	replace func() error
	done    atomic.Bool
}

func (r *replacingParts) UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, opts ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error) {
	out, err := r.Client.UploadPartCopy(ctx, in, opts...)
	if err == nil && r.done.CompareAndSwap(false, true) {
		if rerr := r.replace(); rerr != nil {
			return nil, fmt.Errorf("replacing the source: %w", rerr)
		}
	}
	return out, err
}
