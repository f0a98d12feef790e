package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/testenv"
)

// TestHostCheckRefusesUnknownHost: the typo file://srv/r.bin (meant:
// file:///srv/r.bin) names a host no worker serves; backup restore,
// glacier retrieve and s3 restore are refused with exit
// 2 before anything starts (a backup schedule with such a source too), naming the hosts workers serve and the URL
// the user probably meant. --allow-unknown-host starts the run; a host a
// worker serves passes the check.
func TestHostCheckRefusesUnknownHost(t *testing.T) {
	h, _, _ := newS3Harness(t)
	here := activities.DefaultHostName()
	want := `no worker serves host "srv" (known: ` + here + `); did you mean file:///srv/r.bin?`
	for _, args := range [][]string{
		{"backup", "restore", "--from", "s3://bkt/prod/db/", "--to", "file://srv/r.bin"},
		{"backup", "restore", "--from", "s3://bkt/prod/db/", "--to", "file:///srv/r.bin", "--host", "srv"},
		{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--to", "file://srv/r.bin"},
		{"s3", "restore", "--bucket", "bkt", "--key", "k", "--to", "file://srv/r.bin"},
	} {
		// The worker's pollers may take a moment to be listed.
		var r cliResult
		testenv.Eventually(t, 30*time.Second, 200*time.Millisecond, "the refusal to name the worker's host", func() bool {
			r = h.run(args...)
			return strings.Contains(r.stderr, "(known: "+here+")")
		})
		if r.code != 2 || !strings.Contains(r.stderr, `no worker serves host "srv"`) || strings.Contains(r.stderr, "started") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and the refusal", args, r.code, r.stderr)
		}
		if strings.Contains(strings.Join(args, " "), "file://srv/") && !strings.Contains(r.stderr, want) {
			t.Errorf("%v: stderr %q, want %q", args, r.stderr, want)
		}
	}
	if out, err := h.c.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{}); err == nil && len(out.GetExecutions()) != 0 {
		t.Errorf("refused starts left %d workflows", len(out.GetExecutions()))
	}

	input := filepath.Join(t.TempDir(), "backup.yaml")
	if err := os.WriteFile(input, []byte("name: db\nsource: file://srv/db.dump\ntarget: s3://bkt/prod/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantSched := `no worker serves host "srv" (known: ` + here + `); did you mean file:///srv/db.dump?`
	if r := h.run("schedule", "create", "typo", "--every", "1h", "--workflow", "backup", "--input", input); r.code != 2 || !strings.Contains(r.stderr, wantSched) {
		t.Errorf("schedule create: exit %d, stderr %q; want 2 and %q", r.code, r.stderr, wantSched)
	}

	r := h.run("backup", "restore", "--from", "s3://bkt/prod/db/", "--to", "file://srv/r.bin", "--allow-unknown-host", "--host-wait", "2h")
	if r.code != 0 || !strings.Contains(r.stderr, "started restore/") {
		t.Errorf("--allow-unknown-host: exit %d, stderr %q; want the run started", r.code, r.stderr)
	}
	// A served host passes the check (the run then fails on the missing
	// vault, which is not the host check's business).
	r = h.run("glacier", "retrieve", "--vault", "no-such-vault", "--archive-id", "a", "--to", "file://"+here+"/tmp/x.bin")
	if r.code != 3 || !strings.Contains(r.stderr, `no such vault "no-such-vault"`) {
		t.Errorf("served host %s: exit %d, stderr %q; want past the host check, to the vault check (exit 3)", here, r.code, r.stderr)
	}
}
