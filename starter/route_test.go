package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestBatchRunRoutesToTheJobsTaskQueue starts a job whose file names a
// task queue (no worker polls it) and finds the run on that queue; a job
// without one goes to --task-queue.
func TestBatchRunRoutesToTheJobsTaskQueue(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	for name, tq := range map[string]string{"routed": "taskQueue: vigil-heavy\n", "plain": ""} {
		file := filepath.Join(dir, name+".yaml")
		job := "name: " + name + "\nkind: exec\nexec: {command: \"true\"}\n" + tq
		if err := os.WriteFile(file, []byte(job), 0o644); err != nil {
			t.Fatal(err)
		}
		id := "route/" + name
		if r := h.run("batch", "run", "--job-file", file, "--id", id, "--task-queue", "vigil-light"); r.code != 0 {
			t.Fatalf("batch run %s: exit %d, stderr %q", name, r.code, r.stderr)
		}
		d, err := h.c.DescribeWorkflowExecution(context.Background(), id, "")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"routed": "vigil-heavy", "plain": "vigil-light"}[name]
		if got := d.GetWorkflowExecutionInfo().GetTaskQueue(); got != want {
			t.Errorf("%s: started on task queue %q, want %q", name, got, want)
		}
		if err := h.c.TerminateWorkflow(context.Background(), id, "", "test done"); err != nil {
			t.Fatal(err)
		}
	}
}
