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

// TestHostCheckS3PipelinesAndJobs: a pipeline whose exec processor names a
// host no worker serves (a typo) is refused with exit 2 by s3 setup-events,
// s3 process and s3 sweep before anything is set up or started (without
// the check every object would wait 24 h for that host); so are backup run
// from file://srv/... and batch run of an exec job with such a host.
// --allow-unknown-host starts anyway.
func TestHostCheckS3PipelinesAndJobs(t *testing.T) {
	h, _, _ := newS3Harness(t)
	here := activities.DefaultHostName()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pipeline := write("p.yaml", "name: reports\nprocessor: {kind: exec, exec: {command: wc, args: [\"-l\", \"{{.Path}}\"], host: srv}}\n")
	job := write("job.yaml", "name: disk-report\nkind: exec\nexec: {command: df, host: srv}\n")
	want := `no worker serves host "srv" (known: ` + here + `)`
	for _, args := range [][]string{
		{"s3", "setup-events", "--bucket", "bkt", "--prefix", "in/", "--pipeline", pipeline},
		{"s3", "process", "--bucket", "bkt", "--key", "in/k", "--pipeline", pipeline},
		{"s3", "sweep", "--bucket", "bkt", "--prefix", "in/", "--pipeline", pipeline},
		{"backup", "run", "--name", "db", "--from", "file://srv/db.dump", "--to", "s3://bkt/prod/"},
		{"batch", "run", "--job-file", job},
	} {
		// The worker's pollers may take a moment to be listed.
		var r cliResult
		testenv.Eventually(t, 30*time.Second, 200*time.Millisecond, "the refusal to name the worker's host", func() bool {
			r = h.run(args...)
			return strings.Contains(r.stderr, "(known: "+here+")")
		})
		if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "started") || strings.Contains(r.stdout, "bound") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", args, r.code, r.stdout, r.stderr, want)
		}
	}
	if r := h.run("backup", "run", "--name", "db", "--from", "file://srv/db.dump", "--to", "s3://bkt/prod/"); !strings.Contains(r.stderr, "did you mean file:///srv/db.dump?") {
		t.Errorf("backup run: stderr %q, want the URL meant", r.stderr)
	}
	if out, err := h.c.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{}); err == nil && len(out.GetExecutions()) != 0 {
		t.Errorf("refused starts left %d workflows", len(out.GetExecutions()))
	}
	if r := h.run("s3", "sweep", "--bucket", "bkt", "--prefix", "in/", "--pipeline", pipeline, "--allow-unknown-host"); r.code != 0 || strings.Contains(r.stderr, "no worker serves") {
		t.Errorf("--allow-unknown-host: exit %d, stderr %q; want the sweep started", r.code, r.stderr)
	}
}
