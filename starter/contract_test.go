package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// closedAddr is a 127.0.0.1 address nothing listens on (a port bound and
// released).
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// contractCase is one verb's three failure cases; nil args skip a case
// that does not apply (a verb that names nothing cannot miss it).
type contractCase struct {
	verb string
	// notFound names something that does not exist: exit 3.
	notFound []string
	// temporalDown runs with --address at a closed port: exit 4.
	temporalDown []string
	// cloudDown runs with AWS_ENDPOINT_URL at a closed port (or a GCP
	// endpoint there): exit 4.
	cloudDown []string
	// refused is invalid input, rejected before contacting anything: exit 2.
	refused []string
}

// TestExitCodeContract runs every verb's not-found, unreachable and
// refused-input case against the real Temporal server and the local cloud:
// the exit code is the documented one and the error is one line that does
// not leak the server's internal IDs.
func TestExitCodeContract(t *testing.T) {
	h, cloud, _ := newS3Harness(t)
	if err := cloud.S3.CreateBucket("inbox"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := writePipeline(t, nonePipeline)
	job := writeFile(t, dir, "job.yaml", "name: j\nkind: exec\nexec: {command: \"true\"}\n")
	sched := writeFile(t, dir, "s.yaml", "schedules:\n  - id: s\n    cron: \"0 3 * * *\"\n    workflow: batch\n    input: job.yaml\n")
	dead := closedAddr(t)
	file := "file://" + dir + "/out"
	cases := []contractCase{
		{verb: "list", temporalDown: []string{"list"}, refused: []string{"list", "--limit", "0"}},
		{verb: "status", notFound: []string{"status", "nope/x"}, temporalDown: []string{"status", "x"}, refused: []string{"status"}},
		{verb: "wait", notFound: []string{"wait", "nope/x"}, temporalDown: []string{"wait", "x"}, refused: []string{"wait", ""}},
		{verb: "cancel", notFound: []string{"cancel", "nope/x"}, temporalDown: []string{"cancel", "x"}, refused: []string{"cancel"}},
		{verb: "batch run", temporalDown: []string{"batch", "run", "--job-file", job}, refused: []string{"batch", "run"}},
		{verb: "schedule list", temporalDown: []string{"schedule", "list"}, refused: []string{"schedule", "list", "x"}},
		{verb: "schedule describe", notFound: []string{"schedule", "describe", "nope"}, temporalDown: []string{"schedule", "describe", "x"}, refused: []string{"schedule", "describe"}},
		{verb: "schedule pause", notFound: []string{"schedule", "pause", "nope"}, temporalDown: []string{"schedule", "pause", "x"}, refused: []string{"schedule", "pause"}},
		{verb: "schedule unpause", notFound: []string{"schedule", "unpause", "nope"}, temporalDown: []string{"schedule", "unpause", "x"}, refused: []string{"schedule", "unpause", ""}},
		{verb: "schedule trigger", notFound: []string{"schedule", "trigger", "nope"}, temporalDown: []string{"schedule", "trigger", "x"}, refused: []string{"schedule", "trigger", "x", "--overlap", "bogus"}},
		{verb: "schedule backfill", notFound: []string{"schedule", "backfill", "nope", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z"},
			temporalDown: []string{"schedule", "backfill", "x", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z"}, refused: []string{"schedule", "backfill", "x", "--from", "yesterday", "--to", "today"}},
		{verb: "schedule delete", notFound: []string{"schedule", "delete", "nope"}, temporalDown: []string{"schedule", "delete", "x"}, refused: []string{"schedule", "delete"}},
		{verb: "schedule update", notFound: []string{"schedule", "update", "nope", "--cron", "0 3 * * *", "--workflow", "batch", "--input", job},
			temporalDown: []string{"schedule", "update", "x", "--cron", "0 3 * * *", "--workflow", "batch", "--input", job}, refused: []string{"schedule", "update", "x", "--cron", "0 3 * * *"}},
		{verb: "schedule create", temporalDown: []string{"schedule", "create", "x", "--cron", "0 3 * * *", "--workflow", "batch", "--input", job}, refused: []string{"schedule", "create", "x", "--cron", "61 * * * *", "--workflow", "batch", "--input", job}},
		{verb: "schedule apply", temporalDown: []string{"schedule", "apply", "-f", sched}, refused: []string{"schedule", "apply"}},
		{verb: "s3 process", notFound: []string{"s3", "process", "--bucket", "inbox", "--key", "missing.csv", "--pipeline", p},
			cloudDown: []string{"s3", "process", "--bucket", "inbox", "--key", "k", "--pipeline", p}, refused: []string{"s3", "process", "--bucket", "inbox"}},
		{verb: "s3 process (bucket)", notFound: []string{"s3", "process", "--bucket", "no-such-bucket", "--key", "k", "--pipeline", p}},
		{verb: "s3 unbind", notFound: []string{"s3", "unbind", "--bucket", "inbox", "--prefix", "nothing-here/"},
			temporalDown: []string{"s3", "unbind", "--bucket", "inbox", "--prefix", "nothing-here/"}, refused: []string{"s3", "unbind", "--bucket", "inbox", "--prefix", "x"}},
		{verb: "s3 setup-restore-events", notFound: []string{"s3", "setup-restore-events", "--bucket", "no-such-bucket"},
			cloudDown: []string{"s3", "setup-restore-events", "--bucket", "inbox"}, refused: []string{"s3", "setup-restore-events", "--bucket", "B_ad"}},
		{verb: "s3 setup-events", notFound: []string{"s3", "setup-events", "--bucket", "no-such-bucket", "--prefix", "incoming/", "--pipeline", p},
			cloudDown: []string{"s3", "setup-events", "--bucket", "inbox", "--prefix", "incoming/", "--pipeline", p}, refused: []string{"s3", "setup-events", "--bucket", "inbox", "--prefix", "incoming"}},
		{verb: "s3 sweep", notFound: []string{"s3", "sweep", "--bucket", "inbox", "--prefix", "unbound/"},
			temporalDown: []string{"s3", "sweep", "--bucket", "inbox", "--prefix", "unbound/"}, refused: []string{"s3", "sweep", "--bucket", "inbox", "--prefix", "/x/"}},
		{verb: "s3 generate", notFound: []string{"s3", "generate", "--bucket", "no-such-bucket", "--count", "1"},
			cloudDown: []string{"s3", "generate", "--bucket", "inbox", "--count", "1"}, refused: []string{"s3", "generate", "--bucket", "inbox", "--count", "0"}},
		{verb: "s3 bindings", temporalDown: []string{"s3", "bindings"}, refused: []string{"s3", "bindings", "extra"}},
		{verb: "glacier setup", cloudDown: []string{"glacier", "setup", "--vault", "v"}, refused: []string{"glacier", "setup"}},
		{verb: "s3 restore", notFound: []string{"s3", "restore", "--bucket", "inbox", "--key", "missing.csv"},
			cloudDown: []string{"s3", "restore", "--bucket", "inbox", "--key", "k"}, refused: []string{"s3", "restore", "--bucket", "inbox", "--key", "k", "--tier", "Fast"}},
		{verb: "glacier retrieve", notFound: []string{"glacier", "retrieve", "--vault", "no-such-vault", "--inventory", "--to", file},
			cloudDown: []string{"glacier", "retrieve", "--vault", "v", "--inventory", "--to", file}, refused: []string{"glacier", "retrieve", "--inventory", "--to", file}},
		{verb: "backup list", notFound: []string{"backup", "list", "s3://no-such-bucket/cache/"}, cloudDown: []string{"backup", "list", "s3://inbox/cache/"},
			refused: []string{"backup", "list", "file:///x"}},
		{verb: "backup run", temporalDown: []string{"backup", "run", "--name", "n", "--from", "file:///etc/hostname", "--to", "s3://inbox/"},
			refused: []string{"backup", "run", "--name", "n", "--from", "ftp://h/x", "--to", "s3://inbox/"}},
		{verb: "backup restore", temporalDown: []string{"backup", "restore", "--from", "s3://inbox/cache/", "--to", file},
			refused: []string{"backup", "restore", "--from", "s3://inbox/cache/"}},
		{verb: "datastore export", temporalDown: []string{"datastore", "export", "--project", "demo-project", "--to", "gs://b/x"},
			refused: []string{"datastore", "export", "--project", "demo-project"}},
		{verb: "datastore import", temporalDown: []string{"datastore", "import", "--project", "demo-project", "--from", "gs://b/x/x.overall_export_metadata", "--yes"},
			refused: []string{"datastore", "import", "--project", "demo-project", "--from", "gs://b/x/x.overall_export_metadata"}},
		{verb: "datastore operations", cloudDown: []string{"datastore", "operations", "--project", "demo-project", "--endpoint", dead}, // GCP
			refused: []string{"datastore", "operations", "--project", "Bad Project"}},
	}
	check := func(what string, r cliResult, code int, want string) {
		t.Helper()
		if r.code != code || !oneLineErr(r.stderr) || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "temporal-sys-scheduler") {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and one line containing %q", what, r.code, r.stderr, code, want)
		}
	}
	for _, c := range cases {
		if c.notFound != nil {
			check(c.verb+" not found", h.runWithin(time.Minute, c.notFound...), 3, "")
		}
		if c.temporalDown != nil {
			check(c.verb+" Temporal down", h.runWithin(time.Minute, append([]string{"--address", dead}, c.temporalDown...)...), 4, "cannot reach Temporal at "+dead)
		}
		if c.refused != nil {
			check(c.verb+" refused input", runOffline(t, c.refused...), 2, "")
		}
	}
	// The cloud at a closed port: every AWS/GCP verb exits 4 and says so.
	t.Setenv("AWS_ENDPOINT_URL", "http://"+dead)
	for _, c := range cases {
		if c.cloudDown != nil {
			check(c.verb+" cloud down", h.runWithin(time.Minute, c.cloudDown...), 4, "cannot connect")
		}
	}
	// An AWS endpoint whose certificate is not trusted: a TLS failure, exit 4.
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	t.Setenv("AWS_ENDPOINT_URL", tlsSrv.URL)
	check("s3 process untrusted TLS", h.runWithin(time.Minute, "s3", "process", "--bucket", "inbox", "--key", "k", "--pipeline", p), 4,
		"S3 HeadObject: TLS handshake failed: the server's certificate is signed by an unknown authority")
	t.Setenv("AWS_ENDPOINT_URL", "http://"+dead)
	// -o json: the one line becomes one object; the chain is its details.
	r := h.runWithin(time.Minute, "-o", "json", "s3", "process", "--bucket", "inbox", "--key", "k", "--pipeline", p)
	var obj struct {
		Error    string   `json:"error"`
		ExitCode int      `json:"exitCode"`
		Details  []string `json:"details"`
	}
	if err := json.Unmarshal([]byte(r.stderr), &obj); err != nil || obj.ExitCode != 4 || len(obj.Details) < 2 ||
		!strings.Contains(obj.Error, "S3 HeadObject: cannot connect to") || strings.Contains(obj.Error, "exceeded maximum number of attempts") {
		t.Errorf("-o json unreachable: exit %d, stderr %q (%v)", r.code, r.stderr, err)
	}
	// --log-level debug prints the chain after the one line.
	if r := h.runWithin(time.Minute, "--log-level", "debug", "backup", "list", "s3://inbox/cache/"); r.code != 4 || !strings.Contains(r.stderr, "error chain") {
		t.Errorf("--log-level debug: exit %d, stderr %q", r.code, r.stderr)
	}
}

// -o json works on every verb: datastore export's destination is --to (its
// old --output shadowed the global -o); the old names still work and warn.
func TestDestinationFlagsAndAliases(t *testing.T) {
	r := runOffline(t, "-o", "json", "datastore", "export", "--project", "demo-project")
	var obj struct {
		Error    string `json:"error"`
		ExitCode int    `json:"exitCode"`
	}
	if err := json.Unmarshal([]byte(r.stderr), &obj); err != nil || obj.ExitCode != 2 || !strings.Contains(obj.Error, "--to gs://") {
		t.Errorf("-o json datastore export: exit %d, stderr %q", r.code, r.stderr)
	}
	// The old --output gs://... is taken as --to, with one warning line.
	r = runOffline(t, "datastore", "export", "--project", "demo-project", "--output", "gs://b/x", "--deadline", "-1s")
	if r.code != 2 || !strings.Contains(r.stderr, "warning: --output URL is deprecated; use --to") || strings.Contains(r.stderr, "text or json") {
		t.Errorf("datastore export --output: exit %d, stderr %q", r.code, r.stderr)
	}
	// backup run --source is now --from.
	r = runOffline(t, "backup", "run", "--name", "n", "--source", "ftp://h/x", "--to", "s3://b/")
	if r.code != 2 || !strings.Contains(r.stderr, "starter: warning: --source is deprecated; use --from\n") || !strings.Contains(r.stderr, `unknown scheme "ftp"`) {
		t.Errorf("backup run --source: exit %d, stderr %q", r.code, r.stderr)
	}
}
