package schedules

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
)

// TestTaskQueueRouting checks where each schedule's runs go: the
// schedule's taskQueue, else the job file's, else the starter's.
func TestTaskQueueRouting(t *testing.T) {
	dir := t.TempDir()
	p := writeFiles(t, dir, `schedules:
  - id: default
    every: 5m
    workflow: batch
    input: jobs/nightly-dump.yaml
  - id: from-job
    every: 5m
    workflow: batch
    input: {name: heavy, kind: exec, exec: {command: "true"}, taskQueue: vigil-heavy}
  - id: from-schedule
    every: 5m
    workflow: batch
    taskQueue: vigil-other
    input: {name: heavy, kind: exec, exec: {command: "true"}, taskQueue: vigil-heavy}
`)
	built, err := ReadFile(p, "vigil")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"default": "vigil", "from-job": "vigil-heavy", "from-schedule": "vigil-other"}
	for _, b := range built {
		got := b.Options.Action.(*client.ScheduleWorkflowAction).TaskQueue
		if got != want[b.Spec.ID] {
			t.Errorf("schedule %s: task queue %q, want %q", b.Spec.ID, got, want[b.Spec.ID])
		}
	}
	if len(built) != len(want) {
		t.Fatalf("built %d schedules, want %d", len(built), len(want))
	}
	bad := writeFiles(t, filepath.Join(dir, "bad"), "schedules:\n  - {id: a, every: 5m, workflow: batch, taskQueue: 'a@b', input: jobs/nightly-dump.yaml}\n")
	if _, err := ReadFile(bad, "vigil"); err == nil {
		t.Fatal("a taskQueue with '@' was accepted")
	}
}

// TestTaskQueueChangeIsPlanned: a schedule whose runs move to another task
// queue (here: only the starter's --task-queue changed) plans as a
// "taskQueue" change, not as unchanged or as a whole "definition".
func TestTaskQueueChangeIsPlanned(t *testing.T) {
	p := writeFiles(t, t.TempDir(), "schedules:\n  - {id: a, every: 5m, workflow: batch, input: jobs/nightly-dump.yaml}\n")
	before, err := ReadFile(p, "vigil")
	if err != nil {
		t.Fatal(err)
	}
	after, err := ReadFile(p, "vigil-heavy")
	if err != nil {
		t.Fatal(err)
	}
	live := &client.ScheduleDescription{Schedule: client.Schedule{Action: before[0].Options.Action}}
	if got := Changes(live, before[0]); len(got) != 0 {
		t.Fatalf("the same build plans changes %q", got)
	}
	got := Changes(live, after[0])
	if len(got) != 1 || got[0] != "taskQueue: vigil → vigil-heavy" {
		t.Fatalf("changes %q, want the one taskQueue change", got)
	}
}
