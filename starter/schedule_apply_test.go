package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// A paused schedule stays paused when a file without paused: is applied,
// even when the apply updates it; the plan names each changed field, pause
// included, and --dry-run prints the same plan as the apply.
func TestScheduleApplyKeepsPauseState(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	writeFile(t, dir, "jobs/j.yaml", "name: j\nkind: exec\nexec: {command: \"true\"}\n")
	file := func(cron, paused string) string {
		return writeFile(t, dir, "s.yaml", "schedules:\n  - id: paused-one\n    cron: \""+cron+"\"\n    workflow: batch\n    input: jobs/j.yaml\n"+paused)
	}
	isPaused := func() bool {
		t.Helper()
		d, err := h.c.ScheduleClient().GetHandle(context.Background(), "paused-one").Describe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return d.Schedule.State.Paused
	}
	if r := h.run("schedule", "apply", "-f", file("0 3 * * *", "")); r.code != 0 || isPaused() {
		t.Fatalf("first apply: %+v, paused=%v", r, isPaused())
	}
	if r := h.run("schedule", "pause", "paused-one", "--note", "maintenance"); r.code != 0 {
		t.Fatalf("pause: %+v", r)
	}
	// A definition change without paused: updates the schedule, not its pause.
	f := file("0 4 * * *", "")
	dry := h.run("schedule", "apply", "-f", f, "--dry-run")
	if dry.code != 0 || !strings.Contains(dry.stdout, "cron: 0 3 * * * → 0 4 * * *") || strings.Contains(dry.stdout, "paused:") {
		t.Fatalf("dry run: %+v", dry)
	}
	real := h.run("schedule", "apply", "-f", f)
	if real.code != 0 || real.stdout+"(dry run: nothing changed)\n" != dry.stdout {
		t.Fatalf("apply printed %q, the dry run %q", real.stdout, dry.stdout)
	}
	if !isPaused() {
		t.Fatal("apply of a file without paused: unpaused the schedule")
	}
	if r := h.run("schedule", "apply", "-f", f); r.code != 0 || !strings.HasPrefix(r.stdout, "unchanged") {
		t.Fatalf("re-apply: %+v", r)
	}
	// paused: false in the file is a change the plan shows, and apply makes.
	f = file("0 4 * * *", "    paused: false\n")
	dry = h.run("schedule", "apply", "-f", f, "--dry-run", "-o", "json")
	if dry.code != 0 || !strings.Contains(dry.stdout, `"paused: true → false"`) || !isPaused() {
		t.Fatalf("dry run of paused: false: %+v", dry)
	}
	if r := h.run("schedule", "apply", "-f", f); r.code != 0 || !strings.Contains(r.stdout, "paused: true → false") || isPaused() {
		t.Fatalf("apply of paused: false: %+v, paused=%v", r, isPaused())
	}
	// trigger prints the run it started.
	r := h.run("-o", "json", "schedule", "trigger", "paused-one")
	var run triggeredRun
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil || r.code != 0 || run.RunID == "" || !strings.HasPrefix(run.WorkflowID, "batch/paused-one") {
		t.Fatalf("trigger: %+v (%v)", r, err)
	}
	if _, err := h.c.DescribeWorkflowExecution(context.Background(), run.WorkflowID, run.RunID); err != nil {
		t.Errorf("the run trigger printed does not exist: %v", err)
	}
}
