package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
)

// The test workflow: a vigil-style flow that reports progress through the
// status query and ends on a signal.
const (
	testWorkflowName = "vigil-cli-test"
	testFlow         = "clitest"
	signalFinish     = "finish"   // payload: result message
	signalFail       = "fail"     // payload: failure message
	signalProgress   = "progress" // payload: bytes done
)

// testResult is the test workflow's result.
type testResult struct {
	Message string `json:"message"`
	Bytes   int64  `json:"bytes"`
}

func testWorkflow(ctx workflow.Context, target string) (testResult, error) {
	tr := workflows.NewTracker(ctx, testFlow, target)
	tr.SetPhase(workflows.PhaseWaiting)
	tr.Update(func(s *workflows.Status) {
		s.BytesDone, s.BytesTotal = 512, 1024
		s.Message = "waiting for the test"
		s.LastPoll = "not yet"
		s.Details = map[string]string{"jobId": "job-42"}
	})
	finish := workflow.GetSignalChannel(ctx, signalFinish)
	fail := workflow.GetSignalChannel(ctx, signalFail)
	progress := workflow.GetSignalChannel(ctx, signalProgress)
	for {
		var result *testResult
		var failure error
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(finish, func(c workflow.ReceiveChannel, _ bool) {
			var msg string
			c.Receive(ctx, &msg)
			result = &testResult{Message: msg, Bytes: tr.Status().BytesDone}
		})
		sel.AddReceive(fail, func(c workflow.ReceiveChannel, _ bool) {
			var msg string
			c.Receive(ctx, &msg)
			failure = temporal.NewNonRetryableApplicationError(msg, "TestFailure", nil)
		})
		sel.AddReceive(progress, func(c workflow.ReceiveChannel, _ bool) {
			var n int64
			c.Receive(ctx, &n)
			tr.SetPhase(workflows.PhaseDownloading)
			tr.Update(func(s *workflows.Status) { s.BytesDone = n })
		})
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) { failure = ctx.Err() })
		sel.Select(ctx)
		switch {
		case failure != nil:
			tr.Fail(failure)
			return testResult{}, failure
		case result != nil:
			tr.SetPhase(workflows.PhaseDone)
			return *result, nil
		}
	}
}

// harness is a Temporal test server with a worker running testWorkflow and a
// way to drive the CLI against it.
type harness struct {
	t  *testing.T
	c  client.Client
	ns string
	// global are the connection flags every CLI run gets.
	global []string
}

func newHarness(t *testing.T) *harness {
	ts := testenv.NewTemporal(t)
	testenv.StartWorker(t, ts, func(r worker.Registry) {
		r.RegisterWorkflowWithOptions(testWorkflow, workflow.RegisterOptions{Name: testWorkflowName})
	})
	return &harness{
		t:      t,
		c:      testenv.NewClient(t, ts),
		ns:     ts.GetDefaultNamespace(),
		global: []string{"--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace()},
	}
}

// start starts the test workflow and returns once it answers the status
// query (its first workflow task has run).
func (h *harness) start(id, target string) {
	h.t.Helper()
	ctx := context.Background()
	_, err := h.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, testWorkflowName, target)
	if err != nil {
		h.t.Fatalf("starting %s: %v", id, err)
	}
	testenv.Eventually(h.t, 30*time.Second, 20*time.Millisecond, id+" to answer the status query", func() bool {
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := h.c.QueryWorkflow(qctx, id, "", workflows.StatusQuery)
		return err == nil
	})
}

func (h *harness) signal(id, name string, arg any) {
	h.t.Helper()
	if err := h.c.SignalWorkflow(context.Background(), id, "", name, arg); err != nil {
		h.t.Fatalf("signal %s to %s: %v", name, id, err)
	}
}

// run runs the CLI to completion.
func (h *harness) run(args ...string) cliResult {
	h.t.Helper()
	var stdout, stderr syncBuffer
	code := runCLI(context.Background(), &stdout, &stderr, nil, append(append([]string{}, h.global...), args...)...)
	return cliResult{code, stdout.String(), stderr.String()}
}

