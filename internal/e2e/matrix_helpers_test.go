package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
	activitypb "go.temporal.io/api/activity/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// execute starts a workflow and waits for its outcome.
func (m *matrixStack) execute(t *testing.T, id, name string, in any, out any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := m.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, name, in)
	if err != nil {
		t.Fatal(err)
	}
	return r.Get(ctx, out)
}

// waitStatus queries a run's status until ok holds (deadline 2 min).
func waitStatus(t *testing.T, c client.Client, id string, ok func(workflows.Status) bool) workflows.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var last workflows.Status
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if v, err := c.QueryWorkflow(ctx, id, "", workflows.StatusQuery); err == nil {
			var s workflows.Status
			if v.Get(&s) == nil {
				last = s
				if ok(s) {
					return s
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: status never showed what was expected; last: %+v", id, last)
		case <-tick.C:
		}
	}
}

// lastAttempt is the highest attempt any activity of the run started.
func lastAttempt(t *testing.T, c client.Client, id string) int32 {
	t.Helper()
	var n int32
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		must(t, err)
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.GetAttempt() > n {
			n = a.GetAttempt()
		}
	}
	return n
}

// alertsColored counts the Slack messages of one colour the sink got.
func alertsColored(t *testing.T, cloud *localcloud.Cloud, color string) int {
	t.Helper()
	n := 0
	for _, msg := range cloud.Slack.Messages() {
		p, err := msg.Decode()
		must(t, err)
		for _, a := range p.Attachments {
			if a.Color == color {
				n++
				break
			}
		}
	}
	return n
}

// mountOrSkip mounts a small file system for a local-failure case: "ro" a
// read-only bind mount of an empty directory (EROFS), "tmpfs-1m" a 1 MiB
// tmpfs (ENOSPC). It needs root and mount permission; without them the
// case is skipped with the reason.
func mountOrSkip(t *testing.T, kind string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), kind)
	must(t, os.Mkdir(dir, 0o755))
	var err error
	switch kind {
	case "ro":
		if err = syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err == nil {
			if err = syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
				_ = syscall.Unmount(dir, 0)
			}
		}
	case "tmpfs-1m":
		err = syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0700")
	}
	if err != nil {
		t.Skipf("cannot mount the %s file system this case needs (root and mount permission): %v", kind, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// statusServer answers each request with the next of codes (then 200) and
// counts the requests.
func statusServer(t *testing.T, codes ...int) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		i := int(n.Add(1)) - 1
		if i < len(codes) {
			w.WriteHeader(codes[i])
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// quickRetry retries a job every 200 ms, at most 5 times.
var quickRetry = &flowdata.JobRetry{InitialInterval: flowdata.Duration(200 * time.Millisecond), BackoffCoefficient: 1, MaximumAttempts: 5}

func batchTransient(t *testing.T, m *matrixStack) (string, error) {
	srv, n := statusServer(t, 503, 503)
	id := fmt.Sprintf("matrix-batch-%d", time.Now().UnixNano())
	var res workflows.BatchJobResult
	err := m.execute(t, id, workflows.BatchJobName, workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "m", Kind: "http",
		HTTP: &flowdata.HTTPJob{URL: srv.URL + "/run"}, Retry: quickRetry}}, &res)
	if err == nil && (res.Attempts != 3 || n.Load() != 3) {
		t.Errorf("completed after %d attempts and %d requests, want 3 and 3", res.Attempts, n.Load())
	}
	return id, err
}

func batchPermanent(t *testing.T, m *matrixStack) (string, error) {
	srv, n := statusServer(t, 404, 404, 404, 404, 404)
	id := fmt.Sprintf("matrix-batch-404-%d", time.Now().UnixNano())
	err := m.execute(t, id, workflows.BatchJobName, workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "m", Kind: "http",
		HTTP: &flowdata.HTTPJob{URL: srv.URL + "/run"}, Retry: quickRetry}}, nil)
	if got := n.Load(); got != 1 {
		t.Errorf("the endpoint got %d requests, want 1 (a 404 is not retried)", got)
	}
	return id, err
}

func s3ObjectPermanent(t *testing.T, m *matrixStack) (string, error) {
	srv, _ := statusServer(t, 422, 422, 422, 422, 422)
	const key = "incoming/bad.csv"
	put, err := m.aws.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(matrixBucket), Key: aws.String(key), Body: strings.NewReader("a,b\n")})
	must(t, err)
	obj := flowdata.S3ObjectRef{Bucket: matrixBucket, Key: key, ETag: strings.Trim(aws.ToString(put.ETag), `"`), Size: 4}
	id := flowdata.S3ObjectWorkflowID(obj.Bucket, obj.Key, obj.ETag)
	err = m.execute(t, id, workflows.S3ObjectName, flowdata.S3ObjectInput{Object: obj, Source: flowdata.SourceManual, Pipeline: flowdata.Pipeline{
		Name: "m", Processor: flowdata.Processor{Kind: "http", HTTP: &flowdata.HTTPProcessor{URL: srv.URL + "/process"}},
		Archive: &flowdata.S3Location{Prefix: "bak/"}, DeadLetter: &flowdata.S3Location{Prefix: "failed/"}, Retry: quickRetry}}, nil)
	if _, herr := m.aws.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(matrixBucket), Key: aws.String(key)}); herr == nil {
		t.Errorf("the source %s is still there after the run failed", key)
	}
	dl, derr := m.aws.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(matrixBucket), Key: aws.String("failed/" + key)})
	if derr != nil {
		t.Errorf("no dead-letter copy: %v", derr)
	} else if dl.Metadata["vigil-error"] == "" {
		t.Errorf("the dead-letter copy carries no error: metadata %v", dl.Metadata)
	}
	return id, err
}

// quickenRetries makes the retries of every pending activity of run id
// quick (200 ms apart) through the server's UpdateActivityOptions API, so
// a case can reach the FailingAlertAttempts-th attempt in seconds; the
// attempt limit stays the flow's own.
func quickenRetries(t *testing.T, c client.Client, namespace, id string) {
	t.Helper()
	ctx := context.Background()
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	must(t, err)
	for _, a := range desc.PendingActivities {
		_, err := c.WorkflowService().UpdateActivityOptions(ctx, &workflowservice.UpdateActivityOptionsRequest{
			Namespace: namespace, Execution: desc.WorkflowExecutionInfo.GetExecution(),
			Identity: "e2e-matrix", Activity: &workflowservice.UpdateActivityOptionsRequest_Id{Id: a.ActivityId},
			ActivityOptions: &activitypb.ActivityOptions{RetryPolicy: &commonpb.RetryPolicy{InitialInterval: durationpb.New(200 * time.Millisecond),
				BackoffCoefficient: 1, MaximumInterval: durationpb.New(200 * time.Millisecond)}},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"retry_policy.initial_interval", "retry_policy.backoff_coefficient", "retry_policy.maximum_interval"}},
		})
		must(t, err)
	}
}
