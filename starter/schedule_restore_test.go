package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// triggerInput triggers schedule id and decodes the input its run started
// with into v; it returns the run's workflow ID and type.
func (h *harness) triggerInput(id string, v any) (string, string) {
	h.t.Helper()
	r := h.run("-o", "json", "schedule", "trigger", id)
	var run triggeredRun
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil || r.code != 0 || run.WorkflowID == "" {
		h.t.Fatalf("trigger %s: %+v (%v)", id, r, err)
	}
	ev, err := h.c.GetWorkflowHistory(context.Background(), run.WorkflowID, run.RunID, false, 0).Next()
	if err != nil {
		h.t.Fatal(err)
	}
	started := ev.GetWorkflowExecutionStartedEventAttributes()
	if err := converter.GetDefaultDataConverter().FromPayloads(started.GetInput(), v); err != nil {
		h.t.Fatalf("input of %s: %v", run.WorkflowID, err)
	}
	return run.WorkflowID, started.GetWorkflowType().GetName()
}

// TestScheduleRestoreDrill: a restore drill from a schedules file, with
// verify: full and hostWait, starts runs whose input carries them; its
// destination's host is checked as for `backup restore` (a host no
// worker serves is refused, exit 2, nothing created, unless
// --allow-unknown-host). A glacier retrieval scheduled with
// `schedule create --input` carries verify: full too, and a verify: full
// that does not apply (an s3:// destination) is refused with one line.
func TestScheduleRestoreDrill(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	writeFile(t, dir, "drill/scratch.yaml", "from: s3://demo-backups/cache/\nto: file://scratch-01/srv/drill/cache.bin\nverify: full\nhostWait: 2h\n")
	file := writeFile(t, dir, "drill/schedules.yaml", "schedules:\n  - id: restore-drill\n    cron: \"0 6 1 * *\"\n    workflow: restore\n    input: scratch.yaml\n")

	want := `schedule restore-drill: no worker serves host "scratch-01"`
	r := h.run("schedule", "apply", "-f", file)
	if r.code != 2 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "did you mean file:///scratch-01/srv/drill/cache.bin?") ||
		strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("apply with an unknown host: exit %d, stderr %q; want 2 and one line %q", r.code, r.stderr, want)
	}
	if _, err := h.c.ScheduleClient().GetHandle(context.Background(), "restore-drill").Describe(context.Background()); err == nil {
		t.Fatal("the refused apply created the schedule")
	}
	if r := h.run("schedule", "apply", "-f", file, "--allow-unknown-host"); r.code != 0 || !strings.Contains(r.stdout, "create") {
		t.Fatalf("apply --allow-unknown-host: %+v", r)
	}
	var in flowdata.RestoreInput
	id, typ := h.triggerInput("restore-drill", &in)
	if !strings.HasPrefix(id, "restore/restore-drill") || typ != workflows.RestoreName || in.Verify != flowdata.VerifyFull ||
		in.HostWait.D() != 2*time.Hour || in.To != "file://scratch-01/srv/drill/cache.bin" {
		t.Errorf("run %s (%s) input %+v; want a RestoreWorkflow with verify full, hostWait 2h", id, typ, in)
	}

	glacier := writeFile(t, dir, "glacier.yaml", "vault: demo-vault\ninventory: true\nto: file:///tmp/vigil-inv.json\nverify: full\nchunkSize: 16\n")
	if r := h.run("schedule", "create", "inventory-weekly", "--every", "168h", "--workflow", "glacier", "--input", glacier); r.code != 0 {
		t.Fatalf("schedule create --workflow glacier: %+v", r)
	}
	var g workflows.GlacierRetrieveInput
	id, typ = h.triggerInput("inventory-weekly", &g)
	if !strings.HasPrefix(id, "glacier/inventory-weekly") || typ != workflows.GlacierRetrieveName || g.Verify != flowdata.VerifyFull ||
		g.ChunkSize != 16<<20 || g.Tier != flowdata.TierStandard || g.Deadline.D() != workflows.DefaultGlacierDeadline {
		t.Errorf("run %s (%s) input %+v; want a GlacierRetrieveWorkflow with verify full, 16 MiB chunks and the verb's defaults", id, typ, g)
	}

	bad := writeFile(t, dir, "copy.yaml", "bucket: demo-archive\nkey: db.dump\nto: s3://scratch/db.dump\nverify: full\n")
	r = h.run("schedule", "create", "copy", "--every", "24h", "--workflow", "s3restore", "--input", bad)
	if r.code != 2 || !strings.Contains(r.stderr, "verify full applies to to file:// destinations") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("verify full to s3://: exit %d, stderr %q; want 2 and one line", r.code, r.stderr)
	}
}

// TestGlacierVerifyFullNeedsFileDestination: glacier retrieve refuses
// --verify full with an s3:// destination (nothing there is re-read from
// a worker's disk), as s3 restore does and as a glacier schedule input
// does, with one line before anything is contacted.
func TestGlacierVerifyFullNeedsFileDestination(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // would fail loudly if contacted
	t.Setenv("AWS_REGION", "us-east-1")
	r := runOffline(t, "glacier", "retrieve", "--vault", "v", "--inventory", "--to", "s3://bkt/inv.json", "--verify", "full")
	want := "--verify full applies to --to file:// destinations"
	if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q; want 2 and one line with %q", r.code, r.stderr, want)
	}
}