// background runs the CLI in a goroutine; the returned function waits for it
// to end and returns its result.
func (h *harness) background(ctx context.Context, args ...string) (stderr *syncBuffer, done func() cliResult) {
	var stdout syncBuffer
	stderr = &syncBuffer{}
	codes := make(chan int, 1)
	go func() {
		codes <- runCLI(ctx, &stdout, stderr, nil, append(append([]string{}, h.global...), args...)...)
	}()
	return stderr, func() cliResult {
		select {
		case code := <-codes:
			return cliResult{code, stdout.String(), stderr.String()}
		case <-time.After(60 * time.Second):
			h.t.Fatalf("starter %v did not return; stderr so far:\n%s", args, stderr.String())
			return cliResult{}
		}
	}
}

// waitOutput waits until buf contains want.
func (h *harness) waitOutput(buf *syncBuffer, want string) {
	h.t.Helper()
	testenv.Eventually(h.t, 30*time.Second, 20*time.Millisecond, "output "+want, func() bool {
		return strings.Contains(buf.String(), want)
	})
}

func (h *harness) describeStatus(id string) enumspb.WorkflowExecutionStatus {
	h.t.Helper()
	d, err := h.c.DescribeWorkflowExecution(context.Background(), id, "")
	if err != nil {
		h.t.Fatalf("describe %s: %v", id, err)
	}
	return d.GetWorkflowExecutionInfo().GetStatus()
}

func expectOneLine(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("want exactly one line on stderr, got %q", stderr)
	}
}

