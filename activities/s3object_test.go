package activities_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func putObject(t *testing.T, c *s3.Client, bucket, key, body string) string {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Trim(aws.ToString(out.ETag), `"`)
}

func TestS3ObjectCheckAndMove(t *testing.T) {
	_, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("inbox")}); err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	(&activities.S3Object{Client: c.S3}).Register(env)
	check := func(o flowdata.S3ObjectRef) activities.S3ObjectCheck {
		t.Helper()
		v, err := env.ExecuteActivity(activities.CheckObjectName, activities.S3ObjectCheckInput{Object: o})
		if err != nil {
			t.Fatal(err)
		}
		var res activities.S3ObjectCheck
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	move := func(in activities.MoveObjectInput) (activities.MoveObjectResult, error) {
		v, err := env.ExecuteActivity(activities.MoveObjectName, in)
		var res activities.MoveObjectResult
		if err == nil {
			err = v.Get(&res)
		}
		return res, err
	}
	key := "incoming/a b+c%41 ü.csv"
	v1 := putObject(t, c.S3, "inbox", key, "one")
	old := flowdata.S3ObjectRef{Bucket: "inbox", Key: key, ETag: v1}
	if st := check(old); st.State != activities.ObjectPresent || st.Size != 3 {
		t.Fatalf("check %+v", st)
	}
	v2 := putObject(t, c.S3, "inbox", key, "two!")
	if st := check(old); st.State != activities.ObjectSuperseded || st.ETag != v2 {
		t.Fatalf("check of a replaced version %+v", st)
	}
	var appErr *temporal.ApplicationError
	if _, err := move(activities.MoveObjectInput{Object: old, DestBucket: "inbox", DestKey: "bak/" + key}); !errors.As(err, &appErr) ||
		appErr.Type() != activities.ErrTypeObjectChanged {
		t.Fatalf("move of a replaced version: %v", err)
	}
	cur := flowdata.S3ObjectRef{Bucket: "inbox", Key: key, ETag: v2}
	res, err := move(activities.MoveObjectInput{Object: cur, DestBucket: "inbox", DestKey: "bak/" + key})
	if err != nil || res.Location != "s3://inbox/bak/"+key || res.AlreadyMoved {
		t.Fatalf("move: %+v %v", res, err)
	}
	if st := check(cur); st.State != activities.ObjectProcessed || st.Location != "s3://inbox/bak/"+key {
		t.Fatalf("check after archive %+v", st)
	}
	// A retried move (its first result lost) finds the copy.
	if res, err := move(activities.MoveObjectInput{Object: cur, DestBucket: "inbox", DestKey: "bak/" + key}); err != nil || !res.AlreadyMoved {
		t.Fatalf("retried move: %+v %v", res, err)
	}

	// A newer version written between the archive copy and the delete:
	// the conditional delete leaves it for its own run.
	racy := &racingDeletes{Client: c.S3, t: t}
	renv := suite.NewTestActivityEnvironment()
	(&activities.S3Object{Client: racy}).Register(renv)
	key2 := "incoming/race.csv"
	first := flowdata.S3ObjectRef{Bucket: "inbox", Key: key2, ETag: putObject(t, c.S3, "inbox", key2, "first")}
	v, err := renv.ExecuteActivity(activities.MoveObjectName, activities.MoveObjectInput{Object: first, DestBucket: "inbox", DestKey: "bak/" + key2})
	var raced activities.MoveObjectResult
	if err == nil {
		err = v.Get(&raced)
	}
	if err != nil || !raced.SourceKept || raced.Location != "s3://inbox/bak/"+key2 || racy.newer == "" {
		t.Fatalf("move raced by a newer version: %+v %v (newer %q)", raced, err, racy.newer)
	}
	if got := getBody(t, c.S3, "inbox", key2); got != "second" {
		t.Fatalf("the newer version was deleted or changed: %q", got)
	}
	if got := getBody(t, c.S3, "inbox", "bak/"+key2); got != "first" {
		t.Fatalf("archive copy holds %q", got)
	}
	if st := check(flowdata.S3ObjectRef{Bucket: "inbox", Key: key2, ETag: racy.newer}); st.State != activities.ObjectPresent {
		t.Fatalf("newer version after the raced move: %+v", st)
	}

	// Dead letter: the error goes into the copy's metadata.
	v3 := putObject(t, c.S3, "inbox", "incoming/bad.csv", "bad")
	bad := flowdata.S3ObjectRef{Bucket: "inbox", Key: "incoming/bad.csv", ETag: v3}
	if _, err := move(activities.MoveObjectInput{Object: bad, DestBucket: "inbox", DestKey: "failed/incoming/bad.csv", Error: "HTTP 422: é bad\nline"}); err != nil {
		t.Fatal(err)
	}
	h, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("inbox"), Key: aws.String("failed/incoming/bad.csv")})
	if err != nil || h.Metadata[activities.ErrorMetadataKey] != "HTTP 422: ? bad?line" {
		t.Fatalf("dead letter metadata %v %v", h, err)
	}
	if st := check(bad); st.State != activities.ObjectDeadLettered {
		t.Fatalf("check after dead letter %+v", st)
	}
	if st := check(flowdata.S3ObjectRef{Bucket: "inbox", Key: "incoming/never", ETag: "x"}); st.State != activities.ObjectGone {
		t.Fatalf("check of a missing object %+v", st)
	}
}

