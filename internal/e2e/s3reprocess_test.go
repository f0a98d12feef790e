package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/localcloud/s3lite"
	"github.com/vigilops/vigil/internal/localcloud/slacksink"
	"github.com/vigilops/vigil/internal/s3bind"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// specialKeys are key names that must survive the event path (URL-encoded
// in records) and the sweep path (ListObjectsV2) alike.
var specialKeys = []string{"with space.csv", "plus+sign.csv", "percent%41.csv", "ünïcødé-日本.csv", "(paren) & co=1.csv"}

// keyCounter is an http processor endpoint counting its calls per key; it
// answers 422 for keys containing "poison".
type keyCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (k *keyCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, err := url.PathUnescape(r.Header.Get("X-Vigil-Key"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	k.mu.Lock()
	k.counts[key]++
	k.mu.Unlock()
	if strings.Contains(key, "poison") {
		http.Error(w, "cannot parse", http.StatusUnprocessableEntity)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (k *keyCounter) snapshot() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]int, len(k.counts))
	for key, n := range k.counts {
		out[key] = n
	}
	return out
}

// s3Stack is the local stack bound for S3 reprocessing of bucket inbox,
// prefix incoming/.
type s3Stack struct {
	cloud   *localcloud.Cloud
	clients *awsconf.Clients
	c       client.Client
	getenv  func(string) string
}

func newS3Stack(t *testing.T, hosts ...string) *s3Stack {
	ts := testenv.NewTemporal(t)
	cloud, clients := stacktest.Cloud(t, localcloud.Options{})
	st := &s3Stack{cloud: cloud, clients: clients, c: testenv.NewClient(t, ts)}
	st.getenv = func(k string) string {
		if k == activities.DefaultSlackWebhookEnv {
			return cloud.URL() + slacksink.PathPrefix + "T/B/x"
		}
		return os.Getenv(k)
	}
	for _, h := range hosts {
		stacktest.StartWorkerOnHost(t, ts, clients, st.getenv, h)
	}
	ctx := context.Background()
	if err := cloud.S3.CreateBucket("inbox"); err != nil {
		t.Fatal(err)
	}
	if _, err := setup.S3Events(ctx, clients, setup.ObjectCreatedEvents("inbox", "incoming/", "")); err != nil {
		t.Fatal(err)
	}
	return st
}

func (st *s3Stack) bind(t *testing.T, p flowdata.Pipeline) {
	t.Helper()
	if err := s3bind.Bind(context.Background(), st.c, workflows.TaskQueue, flowdata.S3Binding{Bucket: "inbox", Prefix: "incoming/", Pipeline: p}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, 50*time.Millisecond, "binding visible", func() bool {
		bs, err := s3bind.List(context.Background(), st.c)
		return err == nil && len(bs) == 1
	})
}

func (st *s3Stack) put(t *testing.T, key string) {
	t.Helper()
	if _, err := st.clients.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("inbox"), Key: aws.String(key),
		Body: strings.NewReader("content of " + key)}); err != nil {
		t.Fatal(err)
	}
}

