package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputTable is R4 of issue 13 for the CLI: bad input across every
// starter command gets one clear line on stderr and exit 2, and nothing is
// contacted (runOffline fails the test if Temporal is dialled; AWS points
// at a closed port).
func TestBadInputTable(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_REGION", "us-east-1")
	dir := t.TempDir()
	job := writeFile(t, dir, "job.yaml", "name: j\nkind: exec\nexec: {command: \"true\"}\n")
	trunc := writeFile(t, dir, "trunc.yaml", "name: [unterminated\n")
	unknownKind := writeFile(t, dir, "unknown.json", `{"name": "j", "kind": "teleport"}`)
	empty := writeFile(t, dir, "empty.yaml", "")
	badURL := writeFile(t, dir, "badurl.yaml", "name: j\nkind: http\nhttp: {url: \"not a url\"}\n")
	wrongType := writeFile(t, dir, "wrongtype.yaml", "name: j\nkind: exec\nexec: {command: \"true\"}\ntimeout: banana\n")
	schedTrunc := writeFile(t, dir, "sched-trunc.yaml", "schedules:\n  - id: [\n")
	schedType := writeFile(t, dir, "sched-type.yaml", "schedules: 7\n")
	schedField := writeFile(t, dir, "sched-field.yaml", "schedules:\n  - id: a\n    cron: \"0 3 * * *\"\n    zone: Nowhere/City\n    workflow: batch\n    input: job.yaml\n")
	huge := strings.Repeat("x", 2000)
	file := "file:///tmp/x"
	cases := []struct {
		args []string
		want string
	}{
		// Global flags and the generic verbs.
		{[]string{"-o", "xml", "list"}, "--output must be text or json"},
		{[]string{"--task-queue", "a b", "list"}, "--task-queue"},
		{[]string{"--address", "host:notaport", "list"}, "--address"},
		{[]string{"list", "--limit", "5000"}, "--limit must be between 1 and 1000"},
		{[]string{"list", "--since", "yesterday"}, "unknown flag: --since"},
		{[]string{"list", "--status", "asleep"}, "--status must be one of"},
		{[]string{"list", "extra"}, "extra"},
		{[]string{"status", huge}, "at most 1000"},
		{[]string{"status", "a", "b"}, "exactly one workflow ID"},
		{[]string{"wait", ""}, "must not be empty"},
		{[]string{"wait", huge}, "at most 1000"},
		{[]string{"cancel", "a", "b"}, "exactly one workflow ID"},
		{[]string{"cancel", " "}, "must not be empty"},
		{[]string{"frobnicate"}, "unknown command"},
		// Glacier.
		{[]string{"glacier", "frobnicate"}, "unknown command \"frobnicate\""},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "", "--to", file}, "--archive-id ID or --inventory"},
		{[]string{"glacier", "retrieve", "--vault", "", "--inventory", "--to", file}, "--vault is required"},
		{[]string{"glacier", "retrieve", "--vault", "v/../x", "--inventory", "--to", file}, "--vault \"v/../x\""},
		{[]string{"glacier", "retrieve", "--vault", huge, "--inventory", "--to", file}, "1 to 255"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--inventory", "--to", "file:relative/x"}, "path must be absolute"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--inventory", "--to", "http://example.com/x"}, "want file:///abs/path or s3://bucket/key"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--inventory", "--to", "s3://bucket"}, "name the object"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--byte-range", "banana", "--to", file}, "want start-end"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--chunk-size", "-1", "--to", file}, "power of two"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--parallel", "0", "--to", file}, "want 1 to 64"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--deadline", "soon", "--to", file}, "invalid duration"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--poll-interval", "10s", "--to", file}, "--poll-interval 10s: want 0 (adapted) or at least 1m0s"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--deadline", "721h", "--to", file}, "--deadline 721h0m0s: want at most 720h0m0s"},
		{[]string{"glacier", "setup", "--vault", "bad vault"}, "--vault \"bad vault\""},
		// S3 restore.
		{[]string{"s3", "restore", "--bucket", "", "--key", "k"}, "missing bucket name"},
		{[]string{"s3", "restore", "--bucket", "UPPER", "--key", "k"}, "lowercase"},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--tier", "Turbo"}, "want one of Expedited, Standard, Bulk"},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--days", "-3"}, "want at least 1"},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--to", "s3://"}, "missing bucket name"},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--to", "file://"}, "want file://HOST/abs/path"},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--poll-interval", "never"}, "invalid duration"},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--poll-interval", "1s"}, "want 0 (adapted) or at least 1m0s"},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--deadline", "1000h"}, "want at most 720h0m0s"},
		{[]string{"datastore", "export", "--project", "demo-project", "--to", "gs://b/p", "--deadline", "800h"}, "--deadline 800h0m0s: want at most"},
		{[]string{"s3", "frobnicate"}, "unknown command"},
		// Batch jobs.
		{[]string{"batch", "run"}, "--job-file is required"},
		{[]string{"batch", "run", "--job-file", filepath.Join(dir, "missing.yaml")}, "no such file"},
		{[]string{"batch", "run", "--job-file", trunc}, "line 1"},
		{[]string{"batch", "run", "--job-file", unknownKind}, "kind \"teleport\""},
		{[]string{"batch", "run", "--job-file", empty}, "job file"},
		{[]string{"batch", "run", "--job-file", badURL}, "want an absolute http:// or https:// URL"},
		{[]string{"batch", "run", "--job-file", wrongType}, "duration \"banana\""},
		{[]string{"batch", "run", "--job-file", job, "--cron", "* * * * * * *"}, "expected exactly 5 fields"},
		// Schedules.
		{[]string{"schedule", "create", "", "--every", "5m", "--workflow", "batch", "--input", job}, "exactly one schedule ID"},
		{[]string{"schedule", "create", "s", "--every", "500ms", "--workflow", "batch", "--input", job}, "at least 1s"},
		{[]string{"schedule", "create", "s", "--every", "5m", "--cron", "0 3 * * *", "--workflow", "batch", "--input", job}, "not both"},
		{[]string{"schedule", "create", "s", "--workflow", "batch", "--input", job}, "needs cron or every"},
		{[]string{"schedule", "create", "s", "--every", "5m", "--workflow", "batch"}, "--input is required"},
		{[]string{"schedule", "create", "s", "--every", "banana", "--workflow", "batch", "--input", job}, "invalid duration"},
		{[]string{"schedule", "apply", "-f", schedTrunc}, "schedules file"},
		{[]string{"schedule", "apply", "-f", schedType}, "cannot unmarshal"},
		{[]string{"schedule", "apply", "-f", schedField}, "field zone not found"},
		{[]string{"schedule", "pause"}, "exactly one schedule ID"},
		{[]string{"schedule", "delete"}, "exactly one schedule ID"},
		{[]string{"schedule", "backfill", "s", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"}, "--to after --from"},
		{[]string{"schedule", "frobnicate"}, "unknown command"},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases; issue 13 asks for at least 40", len(cases))
	}
	for _, tc := range cases {
		name := strings.Join(tc.args, " ")
		if len(name) > 80 {
			name = name[:80]
		}
		t.Run(name, func(t *testing.T) {
			r := runOffline(t, tc.args...)
			line := strings.TrimSuffix(r.stderr, "\n")
			if r.code != 2 || !strings.HasPrefix(line, "starter: ") || strings.Contains(line, "\n") || !strings.Contains(line, tc.want) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, no output and one line with %q", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
}
