package activities_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestProcessObjectHeartbeatsWhileWaiting: an http processor whose endpoint
// answers after longer than the activity's heartbeat timeout completes:
// ProcessObject heartbeats while it waits (so does a long server-side
// copy), rather than timing out and retrying a processor that works.
func TestProcessObjectHeartbeatsWhileWaiting(t *testing.T) {
	_, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("inbox")}); err != nil {
		t.Fatal(err)
	}
	obj := flowdata.S3ObjectRef{Bucket: "inbox", Key: "incoming/big.csv", ETag: putObject(t, c.S3, "inbox", "incoming/big.csv", "rows")}
	const heartbeatTimeout = 3 * time.Second
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		// The endpoint's work takes over twice the heartbeat timeout.
		select {
		case <-time.After(heartbeatTimeout*2 + heartbeatTimeout/2):
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "imported")
	}))
	defer slow.Close()

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(time.Minute)
	(&activities.S3Object{Client: c.S3, HTTP: slow.Client()}).Register(env)
	wf := func(ctx workflow.Context, in activities.ProcessObjectInput) (activities.JobOutput, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, HeartbeatTimeout: heartbeatTimeout,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
		var out activities.JobOutput
		err := workflow.ExecuteActivity(ctx, activities.ProcessObjectName, in).Get(ctx, &out)
		return out, err
	}
	env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "process-once"})
	env.ExecuteWorkflow("process-once", activities.ProcessObjectInput{Object: obj,
		Processor: flowdata.Processor{Kind: flowdata.ProcessorHTTP, HTTP: &flowdata.HTTPProcessor{URL: slow.URL + "/ingest"}}})
	var out activities.JobOutput
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("a processor slower than the heartbeat timeout failed: %v", err)
	}
	if err := env.GetWorkflowResult(&out); err != nil || out.Summary == "" {
		t.Fatalf("result %+v %v", out, err)
	}
}