// racingDeletes writes a newer version of the key just before the first
// DeleteObject reaches S3, as a producer overwriting a file during its
// archiving would.
type racingDeletes struct {
	*s3.Client
	t     *testing.T
	newer string
}

func (r *racingDeletes) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	if r.newer == "" {
		r.newer = putObject(r.t, r.Client, aws.ToString(in.Bucket), aws.ToString(in.Key), "second")
	}
	return r.Client.DeleteObject(ctx, in, opts...)
}

func getBody(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fakeStarter records the objects a sweep starts and its last
// checkpoint; every third object is already running, every fifth already
// done.
type fakeStarter struct {
	checkpoints
	mu   sync.Mutex
	seen map[string]int
}

// checkpoints keeps a sweep's last checkpoint.
type checkpoints struct {
	cmu  sync.Mutex
	last *activities.SweepProgress
}

func (c *checkpoints) Checkpoint(_ context.Context, details any) error {
	p := details.(activities.SweepProgress)
	c.cmu.Lock()
	defer c.cmu.Unlock()
	c.last = &p
	return nil
}

func (f *fakeStarter) StartObject(_ context.Context, wt, tq string, in flowdata.S3ObjectInput) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if wt != "S3ObjectWorkflow" || tq != "vigil" || in.Source != flowdata.SourceSweep || in.Object.ETag == "" {
		return "", fmt.Errorf("bad start %s %s %+v", wt, tq, in)
	}
	f.seen[in.Object.Key]++
	var i int
	fmt.Sscanf(in.Object.Key, "incoming/obj-%d", &i)
	switch {
	case i%5 == 0:
		return activities.AlreadyDone, nil
	case i%3 == 0:
		return activities.AlreadyRunning, nil
	}
	return activities.StartedRun, nil
}

func TestSweepPagesResumesFromHeartbeat(t *testing.T) {
	_, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("inbox")}); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		putObject(t, c.S3, "inbox", fmt.Sprintf("incoming/bak/old-%02d", i), "x")
	}
	for i := range 25 {
		putObject(t, c.S3, "inbox", fmt.Sprintf("incoming/obj-%02d", i), "x")
	}
	putObject(t, c.S3, "inbox", "elsewhere/x", "x")
	starter := &fakeStarter{seen: map[string]int{}}
	var suite testsuite.WorkflowTestSuite
	in := activities.SweepInput{Bucket: "inbox", Prefix: "incoming/", Exclude: []string{"incoming/bak/"}, Cutoff: time.Now().Add(time.Hour),
		MaxPages: 1, PageSize: 10, WorkflowType: "S3ObjectWorkflow", TaskQueue: "vigil"}
	// Each activity lists one page and "crashes"; its retry gets the same
	// input and the last heartbeat, and goes on from there. The first page
	// is all under the excluded prefix; the second holds obj-00..09.
	var hb *activities.SweepProgress
	for i := range 2 {
		env := suite.NewTestActivityEnvironment()
		(&activities.S3Object{Client: c.S3, Starter: starter}).Register(env)
		if hb != nil {
			env.SetHeartbeatDetails(*hb)
		}
		if _, err := env.ExecuteActivity(activities.SweepPagesName, in); err != nil {
			t.Fatal(err)
		}
		p := starter.last
		if p == nil || p.Done || p.Pending != nil || p.Counts.Pages != int64(i+1) {
			t.Fatalf("checkpoint after page %d: %+v", i+1, p)
		}
		hb = p
	}
	if hb.Counts.Listed != 10 || !strings.HasPrefix(hb.Token, "t:") {
		t.Fatalf("after two pages %+v", hb)
	}
	env := suite.NewTestActivityEnvironment()
	(&activities.S3Object{Client: c.S3, Starter: starter}).Register(env)
	env.SetHeartbeatDetails(*hb)
	in.MaxPages = 100
	v, err := env.ExecuteActivity(activities.SweepPagesName, in)
	if err != nil {
		t.Fatal(err)
	}
	var res activities.SweepProgress
	if err := v.Get(&res); err != nil || !res.Done {
		t.Fatalf("resumed activity %+v %v", res, err)
	}
	// 25 objects: 0,5,10,15,20 done; 3,6,9,12,18,21,24 running; 13 started.
	want := flowdata.S3SweepCounts{Listed: 25, Found: 25, Started: 13, AlreadyRunning: 7, AlreadyDone: 5}
	got := res.Counts
	got.Pages = 0
	if got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	if res.Counts.Pages > 5 {
		t.Errorf("%d pages: the excluded prefix was listed, not skipped", res.Counts.Pages)
	}
	if len(starter.seen) != 25 {
		t.Errorf("started %d objects, want 25", len(starter.seen))
	}
	for k, n := range starter.seen {
		if n != 1 || !strings.HasPrefix(k, "incoming/obj-") {
			t.Errorf("%s started %d times", k, n)
		}
	}
}

