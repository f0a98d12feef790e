package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
)

// s3TestTiers make restores take about a second.
var s3TestTiers = map[string]time.Duration{"Expedited": 300 * time.Millisecond, "Standard": time.Second, "Bulk": 2 * time.Second}

// newS3Harness is the real stack for the S3 commands: the local cloud
// (the CLI reaches it through AWS_ENDPOINT_URL) and a worker with the
// notification router consuming the default queue.
func newS3Harness(t *testing.T) (*harness, *localcloud.Cloud, *awsconf.Clients) {
	t.Helper()
	return newS3HarnessWith(t, localcloud.Options{TierDelays: s3TestTiers})
}

// newS3HarnessWith is newS3Harness with the local cloud's options given.
func newS3HarnessWith(t *testing.T, opts localcloud.Options) (*harness, *localcloud.Cloud, *awsconf.Clients) {
	t.Helper()
	cloud, awsc := stacktest.Cloud(t, opts)
	t.Setenv("AWS_ENDPOINT_URL", cloud.URL())
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "no-credentials"))
	ts := testenv.NewTemporal(t)
	stacktest.StartWorker(t, ts, awsc, func(string) string { return "" })
	return &harness{t: t, c: testenv.NewClient(t, ts), ns: ts.GetDefaultNamespace(),
		global: []string{"--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace()}}, cloud, awsc
}

// runWithin runs the CLI with a deadline: a --wait that never ends
// detaches (exit 130) instead of hanging the test.
func (h *harness) runWithin(d time.Duration, args ...string) cliResult {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var stdout, stderr syncBuffer
	code := runCLI(ctx, &stdout, &stderr, nil, append(append([]string{}, h.global...), args...)...)
	return cliResult{code, stdout.String(), stderr.String()}
}

// oneLineErr reports whether stderr is exactly one line.
func oneLineErr(s string) bool {
	return strings.HasSuffix(s, "\n") && strings.Count(s, "\n") == 1
}

func TestS3SetupAndRestoreCommands(t *testing.T) {
	h, cloud, awsc := newS3Harness(t)
	ctx := context.Background()
	const (
		bucket = "cli-archive"
		outB   = "cli-out"
		quietB = "cli-quiet" // never set up: its restores are never notified
		key    = "db/2026-11-30.dump"
		size   = 3<<20 + 777
	)
	for _, b := range []string{bucket, outB, quietB} {
		if err := cloud.S3.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	archived, err := io.ReadAll(detdata.New(42, size))
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.S3.PutArchivedObject(bucket, key, bytes.NewReader(archived), size, "DEEP_ARCHIVE"); err != nil {
		t.Fatal(err)
	}
	plain := []byte("a STANDARD object needs no restore\n")
	if err := cloud.S3.PutObject(bucket, "plain.txt", bytes.NewReader(plain), int64(len(plain)), nil); err != nil {
		t.Fatal(err)
	}
	if err := cloud.S3.PutArchivedObject(quietB, "waits.bin", bytes.NewReader(plain), int64(len(plain)), "GLACIER"); err != nil {
		t.Fatal(err)
	}

	// setup-restore-events twice: created, then found and nothing to change.
	r := h.runWithin(time.Minute, "s3", "setup-restore-events", "--bucket", bucket)
	if r.code != 0 || !strings.Contains(r.stdout, "created  bucket notification "+bucket+"/vigil-restore") ||
		strings.Contains(r.stdout, "nothing to change") || strings.Contains(r.stderr, "note:") {
		t.Fatalf("first setup-restore-events: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = h.runWithin(time.Minute, "s3", "setup-restore-events", "--bucket", bucket)
	if r.code != 0 || !strings.Contains(r.stdout, "found    bucket notification "+bucket+"/vigil-restore") ||
		!strings.Contains(r.stdout, "nothing to change") || strings.Contains(r.stdout, "created") ||
		strings.Contains(r.stdout, "updated") || strings.Contains(r.stderr, "note:") {
		t.Fatalf("second setup-restore-events: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// The queue was recorded in Temporal for running workers.
	q, err := awsc.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(setup.DefaultQueue)})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, "the queue recorded in "+workflows.RouterQueuesWorkflowID, func() bool {
		v, err := h.c.QueryWorkflow(ctx, workflows.RouterQueuesWorkflowID, "", workflows.QueuesQuery)
		var queues []string
		return err == nil && v.Get(&queues) == nil && len(queues) == 1 && queues[0] == aws.ToString(q.QueueUrl)
	})

	// restore --wait of a DEEP_ARCHIVE object to a file. Polling is set to an
	// hour: only the notification can finish it within the deadline.
	dest := filepath.Join(t.TempDir(), "restored", "db.dump")
	id := workflows.S3RestoreWorkflowID(bucket, key)
	before := time.Now()
	r = h.runWithin(2*time.Minute, "s3", "restore", "--bucket", bucket, "--key", key, "--days", "3",
		"--poll-interval", "1h", "--to", "file://"+dest, "--wait")
	if r.code != 0 || !strings.Contains(r.stderr, "started "+id+" (run ") || !strings.Contains(r.stderr, "waiting") ||
		!strings.Contains(r.stderr, "workflow \""+id+"\" completed after") {
		t.Fatalf("restore --wait: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("restore --wait stderr:\n%sstdout:\n%s", r.stderr, r.stdout)
	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, archived) {
		t.Fatalf("restored file: %d bytes, %v; want the archived %d bytes", len(got), err, size)
	}
	var res workflows.S3RestoreResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("restore result on stdout %q: %v", r.stdout, err)
	}
	lo, hi := before.Add(3*24*time.Hour), time.Now().Add(4*24*time.Hour)
	// file:///path: delivered on the host that answered, named in the result.
	host := activities.DefaultHostName()
	if res.Location != "file://"+host+dest || res.Host != host || res.Bytes != size || res.NotArchived ||
		res.Expiry.Before(lo) || res.Expiry.After(hi) || res.Waited.D() < s3TestTiers["Standard"] {
		t.Errorf("restore result %+v; want %d bytes at file://%s%s, expiry in [%v, %v]", res, size, host, dest, lo, hi)
	}

	// A STANDARD object needs no restore (S3 answers
	// ObjectAlreadyInActiveTierError): the run says so and still delivers.
	r = h.runWithin(2*time.Minute, "s3", "restore", "--bucket", bucket, "--key", "plain.txt",
		"--poll-interval", "1h", "--to", "s3://"+outB+"/plain-copy.txt", "--wait")
	if r.code != 0 {
		t.Fatalf("restore of a STANDARD object: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("STANDARD restore stderr:\n%sstdout:\n%s", r.stderr, r.stdout)
	res = workflows.S3RestoreResult{}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("result on stdout %q: %v", r.stdout, err)
	}
	if !res.NotArchived || !res.Expiry.IsZero() || res.Location != "s3://"+outB+"/plain-copy.txt" {
		t.Errorf("STANDARD object result %+v; want notArchived, no expiry, delivered", res)
	}
	out, err := awsc.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(outB), Key: aws.String("plain-copy.txt")})
	if err != nil {
		t.Fatalf("copy of the STANDARD object: %v", err)
	}
	copied, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(copied, plain) {
		t.Errorf("copy of the STANDARD object: %q, %v", copied, err)
	}

	// A second restore of a running one attaches to it. The quiet bucket has
	// no notifications and polling is an hour away, so the first run is
	// still waiting when the second command starts.
	quietID := workflows.S3RestoreWorkflowID(quietB, "waits.bin")
	r1 := h.runWithin(time.Minute, "s3", "restore", "--bucket", quietB, "--key", "waits.bin", "--poll-interval", "1h", "-o", "json")
	r2 := h.runWithin(time.Minute, "s3", "restore", "--bucket", quietB, "--key", "waits.bin", "--poll-interval", "1h", "-o", "json")
	var s1, s2 struct {
		WorkflowID, RunID string
		Attached          bool
	}
	if r1.code != 0 || r2.code != 0 || json.Unmarshal([]byte(r1.stdout), &s1) != nil || json.Unmarshal([]byte(r2.stdout), &s2) != nil ||
		s1.WorkflowID != quietID || s1.RunID == "" || s2.WorkflowID != s1.WorkflowID || s2.RunID != s1.RunID || s1.Attached || !s2.Attached {
		t.Fatalf("two starts of one restore: exit %d %q / exit %d %q; want the same run", r1.code, r1.stdout, r2.code, r2.stdout)
	}
	desc, err := h.c.DescribeWorkflowExecution(ctx, quietID, "")
	if err != nil || desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING ||
		desc.GetWorkflowExecutionInfo().GetExecution().GetRunId() != s1.RunID {
		t.Fatalf("describe %s: %v, %v; want run %s running", quietID, desc.GetWorkflowExecutionInfo(), err, s1.RunID)
	}
	if err := h.c.CancelWorkflow(ctx, quietID, s1.RunID); err != nil {
		t.Fatal(err)
	}

	// Missing targets exit 3 (not found) with one line, before any workflow starts.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"s3", "restore", "--bucket", "no-such-bucket", "--key", key}, "no such object s3://no-such-bucket/" + key},
		{[]string{"s3", "restore", "--bucket", bucket, "--key", key, "--to", "s3://no-such-out/x"}, "destination bucket \"no-such-out\""},
	} {
		r := h.runWithin(time.Minute, tc.args...)
		if r.code != 3 || !oneLineErr(r.stderr) || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("starter %v: exit %d, stdout %q, stderr %q; want 3 and one line with %q", tc.args, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	// setup-restore-events for a missing bucket is bad input, like restore.
	r = h.runWithin(time.Minute, "s3", "setup-restore-events", "--bucket", "no-such-bucket")
	if r.code != 3 || !oneLineErr(r.stderr) || !strings.Contains(r.stderr, `no such bucket "no-such-bucket"`) || r.stdout != "" {
		t.Errorf("setup-restore-events of a missing bucket: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := h.c.DescribeWorkflowExecution(ctx, workflows.S3RestoreWorkflowID("no-such-bucket", key), ""); err == nil {
		t.Error("a restore of a missing bucket started a workflow")
	}
}
