package schedules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/testenv"
)

const jobYAML = `name: nightly-dump
kind: http
http: {method: POST, url: "http://127.0.0.1:5000/s3dump", expectStatus: [200, 204]}
`

func writeFiles(t *testing.T, dir, schedules string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "jobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jobs", "nightly-dump.yaml"), []byte(jobYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "schedules.yaml")
	if err := os.WriteFile(p, []byte(schedules), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const twoSchedules = `schedules:
  - id: nightly-dump
    cron: "20 * * * *"
    timezone: Asia/Tokyo
    workflow: batch
    input: jobs/nightly-dump.yaml   # a path relative to this file
  - id: feed
    every: 5m
    overlap: buffer-one
    workflow: batch
    paused: true
    input:
      name: dummy-feed
      kind: s3-put
      s3Put: {bucket: feed-store, key: 'dummy-feed/{{.RunID}}', content: "batch job"}
`

func actions(steps []Step) string {
	var parts []string
	for _, s := range steps {
		parts = append(parts, s.ID+"="+string(s.Action))
	}
	return strings.Join(parts, " ")
}

func TestApplyIsIdempotentAndPrunes(t *testing.T) {
	ts := testenv.NewTemporal(t)
	c := testenv.NewClient(t, ts)
	ctx := context.Background()
	dir := t.TempDir()
	path := writeFiles(t, dir, twoSchedules)

	// A schedule vigil does not manage must survive --prune.
	if _, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{ID: "someone-elses",
		Spec:   client.ScheduleSpec{CronExpressions: []string{"0 0 * * *"}},
		Action: &client.ScheduleWorkflowAction{Workflow: "Other", TaskQueue: "other"}, Paused: true}); err != nil {
		t.Fatal(err)
	}

	plan := func(prune bool) []Step {
		built, err := ReadFile(path, "vigil")
		if err != nil {
			t.Fatal(err)
		}
		steps, err := Plan(ctx, c, built, prune)
		if err != nil {
			t.Fatal(err)
		}
		return steps
	}
	steps := plan(true)
	if got := actions(steps); got != "nightly-dump=create feed=create" {
		t.Fatalf("first plan = %s", got)
	}
	if err := Apply(ctx, c, steps); err != nil {
		t.Fatal(err)
	}
	if got := actions(plan(true)); got != "nightly-dump=unchanged feed=unchanged" {
		t.Fatalf("second plan = %s, want all unchanged", got)
	}
	desc, err := c.ScheduleClient().GetHandle(ctx, "nightly-dump").Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Schedule.Spec.TimeZoneName != "Asia/Tokyo" || desc.Schedule.State.Paused {
		t.Errorf("nightly-dump = %+v %+v", desc.Schedule.Spec, desc.Schedule.State)
	}
	// Its runs carry the Web UI summary of their input.
	if a, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction); !ok || a.StaticSummary != "batch job nightly-dump (http)" {
		t.Errorf("nightly-dump action = %+v, want the static summary of its job", desc.Schedule.Action)
	}

	// Editing the referenced job file is a change too.
	if err := os.WriteFile(filepath.Join(dir, "jobs", "nightly-dump.yaml"), []byte(strings.Replace(jobYAML, "5000", "5001", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	steps = plan(false)
	if got := actions(steps); got != "nightly-dump=update feed=unchanged" {
		t.Fatalf("plan after editing the job = %s", got)
	}
	if err := Apply(ctx, c, steps); err != nil {
		t.Fatal(err)
	}
	if got := actions(plan(false)); got != "nightly-dump=unchanged feed=unchanged" {
		t.Fatalf("plan after update = %s", got)
	}

	// Dropping feed from the file: kept without --prune, deleted with it.
	if err := os.WriteFile(path, []byte(strings.SplitN(twoSchedules, "  - id: feed", 2)[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := actions(plan(false)); got != "nightly-dump=unchanged" {
		t.Fatalf("plan without prune = %s", got)
	}
	steps = plan(true)
	if got := actions(steps); got != "nightly-dump=unchanged feed=delete" {
		t.Fatalf("plan with prune = %s", got)
	}
	if err := Apply(ctx, c, steps); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ScheduleClient().GetHandle(ctx, "feed").Describe(ctx); err == nil {
		t.Error("feed still exists after prune")
	}
	if _, err := c.ScheduleClient().GetHandle(ctx, "someone-elses").Describe(ctx); err != nil {
		t.Errorf("prune touched a schedule vigil does not manage: %v", err)
	}
}

func TestBuildRejectsBadSpecs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, "schedules: []\n")
	cases := map[string]string{
		"schedules:\n  - {id: a, cron: '61 * * * *', workflow: batch, input: jobs/nightly-dump.yaml}\n":                                                                "cron",
		"schedules:\n  - {id: a, cron: '0 3 * * *', timezone: Mars/Olympus, workflow: batch, input: jobs/nightly-dump.yaml}\n":                                         "unknown time zone",
		"schedules:\n  - {id: a, every: 5m, workflow: backupz, input: jobs/nightly-dump.yaml}\n":                                                                       "unknown workflow",
		"schedules:\n  - {id: a, every: 5m, overlap: skipp, workflow: batch, input: jobs/nightly-dump.yaml}\n":                                                         "overlap policy",
		"schedules:\n  - {id: a, every: 5m, workflow: batch, input: jobs/missing.yaml}\n":                                                                              "no such file",
		"schedules:\n  - {id: a, workflow: batch, input: jobs/nightly-dump.yaml}\n":                                                                                    "needs cron or every",
		"schedules:\n  - {id: a, cron: '0 * * * *', every: 5m, workflow: batch, input: jobs/nightly-dump.yaml}\n":                                                      "not both",
		"schedules:\n  - {id: a, every: 5m, workflow: batch, input: {name: x, kind: exec}}\n":                                                                          "needs a \"exec\" section",
		"schedules:\n  - {id: a, every: 5m, workflow: batch, input: jobs/nightly-dump.yaml}\n  - {id: a, every: 1m, workflow: batch, input: jobs/nightly-dump.yaml}\n": "twice",
		"schedules:\n  - {id: a, evry: 5m}\n": "evry",
	}
	for in, want := range cases {
		p := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(p, []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadFile(p, "vigil"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadFile(%q) = %v, want error containing %q", in, err, want)
		}
	}
}
