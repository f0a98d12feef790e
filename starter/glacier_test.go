package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/internal/treehash"
	"github.com/vigilops/vigil/workflows"
)

// glacierTiers are the local Glacier's job durations: Expedited is short
// (but long enough for `--wait` to show the waiting phase), Bulk never
// completes within a test, so a Bulk retrieval stays waiting.
var glacierTiers = map[string]time.Duration{"Expedited": time.Second, "Standard": 2 * time.Second, "Bulk": time.Hour}

// glacierStack is the whole stack the glacier commands run against: a
// Temporal test server, the local cloud, and the real worker process body
// (workerapp.Run: worker, notification router, queue watcher), with the
// CLI's AWS configuration pointing at the local cloud.
type glacierStack struct {
	c      client.Client
	ns     string
	cloud  *localcloud.Cloud
	aws    *awsconf.Clients
	global []string
	// workerQueues are the notification queues the worker found at start.
	workerQueues []string
}

func newGlacierStack(t *testing.T) *glacierStack {
	t.Helper()
	ts := testenv.NewTemporal(t)
	cloud, clients := stacktest.Cloud(t, localcloud.Options{TierDelays: glacierTiers})
	// The CLI and the worker both load AWS from the default chain.
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            cloud.URL(),
		"AWS_REGION":                  awsconf.LocalRegion,
		"AWS_ACCESS_KEY_ID":           awsconf.LocalAccessKey,
		"AWS_SECRET_ACCESS_KEY":       awsconf.LocalSecretKey,
		"AWS_CONFIG_FILE":             "/nonexistent/vigil-test/aws-config",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/vigil-test/aws-credentials",
		"AWS_PROFILE":                 "",
		"TEMPORAL_CONFIG_FILE":        "/nonexistent/vigil-test/temporal.toml",
	} {
		t.Setenv(k, v)
	}
	s := &glacierStack{
		c:      testenv.NewClient(t, ts),
		ns:     ts.GetDefaultNamespace(),
		cloud:  cloud,
		aws:    clients,
		global: []string{"--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace()},
	}

	ep := runWorkerApp(t, []string{"--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace(), "--log-level", "info"}, 60*time.Second)
	s.workerQueues = ep.QueueURLs
	return s
}

// run runs the CLI against the stack; ctx bounds it (a `--wait` that
// outlives ctx exits 130 and the test sees why). configure may adjust the
// app.
func (s *glacierStack) run(ctx context.Context, configure func(*app), args ...string) cliResult {
	var stdout, stderr syncBuffer
	code := runCLI(ctx, &stdout, &stderr, configure, append(append([]string{}, s.global...), args...)...)
	return cliResult{code, stdout.String(), stderr.String()}
}

// runWait is run with a deadline long enough for any retrieval here.
func (s *glacierStack) runWait(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := s.run(ctx, nil, args...)
	if ctx.Err() != nil {
		t.Fatalf("starter %v still running after 2 minutes: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// countDials makes the app count its connections to Temporal.
func countDials(n *int) func(*app) {
	return func(a *app) {
		dial := a.dial
		a.dial = func(ctx context.Context, co client.Options) (client.Client, error) {
			*n++
			return dial(ctx, co)
		}
	}
}

// putArchive creates vault (if needed) and stores a deterministic archive.
func (s *glacierStack) putArchive(t *testing.T, vault string, seed uint64, size int64) (id, hash string) {
	t.Helper()
	if err := s.cloud.Glacier.CreateVault(vault); err != nil {
		t.Fatal(err)
	}
	id, hash, err := s.cloud.Glacier.PutArchive(vault, detdata.New(seed, size), "starter test archive")
	if err != nil {
		t.Fatal(err)
	}
	return id, hash
}

// jobs lists the vault's Glacier jobs through the SDK.
func (s *glacierStack) jobs(t *testing.T, vault string) []string {
	t.Helper()
	out, err := s.aws.Glacier.ListJobs(context.Background(), &glacier.ListJobsInput{AccountId: aws.String("-"), VaultName: aws.String(vault)})
	if err != nil {
		t.Fatalf("ListJobs %s: %v", vault, err)
	}
	var descs []string
	for _, j := range out.JobList {
		descs = append(descs, aws.ToString(j.JobDescription)+" "+aws.ToString(j.Tier)+" completed="+boolText(j.Completed))
	}
	return descs
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// fileHash is the tree hash and size of a file.
func fileHash(t *testing.T, path string) (string, int64) {
	t.Helper()
	h, n, err := treehash.File(path)
	if err != nil {
		t.Fatal(err)
	}
	return h, n
}

var startedLine = regexp.MustCompile(`(?m)^(?:started|attached to the running) (\S+) \(run (\S+)\)$`)

// startedRun parses the "started ID (run RUN)" line of a start.
func startedRun(t *testing.T, stderr string) (id, run string) {
	t.Helper()
	m := startedLine.FindAllStringSubmatch(stderr, -1)
	if len(m) != 1 {
		t.Fatalf("want one \"started ID (run RUN)\" line, got %d in:\n%s", len(m), stderr)
	}
	return m[0][1], m[0][2]
}

// TestGlacierCommands drives `starter glacier setup` and `starter glacier
// retrieve` against Temporal, the local cloud and the real worker: setup
// twice, input the CLI must reject after asking AWS, an archive and an
// inventory retrieved with --wait through SNS → SQS → router → signal,
// and a long retrieval that a second start attaches to, Ctrl-C detaches
// from, and `starter cancel` cancels.
func TestGlacierCommands(t *testing.T) {
	s := newGlacierStack(t)
	ctx := context.Background()
	const vault = "cli-vault"
	const size = 5<<20 + 12345 // a few MiB, last range partial
	archiveID, wantHash := s.putArchive(t, vault, 42, size)
	if len(s.workerQueues) != 0 {
		t.Fatalf("premise: the notification queue must not exist before setup, worker consumes %v", s.workerQueues)
	}

	t.Run("setup of a missing vault is one line and creates nothing", func(t *testing.T) {
		dials := 0
		r := s.run(ctx, countDials(&dials), "glacier", "setup", "--vault", "nope", "--queue-name", "nope-queue")
		// Bad input, like retrieve from a missing vault.
		if r.code != 3 || r.stdout != "" || r.stderr != "starter: no such vault \"nope\"\n" {
			t.Errorf("exit %d, stdout %q, stderr %q; want 3 (not found) and one line \"no such vault\"", r.code, r.stdout, r.stderr)
		}
		if dials != 0 {
			t.Errorf("dialled Temporal %d times for a missing vault", dials)
		}
		for _, q := range []string{"nope-queue", "nope-queue" + setup.DLQSuffix} {
			if _, err := s.aws.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)}); err == nil {
				t.Errorf("queue %s was created for a missing vault", q)
			}
		}
	})

	t.Run("retrieve from a missing vault is bad input and starts nothing", func(t *testing.T) {
		for _, what := range [][]string{{"--archive-id", "some-archive"}, {"--inventory"}} {
			dials := 0
			args := append([]string{"glacier", "retrieve", "--vault", "nope"}, what...)
			args = append(args, "--tier", "Expedited", "--to", "file://"+filepath.Join(t.TempDir(), "x.bin"), "--wait")
			r := s.run(ctx, countDials(&dials), args...)
			if r.code != 3 || r.stdout != "" || r.stderr != "starter: no such vault \"nope\"\n" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want 3 (not found) and one line \"no such vault\"", what, r.code, r.stdout, r.stderr)
			}
			if dials != 0 {
				t.Errorf("%v: dialled Temporal %d times", what, dials)
			}
		}
		for _, id := range []string{workflows.GlacierWorkflowID("nope", "some-archive"), workflows.GlacierWorkflowID("nope", "")} {
			_, err := s.c.DescribeWorkflowExecution(ctx, id, "")
			var nf *serviceerror.NotFound
			if !errors.As(err, &nf) {
				t.Errorf("workflow %s: describe error %v, want not found", id, err)
			}
		}
	})

	setupOK := t.Run("setup twice: created, then found", func(t *testing.T) {
		r := s.run(ctx, nil, "glacier", "setup", "--vault", vault)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("first setup: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		topic := "vigil-glacier-" + vault
		want := []string{
			"created  sqs queue " + setup.DefaultQueue + setup.DLQSuffix,
			"created  sqs queue " + setup.DefaultQueue,
			"created  sns topic " + topic,
			"created  queue policy statement " + topic,
			"created  sns subscription " + topic + " → " + setup.DefaultQueue,
			"created  vault notifications " + vault,
		}
		if got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"); !slices.Equal(got, want) {
			t.Errorf("first setup printed\n%s\nwant\n%s", r.stdout, strings.Join(want, "\n"))
		}

		r = s.run(ctx, nil, "glacier", "setup", "--vault", vault)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("second setup: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		for i := range want {
			want[i] = "found    " + strings.TrimPrefix(want[i], "created  ")
		}
		want = append(want, "nothing to change")
		if got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"); !slices.Equal(got, want) {
			t.Errorf("second setup printed\n%s\nwant\n%s", r.stdout, strings.Join(want, "\n"))
		}

		// What setup claims is there: the queue has its dead-letter queue,
		// and the queue is recorded in Temporal for running workers.
		q, err := s.aws.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(setup.DefaultQueue)})
		if err != nil {
			t.Fatal(err)
		}
		attrs, err := s.aws.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy}})
		if err != nil || !strings.Contains(attrs.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)], setup.DefaultQueue+setup.DLQSuffix) {
			t.Errorf("queue redrive policy %v, %v", attrs, err)
		}
		v, err := s.c.QueryWorkflow(ctx, workflows.RouterQueuesWorkflowID, "", workflows.QueuesQuery)
		var recorded []string
		if err == nil {
			err = v.Get(&recorded)
		}
		if err != nil || !slices.Equal(recorded, []string{aws.ToString(q.QueueUrl)}) {
			t.Errorf("queues recorded in Temporal: %v, %v; want [%s]", recorded, err, aws.ToString(q.QueueUrl))
		}
	})
	if !setupOK {
		t.Fatal("setup failed; the retrievals need its notifications")
	}

	t.Run("retrieve an archive with --wait", func(t *testing.T) {
		dest := filepath.Join(t.TempDir(), "restored", "out.bin")
		id := workflows.GlacierWorkflowID(vault, archiveID)
		// Polling is an hour away: only the notification can finish in time.
		r := s.runWait(t, "glacier", "retrieve", "--vault", vault, "--archive-id", archiveID, "--tier", "Expedited",
			"--chunk-size", "1", "--poll-interval", "1h", "--to", "file://"+dest, "--wait")
		if r.code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		t.Logf("stderr:\n%s", r.stderr)
		if gotID, _ := startedRun(t, r.stderr); gotID != id {
			t.Errorf("started %s, want %s", gotID, id)
		}
		if !strings.Contains(r.stderr, "\n  follow: starter wait "+id+" --address ") {
			t.Errorf("no follow hint in:\n%s", r.stderr)
		}
		if !regexp.MustCompile(`(?m)^waiting \d`).MatchString(r.stderr) {
			t.Errorf("no waiting phase line in:\n%s", r.stderr)
		}
		if !regexp.MustCompile(`\nworkflow "` + regexp.QuoteMeta(id) + `" completed after [^\n]+\n$`).MatchString(r.stderr) {
			t.Errorf("stderr does not end with the completion line:\n%s", r.stderr)
		}

		got, n := fileHash(t, dest)
		if got != wantHash || n != size {
			t.Fatalf("restored %d bytes with tree hash %s, want %d bytes, %s", n, got, size, wantHash)
		}
		var res workflows.GlacierRetrieveResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			t.Fatalf("stdout is not the result: %v\n%s", err, r.stdout)
		}
		if res.Bytes != size || res.TreeHash != wantHash || !strings.HasSuffix(res.Location, dest) || res.JobID == "" || res.Initiations != 1 {
			t.Errorf("result %+v; want %d bytes, tree hash %s, location …%s, one initiation", res, size, wantHash, dest)
		}
		calls := s.cloud.Glacier.GetJobOutputCalls(res.JobID)
		if distinct := slices.Compact(slices.Sorted(slices.Values(calls))); len(calls) != 6 || len(distinct) != 6 {
			t.Errorf("GetJobOutput calls %v; want 6 distinct 1 MiB ranges", calls)
		}
		if left, err := filepath.Glob(dest + "*.vigil-partial"); err != nil || len(left) > 0 {
			t.Errorf("partial files left behind: %v, %v", left, err)
		}

		st := s.run(ctx, nil, "status", id)
		if st.code != 0 || !strings.Contains(st.stdout, "Phase:       done") || !strings.Contains(st.stdout, "State:       completed at ") ||
			!strings.Contains(st.stdout, "delivered to ") {
			t.Errorf("status after the retrieval: exit %d\n%s%s", st.code, st.stdout, st.stderr)
		}
	})

	t.Run("retrieve the inventory with --wait", func(t *testing.T) {
		dest := filepath.Join(t.TempDir(), "inventory.json")
		id := workflows.GlacierWorkflowID(vault, "")
		r := s.runWait(t, "glacier", "retrieve", "--vault", vault, "--inventory", "--tier", "Expedited",
			"--poll-interval", "1h", "--to", "file://"+dest, "--wait")
		if r.code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		if gotID, _ := startedRun(t, r.stderr); gotID != id {
			t.Errorf("started %s, want %s", gotID, id)
		}
		inv, err := os.ReadFile(dest)
		if err != nil || !strings.Contains(string(inv), `"ArchiveList"`) || !strings.Contains(string(inv), archiveID) {
			t.Fatalf("inventory file %q, %v; want ArchiveList with %s", inv, err, archiveID)
		}
		var res workflows.GlacierRetrieveResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Bytes != int64(len(inv)) || !strings.HasSuffix(res.Location, dest) {
			t.Errorf("result %+v (%v) for a %d-byte inventory at %s:\n%s", res, err, len(inv), dest, r.stdout)
		}
	})

	t.Run("second retrieve attaches; ctrl-c detaches; cancel cancels", func(t *testing.T) {
		const bulkVault = "bulk-vault"
		bulkArchive, _ := s.putArchive(t, bulkVault, 7, 1<<20)
		id := workflows.GlacierWorkflowID(bulkVault, bulkArchive)
		args := []string{"glacier", "retrieve", "--vault", bulkVault, "--archive-id", bulkArchive, "--tier", "Bulk",
			"--to", "file://" + filepath.Join(t.TempDir(), "bulk.bin")}

		r := s.run(ctx, nil, args...)
		if r.code != 0 || r.stdout != "" {
			t.Fatalf("first start: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		gotID, run1 := startedRun(t, r.stderr)
		if gotID != id {
			t.Fatalf("started %s, want %s", gotID, id)
		}
		// The job is initiated (once) and the workflow waits for it.
		testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, "the Bulk job to be initiated and awaited", func() bool {
			st, err := queryStatus(ctx, s.c, id, "", 5*time.Second)
			return err == nil && st.Phase == workflows.PhaseWaiting && st.Details["jobId"] != ""
		})

		r = s.run(ctx, nil, args...)
		if r.code != 0 {
			t.Fatalf("second start: exit %d, stderr %q", r.code, r.stderr)
		}
		if !strings.HasPrefix(r.stderr, "attached to the running "+id) {
			t.Errorf("second start says %q, want that it attached", r.stderr)
		}
		if _, run2 := startedRun(t, r.stderr); run2 != run1 {
			t.Errorf("second start reports run %s, want the running %s", run2, run1)
		}
		r = s.run(ctx, nil, append(args, "-o", "json")...)
		var started struct {
			WorkflowID string `json:"workflowId"`
			RunID      string `json:"runId"`
			Attached   bool   `json:"attached"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &started); err != nil || r.code != 0 ||
			started.WorkflowID != id || started.RunID != run1 || !started.Attached {
			t.Errorf("third start (-o json): exit %d, %v, stdout %q, stderr %q; want %s run %s", r.code, err, r.stdout, r.stderr, id, run1)
		}

		d, err := s.c.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if info := d.GetWorkflowExecutionInfo(); info.GetExecution().GetRunId() != run1 || info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Errorf("latest run %s is %v; want %s running", info.GetExecution().GetRunId(), info.GetStatus(), run1)
		}
		var runs []string
		testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, "the run to be visible", func() bool {
			resp, err := s.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.ns, Query: "WorkflowId = '" + id + "'"})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			runs = nil
			for _, e := range resp.GetExecutions() {
				runs = append(runs, e.GetExecution().GetRunId())
			}
			return len(runs) > 0
		})
		if !slices.Equal(runs, []string{run1}) {
			t.Errorf("runs of %s: %v, want only %s", id, runs, run1)
		}
		if jobs := s.jobs(t, bulkVault); !slices.Equal(jobs, []string{id + " Bulk completed=false"}) {
			t.Errorf("jobs of %s: %q, want one pending Bulk job for %s", bulkVault, jobs, id)
		}

		// --wait on the running retrieval, then Ctrl-C: it detaches.
		wctx, interrupt := context.WithCancel(ctx)
		defer interrupt()
		var stdout, stderr syncBuffer
		codes := make(chan int, 1)
		go func() {
			codes <- runCLI(wctx, &stdout, &stderr, nil, append(append(append([]string{}, s.global...), args...), "--wait")...)
		}()
		testenv.Eventually(t, 30*time.Second, 20*time.Millisecond, "the waiting line", func() bool {
			return regexp.MustCompile(`(?m)^waiting \d`).MatchString(stderr.String())
		})
		interrupt()
		select {
		case code := <-codes:
			if code != 130 {
				t.Errorf("detach: exit %d, want 130; stderr %q", code, stderr.String())
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("--wait did not return after the interrupt; stderr:\n%s", stderr.String())
		}
		if _, run3 := startedRun(t, stderr.String()); run3 != run1 {
			t.Errorf("--wait attached to run %s, want %s", run3, run1)
		}
		if want := "still running; reattach with: starter wait " + id + " --address "; !strings.Contains(stderr.String(), want) {
			t.Errorf("detach stderr lacks %q:\n%s", want, stderr.String())
		}
		if stdout.String() != "" {
			t.Errorf("detach printed %q on stdout", stdout.String())
		}
		d, err = s.c.DescribeWorkflowExecution(ctx, id, "")
		if err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING ||
			d.GetWorkflowExecutionInfo().GetExecution().GetRunId() != run1 {
			t.Errorf("after detaching: %v, %v; want run %s running", d.GetWorkflowExecutionInfo(), err, run1)
		}
		if jobs := s.jobs(t, bulkVault); len(jobs) != 1 {
			t.Errorf("jobs after attaching three times: %q, want one", jobs)
		}

		// cancel through the CLI: the retrieval ends canceled.
		r = s.run(ctx, nil, "cancel", id, "--reason", "not needed after all")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Cancellation requested for workflow "+id+" (run "+run1+")") {
			t.Fatalf("cancel: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		r = s.runWait(t, "wait", id)
		if r.code != 1 || !strings.Contains(r.stderr, "starter: workflow \""+id+"\" canceled after ") ||
			!strings.HasSuffix(r.stderr, ": not needed after all\n") || strings.Count(r.stderr, "starter: ") != 1 {
			t.Errorf("wait on the canceled retrieval: exit %d, stderr %q", r.code, r.stderr)
		}
		d, err = s.c.DescribeWorkflowExecution(ctx, id, "")
		if err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
			t.Errorf("after cancel: %v, %v; want canceled", d.GetWorkflowExecutionInfo().GetStatus(), err)
		}
	})
}
