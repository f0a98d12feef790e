package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// restoreGate holds the first RestoreObject request for one object until
// released, so a second start provably meets a running workflow; it counts
// the RestoreObject requests for that object.
type restoreGate struct {
	path    string // /bucket/key
	reached chan struct{}
	release chan struct{}
	once    sync.Once
	relOnce sync.Once

	mu       sync.Mutex
	restores int
}

func newRestoreGate(bucket, key string) *restoreGate {
	return &restoreGate{path: "/" + bucket + "/" + key, reached: make(chan struct{}), release: make(chan struct{})}
}

func (g *restoreGate) open() { g.relOnce.Do(func() { close(g.release) }) }

func (g *restoreGate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.restores
}

func (g *restoreGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Query().Has("restore") && r.URL.Path == g.path {
			g.mu.Lock()
			g.restores++
			g.mu.Unlock()
			g.once.Do(func() { close(g.reached) })
			select {
			case <-g.release:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// detBytes is a deterministic payload of n bytes.
func detBytes(t *testing.T, seed uint64, n int64) []byte {
	t.Helper()
	b, err := io.ReadAll(detdata.New(seed, n))
	if err != nil || int64(len(b)) != n {
		t.Fatalf("detdata: %d bytes, %v", len(b), err)
	}
	return b
}

func getObject(ctx context.Context, c *awsconf.Clients, bucket, key string) ([]byte, error) {
	out, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// checkExpiry checks that a restored copy's expiry is S3's: days after the
// restore, rounded up to the next midnight UTC.
func checkExpiry(t *testing.T, what string, expiry, before, after time.Time, days int) {
	t.Helper()
	lo := before.Add(time.Duration(days) * 24 * time.Hour)
	hi := after.Add(time.Duration(days+1) * 24 * time.Hour)
	if expiry.IsZero() || expiry.Before(lo) || expiry.After(hi) || !expiry.Equal(expiry.Truncate(24*time.Hour)) {
		t.Errorf("%s: expiry %v, want a midnight UTC between %v and %v", what, expiry, lo, hi)
	}
}

// restoreStatus queries a (possibly closed) run's status.
func restoreStatus(ctx context.Context, t *testing.T, c client.Client, id, runID string) workflows.Status {
	t.Helper()
	v, err := c.QueryWorkflow(ctx, id, runID, workflows.StatusQuery)
	if err != nil {
		t.Fatalf("status of %s: %v", id, err)
	}
	var st workflows.Status
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestS3RestoreEndToEnd: restore-event setup twice (idempotent), then
// archived objects restored through S3 event → SQS → router → signal
// (polling is set to an hour, so only the notification can finish them in
// time): copied to another bucket, downloaded to a file, and restored only;
// a second start of a running restore attaches to it; and a bucket without
// notifications still finishes by HeadObject polling.
func TestS3RestoreEndToEnd(t *testing.T) {
	const (
		bucket   = "e2e-archive"
		outB     = "e2e-out"
		quietB   = "e2e-quiet" // no notification configuration: events are lost
		copyKey  = "db/full 2026-11.dump"
		fileKey  = "db/incr.dump"
		onlyKey  = "logs/2026-11.tar"
		quietKey = "lost/notify.bin"
		size     = 5<<20 + 12345 // not a multiple of the 1 MiB download buffer
	)
	gate := newRestoreGate(bucket, copyKey)
	ts := testenv.NewTemporal(t)
	cloud, awsc := stacktest.Cloud(t, localcloud.Options{TierDelays: fastTiers, Wrap: gate.wrap})
	defer gate.open() // never leave a request held
	stacktest.StartWorker(t, ts, awsc, os.Getenv)
	c := testenv.NewClient(t, ts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	for _, b := range []string{bucket, outB, quietB} {
		if err := cloud.S3.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	payloads := map[string][]byte{}
	for i, o := range []struct{ bucket, key, class string }{
		{bucket, copyKey, "DEEP_ARCHIVE"}, {bucket, fileKey, "DEEP_ARCHIVE"},
		{bucket, onlyKey, "GLACIER"}, {quietB, quietKey, "DEEP_ARCHIVE"},
	} {
		b := detBytes(t, uint64(100+i), size)
		payloads[o.bucket+"/"+o.key] = b
		if err := cloud.S3.PutArchivedObject(o.bucket, o.key, bytes.NewReader(b), size, o.class); err != nil {
			t.Fatal(err)
		}
	}
	// Archived objects really are unreadable before a restore.
	var api smithy.APIError
	if _, err := getObject(ctx, awsc, bucket, fileKey); !errors.As(err, &api) || api.ErrorCode() != "InvalidObjectState" {
		t.Fatalf("GET of an archived object before restore: %v, want InvalidObjectState", err)
	}

	first, err := setup.S3Events(ctx, awsc, setup.RestoreEvents(bucket, setup.DefaultQueue))
	if err != nil {
		t.Fatal(err)
	}
	second, err := setup.S3Events(ctx, awsc, setup.RestoreEvents(bucket, setup.DefaultQueue))
	if err != nil {
		t.Fatal(err)
	}
	if !first.Changed() || second.Changed() || first.QueueURL == "" || first.QueueURL != second.QueueURL {
		t.Fatalf("setup not idempotent:\nfirst  %+v\nsecond %+v", first, second)
	}
	nc, err := awsc.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil || len(nc.QueueConfigurations) != 1 || aws.ToString(nc.QueueConfigurations[0].Id) != "vigil-restore" {
		t.Fatalf("bucket notifications after two setups: %+v, %v; want exactly one vigil-restore", nc, err)
	}

	start := func(in workflows.S3RestoreInput) client.WorkflowRun {
		t.Helper()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: workflows.S3RestoreWorkflowID(in.Bucket, in.Key), TaskQueue: workflows.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		}, workflows.S3RestoreWorkflow, in)
		if err != nil {
			t.Fatalf("starting restore of %s/%s: %v", in.Bucket, in.Key, err)
		}
		return run
	}
	hour := flowdata.Duration(time.Hour)
	before := time.Now()

	// (a) copy to another bucket; its RestoreObject is held at the gate.
	copyIn := workflows.S3RestoreInput{Bucket: bucket, Key: copyKey, Destination: "s3://" + outB + "/restored.bin", PollInterval: hour}
	runA := start(copyIn)
	select {
	case <-gate.reached:
	case <-ctx.Done():
		t.Fatal("the copy restore never sent RestoreObject")
	}
	// A second start while the first is provably running (its RestoreObject
	// is held) attaches to it.
	again := start(copyIn)
	if again.GetRunID() != runA.GetRunID() {
		t.Fatalf("second start of a running restore started run %s, want to attach to %s", again.GetRunID(), runA.GetRunID())
	}
	desc, err := c.DescribeWorkflowExecution(ctx, runA.GetID(), runA.GetRunID())
	if err != nil || desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("describe %s: %v %v, want running", runA.GetID(), desc.GetWorkflowExecutionInfo().GetStatus(), err)
	}

	// (b) download to a file, (c) restore only, (d) notification lost.
	dest := filepath.Join(t.TempDir(), "out", "restored.bin")
	runB := start(workflows.S3RestoreInput{Bucket: bucket, Key: fileKey, Destination: "file://" + dest, PollInterval: hour})
	runC := start(workflows.S3RestoreInput{Bucket: bucket, Key: onlyKey, Days: 2, Tier: flowdata.TierExpedited, PollInterval: hour})
	runD := start(workflows.S3RestoreInput{Bucket: quietB, Key: quietKey, Tier: flowdata.TierExpedited,
		Destination: "s3://" + outB + "/quiet.bin", PollInterval: flowdata.Duration(300 * time.Millisecond)})
	gate.open()

	get := func(run client.WorkflowRun) workflows.S3RestoreResult {
		t.Helper()
		var res workflows.S3RestoreResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatalf("restore %s: %v", run.GetID(), err)
		}
		return res
	}
	resA, resB, resC, resD := get(runA), get(runB), get(runC), get(runD)
	after := time.Now()
	if n := gate.count(); n != 1 {
		t.Errorf("RestoreObject sent %d times for %s, want once (the second start must attach)", n, copyKey)
	}

	// (a) the copy.
	if resA.Location != "s3://"+outB+"/restored.bin" || resA.Bytes != size || resA.NotArchived || resA.Waited.D() < fastTiers["Standard"] {
		t.Errorf("copy result %+v", resA)
	}
	checkExpiry(t, "copy", resA.Expiry, before, after, 7)
	if got, err := getObject(ctx, awsc, outB, "restored.bin"); err != nil || !bytes.Equal(got, payloads[bucket+"/"+copyKey]) {
		t.Errorf("copied object: %d bytes, %v; want the archived %d bytes", len(got), err, size)
	}

	// (b) the download.
	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, payloads[bucket+"/"+fileKey]) {
		t.Errorf("downloaded file: %d bytes, %v; want the archived %d bytes", len(got), err, size)
	}
	// file:///path: delivered on the host that answered, named in the result.
	if host := activities.DefaultHostName(); resB.Location != "file://"+host+dest || resB.Host != host || resB.Bytes != size || resB.NotArchived {
		t.Errorf("download result %+v, want file://%s%s", resB, host, dest)
	}
	checkExpiry(t, "download", resB.Expiry, before, after, 7)
	if left, err := filepath.Glob(dest + "*.vigil-partial*"); err != nil || len(left) > 0 {
		t.Errorf("partial file left behind: %v, %v", left, err)
	}

	// (c) restore only: an expiry, no delivery, and S3 agrees.
	if resC.Location != "" || resC.Bytes != 0 || resC.NotArchived {
		t.Errorf("restore-only result %+v", resC)
	}
	checkExpiry(t, "restore only", resC.Expiry, before, after, 2)
	head, err := awsc.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(onlyKey)})
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := fmt.Sprintf(`ongoing-request="false", expiry-date="%s"`, resC.Expiry.UTC().Format(http.TimeFormat))
	if aws.ToString(head.Restore) != wantHeader || head.StorageClass != "GLACIER" {
		t.Errorf("HeadObject after restore: x-amz-restore %q, class %q; want %q, GLACIER", aws.ToString(head.Restore), head.StorageClass, wantHeader)
	}
	if got, err := getObject(ctx, awsc, bucket, onlyKey); err != nil || !bytes.Equal(got, payloads[bucket+"/"+onlyKey]) {
		t.Errorf("restored copy not readable: %d bytes, %v", len(got), err)
	}

	// The notified runs never polled; the lost-notification run did, and
	// its last poll saw the restore done.
	for _, run := range []client.WorkflowRun{runA, runB, runC} {
		if st := restoreStatus(ctx, t, c, run.GetID(), run.GetRunID()); st.Phase != workflows.PhaseDone || st.LastPoll != "" || st.Details["expiry"] == "" {
			t.Errorf("%s status %+v: want done by notification (no poll) with the expiry", run.GetID(), st)
		}
	}
	if st := restoreStatus(ctx, t, c, runD.GetID(), runD.GetRunID()); st.Phase != workflows.PhaseDone || !strings.HasPrefix(st.LastPoll, "ongoing=false") {
		t.Errorf("lost-notification status %+v: want done by a HeadObject poll", st)
	}
	if resD.Location != "s3://"+outB+"/quiet.bin" || resD.Bytes != size || resD.NotArchived {
		t.Errorf("lost-notification result %+v", resD)
	}
	checkExpiry(t, "lost notification", resD.Expiry, before, after, 7)
	if got, err := getObject(ctx, awsc, outB, "quiet.bin"); err != nil || !bytes.Equal(got, payloads[quietB+"/"+quietKey]) {
		t.Errorf("lost-notification copy: %d bytes, %v", len(got), err)
	}

	// The restore is idempotent: restoring the copied object again, now that
	// it is restored, completes at once with the same copy's expiry.
	runA2 := start(workflows.S3RestoreInput{Bucket: bucket, Key: copyKey, PollInterval: hour})
	if runA2.GetRunID() == runA.GetRunID() {
		t.Fatalf("a restore after the first completed reused its run %s", runA.GetRunID())
	}
	resA2 := get(runA2)
	if resA2.NotArchived || resA2.Location != "" || resA2.Expiry.Before(resA.Expiry) {
		t.Errorf("restore of a restored object: %+v (first %+v)", resA2, resA)
	}
	if n := gate.count(); n != 2 {
		t.Errorf("RestoreObject sent %d times for %s in all, want 2", n, copyKey)
	}
}
