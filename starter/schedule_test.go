package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/localcloud/slacksink"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/internal/workerapp"
	"github.com/vigilops/vigil/workflows"
)

// newVigilHarness is a test server with a worker running vigil's real
// registrations; getenv is the worker's environment.
func newVigilHarness(t *testing.T, getenv func(string) string) *harness {
	return newVigilHarnessWithCloud(t, getenv, awsconf.NewClients(awsconf.Local("http://127.0.0.1:1")))
}

// newVigilHarnessWithCloud is newVigilHarness with the worker's AWS clients.
func newVigilHarnessWithCloud(t *testing.T, getenv func(string) string, aws *awsconf.Clients) *harness {
	ts := testenv.NewTemporal(t)
	c := testenv.NewClient(t, ts)
	deps := &workerapp.Deps{Temporal: c, AWS: aws, Logger: testenv.TestLogger(t, 8), Getenv: getenv}
	testenv.StartWorker(t, ts, func(r worker.Registry) { workerapp.RegisterFlows(r, router.New(deps.AWS.SQS, router.Options{}), deps) })
	return &harness{t: t, c: c, ns: ts.GetDefaultNamespace(),
		global: []string{"--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace()}}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScheduleAndBatchCommands(t *testing.T) {
	const secret = "s3cret-Pa55"
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pw, _ := r.BasicAuth()
		gotAuth = pw
		if pw != secret {
			http.Error(w, "denied", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	h := newVigilHarness(t, func(k string) string {
		if k == "VIGIL_SECRET_CACHE_PASSWORD" {
			return secret
		}
		return ""
	})
	dir := t.TempDir()
	job := writeFile(t, dir, "jobs/dump.yaml", fmt.Sprintf(`name: nightly-dump
kind: http
http:
  method: POST
  url: %s/s3dump
  basicAuth: {user: ops, passwordEnv: VIGIL_SECRET_CACHE_PASSWORD}
  expectStatus: [200, 204]
  timeout: 5s
retry: {initialInterval: 1s, maximumAttempts: 2}
`, srv.URL))

	// batch run --wait: one-off run; the secret reached the server but not the history.
	r := h.run("batch", "run", "--job-file", job, "--id", "batch/once", "--wait")
	if r.code != 0 || gotAuth != secret {
		t.Fatalf("batch run: exit %d, stderr %q, auth seen %q", r.code, r.stderr, gotAuth)
	}
	iter := h.c.GetWorkflowHistory(context.Background(), "batch/once", "", false, 0)
	var all strings.Builder
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := proto.Marshal(ev) // binary: payload bytes appear as they are
		all.Write(b)
	}
	if all.Len() == 0 || strings.Contains(all.String(), secret) || !strings.Contains(all.String(), "VIGIL_SECRET_CACHE_PASSWORD") {
		t.Fatalf("history (%d bytes) must name VIGIL_SECRET_CACHE_PASSWORD and never hold the secret", all.Len())
	}

	// create → describe shows the next runs in the schedule's zone.
	r = h.run("schedule", "create", "nightly", "--cron", "20 3 * * *", "--tz", "Asia/Tokyo", "--workflow", "batch", "--input", job)
	if r.code != 0 {
		t.Fatalf("create: %d %s", r.code, r.stderr)
	}
	r = h.run("schedule", "describe", "nightly")
	if r.code != 0 || !strings.Contains(r.stdout, "Asia/Tokyo") || strings.Count(r.stdout, "03:20:00 JST") != 5 {
		t.Fatalf("describe: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The watcher runs.
	testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, "the schedule watcher", func() bool {
		d, err := h.c.DescribeWorkflowExecution(context.Background(), workflows.ScheduleWatchID("nightly"), "")
		return err == nil && d.WorkflowExecutionInfo.GetStatus().String() == "Running"
	})

	// trigger → a run completes.
	if r = h.run("schedule", "trigger", "nightly"); r.code != 0 {
		t.Fatalf("trigger: %d %s", r.code, r.stderr)
	}
	testenv.Eventually(t, 60*time.Second, 100*time.Millisecond, "the triggered run to complete", func() bool {
		d, err := h.c.ScheduleClient().GetHandle(context.Background(), "nightly").Describe(context.Background())
		if err != nil || len(d.Info.RecentActions) == 0 {
			return false
		}
		ra := d.Info.RecentActions[0].StartWorkflowResult
		wd, err := h.c.DescribeWorkflowExecution(context.Background(), ra.WorkflowID, ra.FirstExecutionRunID)
		return err == nil && wd.WorkflowExecutionInfo.GetStatus().String() == "Completed"
	})

	// pause / unpause.
	if r = h.run("schedule", "pause", "nightly", "--note", "maintenance"); r.code != 0 {
		t.Fatalf("pause: %s", r.stderr)
	}
	d, err := h.c.ScheduleClient().GetHandle(context.Background(), "nightly").Describe(context.Background())
	if err != nil || !d.Schedule.State.Paused || d.Schedule.State.Note != "maintenance" {
		t.Fatalf("after pause: %+v %v", d.Schedule.State, err)
	}

	// apply twice: the second is all unchanged; --prune deletes every
	// vigil-managed schedule missing from the file (feed, and nightly made
	// with create).
	file := writeFile(t, dir, "schedules.yaml", `schedules:
  - id: hourly-dump
    cron: "20 * * * *"
    timezone: Asia/Tokyo
    workflow: batch
    input: jobs/dump.yaml
  - id: feed
    every: 5m
    workflow: batch
    input: {name: feed, kind: exec, exec: {command: "true"}}
`)
	if r = h.run("schedule", "apply", "-f", file); r.code != 0 || !strings.Contains(r.stdout, "create    hourly-dump") {
		t.Fatalf("apply: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r = h.run("schedule", "apply", "-f", file); r.code != 0 || strings.Count(r.stdout, "unchanged") != 2 {
		t.Fatalf("second apply: %q %q", r.stdout, r.stderr)
	}
	writeFile(t, dir, "schedules.yaml", strings.SplitN(mustRead(t, file), "  - id: feed", 2)[0])
	if r = h.run("schedule", "apply", "-f", file, "--prune"); r.code != 0 || !strings.Contains(r.stdout, "delete    feed") || !strings.Contains(r.stdout, "delete    nightly") || !strings.Contains(r.stdout, "unchanged hourly-dump") {
		t.Fatalf("prune: %q %q", r.stdout, r.stderr)
	}

	// backfill a range of a 10-minute schedule: 3 runs for [00:00, 00:30).
	if r = h.run("schedule", "create", "tenmin", "--every", "10m", "--workflow", "batch", "--input", job, "--paused"); r.code != 0 {
		t.Fatalf("create tenmin: %s", r.stderr)
	}
	if r = h.run("schedule", "backfill", "tenmin", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T00:29:59Z"); r.code != 0 {
		t.Fatalf("backfill: %s", r.stderr)
	}
	testenv.Eventually(t, 60*time.Second, 100*time.Millisecond, "3 backfilled runs", func() bool {
		d, err := h.c.ScheduleClient().GetHandle(context.Background(), "tenmin").Describe(context.Background())
		return err == nil && d.Info.NumActions == 3
	})

	// delete removes the schedule and stops its watcher; -o json says so
	// in one document with stable fields.
	if r = h.run("-o", "json", "schedule", "delete", "tenmin"); r.code != 0 ||
		strings.TrimSpace(r.stdout) != "{\n  \"schedule\": \"tenmin\",\n  \"action\": \"deleted\"\n}" {
		t.Fatalf("delete -o json: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if _, err := h.c.ScheduleClient().GetHandle(context.Background(), "tenmin").Describe(context.Background()); err == nil {
		t.Error("tenmin still exists")
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestScheduleCommandsRejectBadInput(t *testing.T) {
	dir := t.TempDir()
	job := writeFile(t, dir, "job.yaml", "name: j\nkind: exec\nexec: {command: \"true\"}\n")
	bad := writeFile(t, dir, "bad.yaml", "name: j\nkind: exec\n")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"schedule", "create", "s", "--cron", "61 * * * *", "--workflow", "batch", "--input", job}, "cron"},
		{[]string{"schedule", "create", "s", "--cron", "0 3 * * *", "--tz", "Mars/Base", "--workflow", "batch", "--input", job}, "unknown time zone"},
		{[]string{"schedule", "create", "s", "--every", "5m", "--workflow", "backupz", "--input", job}, "unknown workflow"},
		{[]string{"schedule", "create", "s", "--every", "5m", "--workflow", "batch", "--input", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{[]string{"schedule", "create", "s", "--every", "5m", "--workflow", "batch", "--input", bad}, "needs a \"exec\" section"},
		{[]string{"schedule", "create", "s", "--every", "5m", "--overlap", "skipp", "--workflow", "batch", "--input", job}, "overlap policy"},
		{[]string{"schedule", "create", "s", "--every", "5m", "--workflow", "batch", "--input", job, "--start-at", "tomorrow"}, "RFC 3339"},
		{[]string{"schedule", "backfill", "s", "--from", "x", "--to", "y"}, "RFC 3339"},
		{[]string{"schedule", "apply", "-f", filepath.Join(dir, "missing.yaml")}, "no such file"},
		{[]string{"batch", "run", "--job-file", bad}, "needs a \"exec\" section"},
		{[]string{"batch", "run", "--job-file", job, "--cron", "* * *"}, "--cron"},
	}
	for _, tc := range cases {
		r := runOffline(t, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestScheduleFiringPauseAndOverlapAlert: an every-2s schedule fires
// repeatedly; paused, it stops; with a job slower than the interval and
// overlap skip, runs are skipped and the watcher's Slack alert reaches the
// Slack sink.
func TestScheduleFiringPauseAndOverlapAlert(t *testing.T) {
	sink := slacksink.New(slacksink.Options{})
	sinkSrv := httptest.NewServer(sink)
	defer sinkSrv.Close()
	h := newVigilHarness(t, func(k string) string {
		if k == "VIGIL_SLACK_WEBHOOK_URL" {
			return sinkSrv.URL + "/_slack/alerts"
		}
		return ""
	})
	dir := t.TempDir()
	fast := writeFile(t, dir, "fast.yaml", "name: fast\nkind: exec\nexec: {command: \"true\"}\n")
	slow := writeFile(t, dir, "slow.yaml", "name: slow\nkind: exec\nexec: {command: sleep, args: [\"5\"]}\n")
	ctx := context.Background()
	actions := func(id string) int {
		d, err := h.c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d.Info.NumActions
	}
	if r := h.run("schedule", "create", "every2s", "--every", "2s", "--workflow", "batch", "--input", fast); r.code != 0 {
		t.Fatalf("create: %s", r.stderr)
	}
	testenv.Eventually(t, 60*time.Second, 100*time.Millisecond, "3 firings", func() bool { return actions("every2s") >= 3 })
	if r := h.run("schedule", "pause", "every2s"); r.code != 0 {
		t.Fatalf("pause: %s", r.stderr)
	}
	paused, at := actions("every2s"), time.Now()
	// Absence of firings is only meaningful once several intervals passed.
	testenv.Eventually(t, 30*time.Second, 200*time.Millisecond, "three intervals after the pause", func() bool {
		return time.Since(at) > 6*time.Second
	})
	if n := actions("every2s"); n != paused {
		t.Errorf("paused schedule fired: %d actions, was %d", n, paused)
	}

	appWatch := func(a *app) { a.watchInterval = 500 * time.Millisecond }
	var stdout, stderr syncBuffer
	code := runCLI(ctx, &stdout, &stderr, appWatch, append(append([]string{}, h.global...),
		"schedule", "create", "slow", "--every", "1s", "--overlap", "skip", "--workflow", "batch", "--input", slow)...)
	if code != 0 {
		t.Fatalf("create slow: %s", stderr.String())
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	m, err := sink.Wait(wctx, func(m slacksink.Message) bool { return strings.Contains(string(m.Payload), "skipped") })
	if err != nil {
		t.Fatalf("no skip alert reached the Slack sink: %v (messages: %d)", err, len(sink.Messages()))
	}
	if !strings.Contains(string(m.Payload), "slow") || !strings.Contains(string(m.Payload), "warning") {
		t.Errorf("alert = %s", m.Payload)
	}
	d, err := h.c.ScheduleClient().GetHandle(ctx, "slow").Describe(ctx)
	if err != nil || d.Info.NumActionsSkippedOverlap == 0 {
		t.Errorf("skipped = %d, %v", d.Info.NumActionsSkippedOverlap, err)
	}
}