// list returns the keys under prefix.
func (st *s3Stack) list(t *testing.T, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(st.clients.S3, &s3.ListObjectsV2Input{Bucket: aws.String("inbox"), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// TestS3ReprocessingConverges uploads VIGIL_S3_OBJECTS (100; 1000 for the full run) objects with
// 20 % of the events dropped, 10 % duplicated and all delayed, then runs a
// sweep: every object ends in bak/ once, processed once, incoming/ empty,
// and the missed events equal the dropped ones. Special keys go through
// both paths; a poisoned object lands in failed/ with one Slack alert.
func TestS3ReprocessingConverges(t *testing.T) {
	n := int(envInt("VIGIL_S3_OBJECTS", 100))
	st := newS3Stack(t, activities.DefaultHostName())
	counter := &keyCounter{counts: map[string]int{}}
	srv := httptest.NewServer(counter)
	t.Cleanup(srv.Close)
	st.bind(t, flowdata.Pipeline{Name: "reports",
		Processor: flowdata.Processor{Kind: flowdata.ProcessorHTTP, HTTP: &flowdata.HTTPProcessor{URL: srv.URL + "/ingest"}},
		Retry:     &flowdata.JobRetry{InitialInterval: flowdata.Duration(100 * time.Millisecond), MaximumAttempts: 3}})
	ctx := context.Background()

	var all []string
	st.cloud.S3.SetEventFaults(s3lite.EventFaults{DropRate: 0.2, DuplicateRate: 0.1, DelayMax: time.Second})
	for i := range n {
		all = append(all, fmt.Sprintf("incoming/obj-%04d.csv", i))
	}
	all = append(all, "incoming/poison.csv")
	for _, k := range all {
		st.put(t, k)
	}
	// Special keys once through the event path, once through the sweep.
	st.cloud.S3.SetEventFaults(s3lite.EventFaults{DuplicateRate: 0.5})
	for _, k := range specialKeys {
		all = append(all, "incoming/ev/"+k)
		st.put(t, "incoming/ev/"+k)
	}
	st.cloud.S3.SetEventFaults(s3lite.EventFaults{DropRate: 1})
	for _, k := range specialKeys {
		all = append(all, "incoming/sw/"+k)
		st.put(t, "incoming/sw/"+k)
	}
	dropped := st.cloud.S3.EventStats().Dropped
	if dropped < int64(len(specialKeys)) {
		t.Fatalf("only %d events dropped", dropped)
	}
	// Every announced object is processed; what is left is what S3 never
	// announced.
	progress := func() string {
		return fmt.Sprintf("%d in incoming/, %d in bak/, %d dropped, %d pending", len(st.list(t, "incoming/")), len(st.list(t, "bak/")),
			dropped, st.cloud.S3.EventStats().Pending)
	}
	lastLog := time.Now()
	testenv.Eventually(t, 150*time.Second, 200*time.Millisecond, "announced objects processed", func() bool {
		done := int64(len(st.list(t, "incoming/"))) == dropped && st.cloud.S3.EventStats().Pending == 0
		if !done && time.Since(lastLog) > 10*time.Second {
			lastLog = time.Now()
			t.Log(progress())
		}
		return done
	})
	left := st.list(t, "incoming/")
	wantLeft := st.cloud.S3.EventStats().DroppedKeys["inbox"]
	slices.Sort(left)
	slices.Sort(wantLeft)
	if !slices.Equal(left, wantLeft) {
		t.Fatalf("left in incoming/ %q, want the dropped %q", left, wantLeft)
	}

	// Objects newer than the sweep's cutoff are left to their (late)
	// events. Listing times have a second's precision: the cutoff is a
	// second boundary, and the late objects are written after it.
	cutoff := time.Now().Truncate(time.Second).Add(time.Second)
	testenv.Eventually(t, 3*time.Second, 20*time.Millisecond, "clock past the cutoff", func() bool { return !time.Now().Before(cutoff) })
	st.cloud.S3.SetEventFaults(s3lite.EventFaults{DelayMax: 2 * time.Second})
	for i := range 5 {
		k := fmt.Sprintf("incoming/late-%d.csv", i)
		all = append(all, k)
		st.put(t, k)
	}
	run, err := st.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sweep-inbox", TaskQueue: workflows.TaskQueue}, workflows.S3SweepName,
		workflows.S3SweepInput{Bucket: "inbox", Prefix: "incoming/", Cutoff: cutoff, Pipeline: mustBinding(t, st).Pipeline, PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.S3SweepResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.MissedEvents != dropped || res.Found != dropped {
		t.Errorf("sweep %+v: missed events %d, want the %d dropped", res, res.MissedEvents, dropped)
	}
	testenv.Eventually(t, 60*time.Second, 200*time.Millisecond, "incoming/ empty", func() bool {
		return len(st.list(t, "incoming/")) == 0 && st.cloud.S3.EventStats().Pending == 0
	})

	// Every object in bak/ once, processed once; the poisoned one in failed/.
	var wantBak []string
	for _, k := range all {
		if !strings.Contains(k, "poison") {
			wantBak = append(wantBak, "bak/"+k)
		}
	}
	slices.Sort(wantBak)
	testenv.Eventually(t, 30*time.Second, 200*time.Millisecond, "all archived", func() bool { return len(st.list(t, "bak/")) >= len(wantBak) })
	if got := st.list(t, "bak/"); !slices.Equal(got, wantBak) {
		t.Errorf("bak/ holds %d keys, want %d; first extra or missing: %v", len(got), len(wantBak), firstDiff(got, wantBak))
	}
	counts := counter.snapshot()
	for _, k := range all {
		if counts[k] != 1 {
			t.Errorf("%q processed %d times", k, counts[k])
		}
	}
	if len(counts) != len(all) {
		t.Errorf("processor saw %d keys, want %d", len(counts), len(all))
	}
	h, err := st.clients.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("inbox"), Key: aws.String("failed/incoming/poison.csv")})
	if err != nil || !strings.Contains(h.Metadata[activities.ErrorMetadataKey], "422") {
		t.Errorf("dead letter: %v, metadata %v", err, h)
	}
	var alerts int
	for _, m := range st.cloud.Slack.Messages() {
		if strings.Contains(string(m.Payload), "failed pipeline") {
			alerts++
		}
	}
	if alerts != 1 {
		t.Errorf("%d dead-letter alerts in the Slack sink, want 1", alerts)
	}
	t.Logf("%d objects, %d events dropped, %d duplicated; sweep %+v", len(all), dropped, st.cloud.S3.EventStats().Duplicated, res)
}

func mustBinding(t *testing.T, st *s3Stack) flowdata.S3Binding {
	bs, err := s3bind.List(context.Background(), st.c)
	if err != nil || len(bs) != 1 {
		t.Fatalf("bindings %v %v", bs, err)
	}
	return bs[0]
}

func firstDiff(got, want []string) string {
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			return "missing " + want[i]
		case i >= len(want):
			return "extra " + got[i]
		case got[i] != want[i]:
			return got[i] + " vs " + want[i]
		}
	}
	return ""
}

