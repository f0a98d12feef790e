package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/localcloud/dsemu"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func TestDatastoreUsageErrors(t *testing.T) {
	ok := func(extra ...string) []string {
		return append([]string{"datastore", "export", "--project", "demo-project", "--to", "gs://b/x"}, extra...)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"datastore", "export", "--to", "gs://b/x"}, "--project is required (or set GOOGLE_CLOUD_PROJECT)"},
		{[]string{"datastore", "export", "--project", "Demo_Project", "--to", "gs://b/x"}, `--project "Demo_Project": want 6-30 lowercase letters, digits or hyphens, starting with a letter`},
		{[]string{"datastore", "export", "--project", "demo-project", "--to", "s3://b/x"}, `output "s3://b/x": want gs://BUCKET[/PATH]`},
		{[]string{"datastore", "export", "--project", "demo-project"}, "--to gs://BUCKET/PATH (or --bucket for a dated folder) is required"},
		{ok("--deadline", "0s"), "--deadline must be > 0 (got 0s)"},
		{ok("--kinds", "User,,Order"), "--kinds: empty kind name in the list"},
		{ok("--kinds", "__key__"), `kind "__key__": want a kind name without spaces or commas, not a __reserved__ one`},
		{ok("--label", "nolabel"), `--label "nolabel": want key=value`},
		{ok("--tz", "Mars/Base"), `time zone "Mars/Base": unknown time zone Mars/Base`},
		{[]string{"datastore", "import", "--project", "demo-project", "--from", "gs://b/x/x.overall_export_metadata"},
			"import writes to the database of demo-project: add --yes to confirm"},
		{[]string{"datastore", "import", "--project", "demo-project", "--from", "gs://b/x/data.json", "--yes"},
			`from "gs://b/x/data.json": want an export's .overall_export_metadata file`},
		{[]string{"datastore", "operations", "--project", "x"}, `--project "x": want 6-30 lowercase letters, digits or hyphens, starting with a letter`},
	} {
		args := tc.args
		r := runOffline(t, args...)
		if r.code != 2 || r.stderr != "starter: "+tc.want+"\n" {
			t.Errorf("starter %v: exit %d, stderr %q; want 2, %q", args, r.code, r.stderr, tc.want)
		}
	}
}

func TestDatastoreExportWaitAndOperations(t *testing.T) {
	ts := testenv.NewTemporal(t)
	cloud, aws := stacktest.Cloud(t, localcloud.Options{})
	emu, err := dsemu.Listen("127.0.0.1:0", dsemu.Options{Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	env := map[string]string{"VIGIL_SLACK_WEBHOOK_URL": cloud.URL() + "/_slack/cli", "VIGIL_DATASTORE_ENDPOINT": emu.Addr()}
	stacktest.StartWorker(t, ts, aws, func(k string) string { return env[k] })
	global := []string{"--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace()}
	run := func(args ...string) cliResult {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var stdout, stderr syncBuffer
		code := runCLI(ctx, &stdout, &stderr, nil, append(append([]string{}, global...), args...)...)
		return cliResult{code, stdout.String(), stderr.String()}
	}
	r := run("datastore", "export", "--project", "demo-project", "--to", "gs://cli-backups/manual", "--label", "vigil-emulator-entities=77", "--wait")
	if r.code != 0 || !strings.Contains(r.stderr, "started datastore-export/demo-project") {
		t.Fatalf("export --wait: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = run("datastore", "export", "--project", "demo-project", "--bucket", "cli-backups", "--label", "vigil-emulator=fail", "--wait")
	if r.code != 1 {
		t.Errorf("failing export --wait: exit %d, want 1\nstderr %s", r.code, r.stderr)
	}
	r = run("--output", "json", "datastore", "operations", "--project", "demo-project", "--endpoint", emu.Addr())
	var ops []flowdata.DatastoreOp
	if err := json.Unmarshal([]byte(r.stdout), &ops); err != nil || r.code != 0 {
		t.Fatalf("operations --output json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if len(ops) != 2 || ops[0].State != flowdata.DatastoreSuccessful || ops[0].EntitiesDone != 77 || ops[1].State != flowdata.DatastoreFailed {
		t.Errorf("operations %+v", ops)
	}
	r = run("datastore", "operations", "--project", "demo-project", "--endpoint", emu.Addr())
	if r.code != 0 || !strings.Contains(r.stdout, "SUCCESSFUL") || !strings.Contains(r.stdout, "77 of ~") || !strings.Contains(r.stdout, "gs://cli-backups/manual/manual.overall_export_metadata") {
		t.Errorf("operations table: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := len(cloud.Slack.Messages()); n != 2 {
		t.Errorf("%d Slack reports, want 2 (green, red)", n)
	}
}