func TestStarterAgainstTemporal(t *testing.T) {
	h := newHarness(t)

	t.Run("status shows phase and bytes", func(t *testing.T) {
		h.t = t
		id := "clitest/status"
		h.start(id, "vault-1")
		r := h.run("status", id)
		if r.code != 0 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		for _, want := range []string{
			"Workflow:    " + id, "Flow:        clitest", "Target:      vault-1", "State:       running for ",
			"Type:        " + testWorkflowName, "Task queue:  vigil",
			"Phase:       waiting for ", "Progress:    [##########..........]  50.0% 512 B/1.0 KiB",
			"Last poll:   not yet", "Message:     waiting for the test", "Details:     jobId=job-42",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("missing %q in\n%s", want, r.stdout)
			}
		}

		r = h.run("status", id, "-o", "json")
		var rep statusReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
			t.Fatalf("exit %d, bad JSON %v:\n%s", r.code, err, r.stdout)
		}
		if rep.Status != "running" || rep.Flow != testFlow || rep.Progress == nil ||
			rep.Progress.Phase != workflows.PhaseWaiting || rep.Progress.BytesDone != 512 || rep.Progress.BytesTotal != 1024 {
			t.Errorf("unexpected report %+v (progress %+v)", rep, rep.Progress)
		}
		h.signal(id, signalFinish, "ok")
	})

	t.Run("list finds flows by flow and status", func(t *testing.T) {
		h.t = t
		id := "clitest/list"
		h.start(id, "bucket-9")
		var items []listItem
		testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, "list to show "+id, func() bool {
			r := h.run("list", "--flow", testFlow, "--status", "running", "-o", "json")
			if r.code != 0 {
				t.Fatalf("list: exit %d, stderr %q", r.code, r.stderr)
			}
			items = nil
			if err := json.Unmarshal([]byte(r.stdout), &items); err != nil {
				t.Fatalf("list JSON: %v\n%s", err, r.stdout)
			}
			for _, it := range items {
				if it.WorkflowID == id {
					return true
				}
			}
			return false
		})
		for _, it := range items {
			if it.WorkflowID == id && (it.Flow != testFlow || it.Target != "bucket-9" || it.Status != "running" || it.Type != testWorkflowName) {
				t.Errorf("unexpected item %+v", it)
			}
		}

		r := h.run("list", "--flow", testFlow)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "ID ") || !strings.Contains(r.stdout, id) ||
			!strings.Contains(r.stdout, "bucket-9") || !strings.Contains(r.stdout, "running") {
			t.Errorf("list table: exit %d\n%s", r.code, r.stdout)
		}
		r = h.run("list", "--flow", "no-such-flow")
		if r.code != 0 || r.stdout != "No matching workflows.\n" {
			t.Errorf("empty list: exit %d %q", r.code, r.stdout)
		}
		r = h.run("list", "--flow", testFlow, "--status", "failed", "-o", "json")
		if r.code != 0 || strings.Contains(r.stdout, id) {
			t.Errorf("running workflow listed as failed: exit %d\n%s", r.code, r.stdout)
		}
		h.signal(id, signalFinish, "ok")
	})

	t.Run("list says when it truncates", func(t *testing.T) {
		h.t = t
		for _, id := range []string{"clitest/trunc-1", "clitest/trunc-2"} {
			h.start(id, "t")
			defer h.signal(id, signalFinish, "ok")
		}
		var r cliResult
		testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, "list to show both runs", func() bool {
			r = h.run("list", "--flow", testFlow, "--target", "t", "--all", "-o", "json")
			return strings.Count(r.stdout, "clitest/trunc-") == 2
		})
		if r.code != 0 || r.stderr != "" {
			t.Errorf("list --all: exit %d, stderr %q", r.code, r.stderr)
		}
		r = h.run("list", "--flow", testFlow, "--target", "t", "--limit", "1")
		if r.code != 0 || r.stderr != "1 of 2 shown; --limit N or --all\n" || strings.Count(r.stdout, "clitest/trunc-") != 1 {
			t.Errorf("list --limit 1: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if r = h.run("list", "--flow", testFlow, "--target", "t", "--limit", "2"); r.stderr != "" {
			t.Errorf("list --limit 2 (all shown): stderr %q", r.stderr)
		}
	})

	t.Run("wait shows progress and returns the result", func(t *testing.T) {
		h.t = t
		id := "clitest/wait-ok"
		h.start(id, "vault-2")
		stderr, done := h.background(context.Background(), "wait", id)
		h.waitOutput(stderr, "waiting ")
		h.waitOutput(stderr, "50.0% 512 B/1.0 KiB")
		h.signal(id, signalProgress, int64(768))
		h.waitOutput(stderr, "downloading ")
		h.waitOutput(stderr, "75.0% 768 B/1.0 KiB")
		h.signal(id, signalFinish, "all done")
		r := done()
		if r.code != 0 {
			t.Fatalf("wait: exit %d, stderr %q", r.code, r.stderr)
		}
		if want := "{\n  \"bytes\": 768,\n  \"message\": \"all done\"\n}\n"; r.stdout != want {
			t.Errorf("stdout %q, want %q", r.stdout, want)
		}
		if !strings.Contains(r.stderr, `workflow "`+id+`" completed after `) {
			t.Errorf("stderr %q", r.stderr)
		}
		// Without a terminal, a line is printed per change, not per tick.
		if n := strings.Count("\n"+r.stderr, "\nwaiting "); n != 1 {
			t.Errorf("%d waiting lines, want 1:\n%s", n, r.stderr)
		}

		// Waiting for a closed workflow returns at once; JSON has the result.
		r = h.run("wait", id, "-o", "json")
		var rep waitReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
			t.Fatalf("exit %d, bad JSON %v:\n%s", r.code, err, r.stdout)
		}
		if rep.Status != "completed" || rep.Result.(map[string]any)["message"] != "all done" {
			t.Errorf("report %+v", rep)
		}

		r = h.run("status", id)
		if r.code != 0 || !strings.Contains(r.stdout, "State:       completed at ") ||
			!strings.Contains(r.stdout, `Result:      {"bytes":768,"message":"all done"}`) ||
			!strings.Contains(r.stdout, "Phase:       done") {
			t.Errorf("status of completed: exit %d\n%s", r.code, r.stdout)
		}
	})

	t.Run("wait exits 1 with the failure reason", func(t *testing.T) {
		h.t = t
		id := "clitest/wait-fail"
		h.start(id, "vault-3")
		stderr, done := h.background(context.Background(), "wait", id)
		h.waitOutput(stderr, "waiting ")
		h.signal(id, signalFail, "disk on fire")
		r := done()
		if r.code != 1 || r.stdout != "" {
			t.Fatalf("wait: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "\nstarter: workflow \""+id+"\" failed after ") ||
			!strings.HasSuffix(r.stderr, ": disk on fire\n") {
			t.Errorf("stderr %q", r.stderr)
		}

		r = h.run("wait", id)
		want := "starter: workflow \"" + id + "\" failed after "
		if r.code != 1 || !strings.HasPrefix(r.stderr, want) || !strings.HasSuffix(r.stderr, ": disk on fire\n") {
			t.Errorf("wait on failed: exit %d, stderr %q", r.code, r.stderr)
		}
		expectOneLine(t, r.stderr)
		// -o json keeps the failure's chain, types included, in details.
		r = h.run("-o", "json", "wait", id)
		if r.code != 1 || !strings.Contains(r.stderr, `"details": [`) || !strings.Contains(r.stderr, `"[TestFailure] disk on fire"`) {
			t.Errorf("wait -o json on failed: exit %d, stderr %q", r.code, r.stderr)
		}

		r = h.run("status", id)
		if r.code != 0 || !strings.Contains(r.stdout, "State:       failed at ") ||
			!strings.Contains(r.stdout, "Reason:      disk on fire") ||
			!strings.Contains(r.stdout, "Last error:  disk on fire") {
			t.Errorf("status of failed: exit %d\n%s", r.code, r.stdout)
		}
	})

	t.Run("cancel and terminate", func(t *testing.T) {
		h.t = t
		id := "clitest/cancel"
		h.start(id, "vault-4")
		r := h.run("cancel", id, "--reason", "changed my mind")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Cancellation requested for workflow "+id) {
			t.Fatalf("cancel: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		r = h.run("wait", id)
		if r.code != 1 || !strings.Contains(r.stderr, `workflow "`+id+`" canceled after `) ||
			!strings.Contains(r.stderr, ": canceled by starter:") || !strings.HasSuffix(r.stderr, ": changed my mind\n") {
			t.Errorf("wait on canceled: exit %d, stderr %q", r.code, r.stderr)
		}
		// The workflow may still be winding down: progress lines may come first.
		if strings.Count(r.stderr, "starter: ") != 1 {
			t.Errorf("want one error line, got %q", r.stderr)
		}
		r = h.run("cancel", id)
		if r.code != 1 || r.stderr != "starter: workflow \""+id+"\" is already canceled; nothing to cancel\n" {
			t.Errorf("second cancel: exit %d, stderr %q", r.code, r.stderr)
		}

		id = "clitest/terminate"
		h.start(id, "vault-5")
		r = h.run("cancel", id, "--terminate", "--reason", "stuck", "-o", "json")
		var rep cancelReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || rep.Action != "terminated" {
			t.Fatalf("terminate: exit %d, %v, stdout %q, stderr %q", r.code, err, r.stdout, r.stderr)
		}
		r = h.run("wait", id)
		if r.code != 1 || !strings.HasSuffix(r.stderr, ": terminated: stuck\n") {
			t.Errorf("wait on terminated: exit %d, stderr %q", r.code, r.stderr)
		}
	})

	t.Run("ctrl-c detaches wait without canceling", func(t *testing.T) {
		h.t = t
		id := "clitest/detach"
		h.start(id, "vault-6")
		ctx, interrupt := context.WithCancel(context.Background())
		defer interrupt()
		stderr, done := h.background(ctx, "wait", id)
		h.waitOutput(stderr, "waiting ")
		interrupt()
		r := done()
		if r.code != 130 {
			t.Errorf("exit %d, want 130; stderr %q", r.code, r.stderr)
		}
		want := "still running; reattach with: starter wait " + id + " --address "
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
		if st := h.describeStatus(id); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Errorf("workflow is %v after detaching, want running", st)
		}
		h.signal(id, signalFinish, "ok")
	})

	t.Run("status without a worker explains the missing progress", func(t *testing.T) {
		h.t = t
		id := "clitest/no-worker"
		_, err := h.c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: "nobody-polls-this"}, testWorkflowName, "x")
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr syncBuffer
		code := runCLI(context.Background(), &stdout, &stderr, func(a *app) { a.queryTimeout = 300 * time.Millisecond },
			append(append([]string{}, h.global...), "status", id)...)
		if code != 0 || !strings.Contains(stdout.String(), "State:       running for ") ||
			!strings.Contains(stdout.String(), "Progress:    unavailable: no worker answered within 300ms (is the worker running?)") {
			t.Errorf("exit %d, stdout:\n%s\nstderr: %q", code, stdout.String(), stderr.String())
		}
		if err := h.c.TerminateWorkflow(context.Background(), id, "", "test done"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("unknown workflow", func(t *testing.T) {
		h.t = t
		for _, verb := range []string{"status", "wait", "cancel"} {
			r := h.run(verb, "clitest/nope")
			want := "starter: workflow \"clitest/nope\" not found in namespace \"" + h.ns + "\"\n"
			if r.code != 3 || r.stderr != want {
				t.Errorf("%s: exit %d, stderr %q, want 3 and %q", verb, r.code, r.stderr, want)
			}
		}
	})

	t.Run("missing namespace", func(t *testing.T) {
		h.t = t
		r := h.run("--namespace", "nope", "status", "x")
		if r.code != 3 || !strings.HasPrefix(r.stderr, `starter: namespace "nope" not found on Temporal at `) {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		expectOneLine(t, r.stderr)
	})
}