// TestS3ExecProcessorTwoWorkers runs an exec processor with two workers
// (two hosts) on one task queue: each object is processed once, on the
// host that downloaded it, and its local copy is gone afterwards.
func TestS3ExecProcessorTwoWorkers(t *testing.T) {
	st := newS3Stack(t, "host-a", "host-b")
	dir := t.TempDir()
	log := filepath.Join(dir, "processed.log")
	st.bind(t, flowdata.Pipeline{Name: "imports", Processor: flowdata.Processor{Kind: flowdata.ProcessorExec, Exec: &flowdata.ExecJob{
		Command: "sh",
		Args:    []string{"-c", `test -f "$1" && test "$1" = "$VIGIL_PATH" && grep -q "content of $VIGIL_KEY" "$1" && printf '%s %s\n' "$VIGIL_KEY" "$1" >> "$LOG"`, "sh", "{{.Path}}"},
		Env:     map[string]string{"LOG": log},
	}}})
	const n = 30
	keys := make([]string, 0, n)
	for i := range n {
		k := fmt.Sprintf("incoming/exec %02d.txt", i)
		keys = append(keys, k)
		st.put(t, k)
	}
	testenv.Eventually(t, 60*time.Second, 200*time.Millisecond, "all archived", func() bool { return len(st.list(t, "bak/")) == n })
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		i := strings.LastIndex(line, " /")
		if i < 0 {
			t.Fatalf("bad log line %q", line)
		}
		seen[line[:i]]++
		if _, err := os.Stat(line[i+1:]); !os.IsNotExist(err) {
			t.Errorf("local copy %s still there (%v)", line[i+1:], err)
		}
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Errorf("%q processed %d times", k, seen[k])
		}
	}
	if len(st.list(t, "incoming/")) != 0 {
		t.Errorf("incoming/ not empty")
	}
}