// crashStarter starts runs the way a Temporal server would (a second start
// of the same object finds the run; a run records the sweep that started
// it) and keeps the last checkpoint; it fails every start after failAfter,
// as if the worker process had died there.
type crashStarter struct {
	checkpoints
	mu        sync.Mutex
	sweptBy   map[string]string
	failAfter int
	calls     int
}

func (f *crashStarter) StartObject(_ context.Context, _, _ string, in flowdata.S3ObjectInput) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.failAfter > 0 && f.calls > f.failAfter {
		return "", errors.New("worker killed")
	}
	by, ok := f.sweptBy[in.Object.Key]
	switch {
	case !ok:
		f.sweptBy[in.Object.Key] = in.SweptBy
		return activities.StartedRun, nil
	case by == in.SweptBy && in.SweptBy != "":
		return activities.StartedRun, nil
	}
	return activities.AlreadyDone, nil
}

// TestSweepPagesFinishesPendingPage: the attempt that dies after starting
// some of a page's runs leaves the page in its checkpoint; those runs then
// archive their objects, so listing the page again would not show them.
// The retry starts the recorded objects instead and counts every object of
// the page once, the ones the lost attempt started as started.
func TestSweepPagesFinishesPendingPage(t *testing.T) {
	_, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("inbox")}); err != nil {
		t.Fatal(err)
	}
	for i := range 15 {
		putObject(t, c.S3, "inbox", fmt.Sprintf("incoming/obj-%02d", i), "x")
	}
	starter := &crashStarter{sweptBy: map[string]string{"incoming/obj-14": "an event"}, failAfter: 4}
	var suite testsuite.WorkflowTestSuite
	in := activities.SweepInput{Bucket: "inbox", Prefix: "incoming/", Cutoff: time.Now().Add(time.Hour),
		MaxPages: 100, PageSize: 10, WorkflowType: "S3ObjectWorkflow", TaskQueue: "vigil"}
	env := suite.NewTestActivityEnvironment()
	(&activities.S3Object{Client: c.S3, Starter: starter}).Register(env)
	if _, err := env.ExecuteActivity(activities.SweepPagesName, in); err == nil {
		t.Fatal("the first attempt did not fail")
	}
	cp := starter.last
	if cp == nil || cp.Pending == nil || len(cp.Pending.Stale) != 10 || cp.Counts.Found != 0 {
		t.Fatalf("checkpoint before the first page's starts: %+v", cp)
	}
	// The runs the lost attempt started archive their objects.
	for k := range starter.sweptBy {
		if _, err := c.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("inbox"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	starter.failAfter = 0
	env = suite.NewTestActivityEnvironment()
	(&activities.S3Object{Client: c.S3, Starter: starter}).Register(env)
	env.SetHeartbeatDetails(*cp)
	v, err := env.ExecuteActivity(activities.SweepPagesName, in)
	if err != nil {
		t.Fatal(err)
	}
	var res activities.SweepProgress
	if err := v.Get(&res); err != nil || !res.Done || res.Pending != nil {
		t.Fatalf("retried activity %+v %v", res, err)
	}
	// obj-14 was started by an event (and archived): gone from the listing,
	// it is not the sweep's to count. The other 14 are found and started.
	want := flowdata.S3SweepCounts{Listed: 14, Found: 14, Started: 14, Pages: 2}
	if res.Counts != want {
		t.Errorf("counts %+v, want %+v", res.Counts, want)
	}
	if len(starter.sweptBy) != 15 {
		t.Errorf("%d runs, want 15", len(starter.sweptBy))
	}
}
