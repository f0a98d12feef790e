package activities_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// #19: S3 HeadObject answering 400 (S3 sends no body for a HEAD, so the
// SDK knows only "BadRequest") was retried for ever in S3Object runs. The
// check now fails at once, non-retryable, naming the object.
func TestCheckObjectHead400IsPermanent(t *testing.T) {
	cloud, _ := stacktest.Cloud(t, localcloud.Options{})
	target, err := url.Parse(cloud.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusBadRequest) // HeadObject's 400 InvalidArgument, as S3 sends it
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	c := awsconf.NewClients(awsconf.Local(front.URL))
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("inbox")}); err != nil {
		t.Fatal(err)
	}
	etag := putObject(t, c.S3, "inbox", "incoming/a.csv", "a")
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	(&activities.S3Object{Client: c.S3}).Register(env)
	_, err = env.ExecuteActivity(activities.CheckObjectName, activities.S3ObjectCheckInput{
		Object: flowdata.S3ObjectRef{Bucket: "inbox", Key: "incoming/a.csv", ETag: etag}})
	if permanentType(err) != activities.ErrTypeBadInput {
		t.Fatalf("CheckObject with HeadObject answering 400: %v, want non-retryable %s", err, activities.ErrTypeBadInput)
	}
	if !strings.Contains(err.Error(), "HeadObject s3://inbox/incoming/a.csv") {
		t.Errorf("the error does not name the operation and the object: %v", err)
	}
}

// #19: `glacier retrieve` of an archive that does not exist failed as
// "delivery failed"; InitiateJob now says what was not found where.
func TestInitiateJobUnknownArchive(t *testing.T) {
	cloud, c := stacktest.Cloud(t, localcloud.Options{})
	if err := cloud.Glacier.CreateVault("demo-vault"); err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	ga := &activities.Glacier{Client: c.Glacier}
	ga.Register(env)
	_, err := env.ExecuteActivity(ga.InitiateJob, activities.InitiateJobInput{Job: flowdata.GlacierJob{AccountID: "-", Vault: "demo-vault"},
		ArchiveID: "no-such-archive", Tier: "Expedited", Description: "glacier/demo-vault/no-such-archive"})
	if permanentType(err) != activities.ErrTypeNotFound {
		t.Fatalf("InitiateJob of an unknown archive: %v, want non-retryable %s", err, activities.ErrTypeNotFound)
	}
	if !strings.Contains(err.Error(), "Glacier InitiateJob: archive no-such-archive not found in vault demo-vault") {
		t.Errorf("message %q does not say which archive is missing where", err.Error())
	}
	_, err = env.ExecuteActivity(ga.InitiateJob, activities.InitiateJobInput{Job: flowdata.GlacierJob{AccountID: "-", Vault: "no-vault"},
		ArchiveID: "x", Description: "glacier/no-vault/x"})
	if permanentType(err) != activities.ErrTypeNotFound || !strings.Contains(err.Error(), "no-vault") {
		t.Errorf("InitiateJob in an unknown vault: %v", err)
	}
}

// #19: an S3Object archive move whose copy failed its check left the
// source and the copy. The copy is now deleted and the error says so
// (the workflow then dead-letters the source: s3object_test.go).
func TestMoveObjectDeletesACopyThatFailsItsCheck(t *testing.T) {
	_, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("inbox")}); err != nil {
		t.Fatal(err)
	}
	key := "incoming/x.csv"
	etag := putObject(t, c.S3, "inbox", key, "the source")
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	(&activities.S3Object{Client: &corruptingCopy{Client: c.S3}}).Register(env)
	_, err := env.ExecuteActivity(activities.MoveObjectName, activities.MoveObjectInput{
		Object: flowdata.S3ObjectRef{Bucket: "inbox", Key: key, ETag: etag}, DestBucket: "inbox", DestKey: "bak/" + key})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeChecksumMismatch || !appErr.NonRetryable() {
		t.Fatalf("move with a bad copy: %v, want non-retryable %s", err, activities.ErrTypeChecksumMismatch)
	}
	if !strings.Contains(err.Error(), "the copy was deleted") {
		t.Errorf("the error does not say what became of the copy: %v", err)
	}
	if _, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("inbox"), Key: aws.String("bak/" + key)}); err == nil {
		t.Error("the copy that failed its check is still there")
	}
	if got := getBody(t, c.S3, "inbox", key); got != "the source" {
		t.Errorf("source %q, want it untouched", got)
	}
}

// corruptingCopy makes every CopyObject leave a copy of another size, as
// a copy damaged in flight would be.
type corruptingCopy struct{ *s3.Client }

func (c *corruptingCopy) CopyObject(ctx context.Context, in *s3.CopyObjectInput, opts ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	out, err := c.Client.CopyObject(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	_, err = c.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: in.Bucket, Key: in.Key, Body: bytes.NewReader([]byte("damaged"))})
	return out, err
}
