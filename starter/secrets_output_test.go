package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
)

// Secrets the CLI output test plants: in URL queries, in URL user info,
// and as the values of the env vars the worker reads.
const (
	outQuerySecret = "q-s3cr3t-a17f"
	outUserSecret  = "ui-s3cr3t-b28e"
	outPassword    = "pw-s3cr3t-c39d"
	outToken       = "tok-s3cr3t-d4a0"
)

// secretsOutputStack is the real stack of the CLI output test: the local
// cloud, a worker reading the planted secrets from its environment, and an
// endpoint that accepts only requests carrying them.
type secretsOutputStack struct {
	h   *harness
	api *httptest.Server
	// ok counts the endpoint's authenticated requests by path.
	mu sync.Mutex
	ok map[string]int
}

func newSecretsOutputStack(t *testing.T) *secretsOutputStack {
	t.Helper()
	cloud, awsc := stacktest.Cloud(t, localcloud.Options{TierDelays: s3TestTiers})
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": cloud.URL(), "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test",
		"AWS_SECRET_ACCESS_KEY": "test", "AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "no-credentials"),
		// The starter checks that the auth variables are set.
		"VIGIL_SECRET_OUT_PASSWORD": outPassword, "VIGIL_SECRET_OUT_TOKEN": outToken} {
		t.Setenv(k, v)
	}
	env := map[string]string{"VIGIL_SECRET_OUT_PASSWORD": outPassword, "VIGIL_SECRET_OUT_TOKEN": outToken}
	ts := testenv.NewTemporal(t)
	stacktest.StartWorker(t, ts, awsc, func(k string) string { return env[k] })
	s := &secretsOutputStack{ok: map[string]int{}, h: &harness{t: t, c: testenv.NewClient(t, ts), ns: ts.GetDefaultNamespace(),
		global: []string{"--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace()}}}
	snapshot, _ := io.ReadAll(detdata.New(11, 32<<10))
	s.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		basic := u == "ops" && p == outPassword
		bearer := r.Header.Get("Authorization") == "Bearer "+outToken
		if q := r.URL.Query(); q.Encode() == "" || !strings.Contains(q.Encode(), outQuerySecret) || !(basic || bearer) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.ok[r.URL.Path]++
		s.mu.Unlock()
		switch r.URL.Path {
		case "/snapshot":
			_, _ = w.Write(snapshot)
		case "/restore", "/ok", "/process":
			_, _ = io.Copy(io.Discard, r.Body)
		default:
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(s.api.Close)

	ctx := context.Background()
	for _, b := range []string{"bkt", "archive", "inbox"} {
		if err := cloud.S3.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := cloud.Glacier.CreateVault("vault"); err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Glacier(ctx, awsc, setup.GlacierOptions{Vault: "vault"}); err != nil {
		t.Fatal(err)
	}
	if err := cloud.S3.PutArchivedObject("archive", "k", bytes.NewReader(make([]byte, 100)), 100, "GLACIER"); err != nil {
		t.Fatal(err)
	}
	if _, err := setup.S3Events(ctx, awsc, setup.RestoreEvents("archive", setup.DefaultQueue)); err != nil {
		t.Fatal(err)
	}
	if _, err := awsc.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("inbox"), Key: aws.String("in/a.csv"), Body: strings.NewReader("a,b\n")}); err != nil {
		t.Fatal(err)
	}
	return s
}

// scan fails the test for every planted secret in the output of one CLI
// run.
func scanOutput(t *testing.T, what string, r cliResult) {
	t.Helper()
	for _, s := range []string{outQuerySecret, outUserSecret, outPassword, outToken} {
		for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			if i := strings.Index(out, s); i >= 0 {
				t.Errorf("starter %s: secret %q in %s: …%s…", what, s, name, out[max(0, i-200):min(len(out), i+50)])
			}
		}
	}
}

// TestCLIOutputHasNoSecret is R6 for the CLI (issue 20): credentials
// planted in the query of every URL the verbs that start runs take, and
// the values of the env vars they name, appear in none of their outputs
// (text and -o json, with --wait), nor in what status, wait and list show
// of the runs; a URL with user info is refused with exit 2 without
// echoing the password.
func TestCLIOutputHasNoSecret(t *testing.T) {
	s := newSecretsOutputStack(t)
	h := s.h
	dir := t.TempDir()
	api := s.api.URL
	job := writeFile(t, dir, "job.json", fmt.Sprintf(`{"name":"out-ok","kind":"http","http":{"url":%q,"bearerTokenEnv":"VIGIL_SECRET_OUT_TOKEN"}}`,
		api+"/ok?sig="+outQuerySecret))
	failing := writeFile(t, dir, "fail.json", fmt.Sprintf(`{"name":"out-fail","kind":"http","http":{"url":%q,"basicAuth":{"user":"ops","passwordEnv":"VIGIL_SECRET_OUT_PASSWORD"}},"retry":{"maximumAttempts":1}}`,
		api+"/down?token="+outQuerySecret))
	pipeline := writeFile(t, dir, "pipe.yaml", fmt.Sprintf("name: out-pipe\nprocessor:\n  kind: http\n  http:\n    url: %q\n    bearerTokenEnv: VIGIL_SECRET_OUT_TOKEN\n",
		api+"/process?X-Goog-Signature="+outQuerySecret))
	userJob := writeFile(t, dir, "userinfo.json", fmt.Sprintf(`{"name":"out-ui","kind":"http","http":{"url":%q}}`, "http://ops:"+outUserSecret+"@127.0.0.1:1/x"))
	userPipe := writeFile(t, dir, "userinfo.yaml", fmt.Sprintf("name: out-ui\nprocessor:\n  kind: http\n  http:\n    url: %q\n", "http://ops:"+outUserSecret+"@127.0.0.1:1/x"))

	source := api + "/snapshot?token=" + outQuerySecret
	target := api + "/restore?X-Amz-Signature=" + outQuerySecret
	const wait = 2 * time.Minute
	type run struct {
		args []string
		code int // -1: any non-zero
	}
	started := []run{
		{[]string{"backup", "run", "--name", "sb", "--from", source, "--user", "ops", "--password-env", "VIGIL_SECRET_OUT_PASSWORD", "--to", "s3://bkt/", "--wait"}, 0},
		{[]string{"-o", "json", "backup", "run", "--name", "sb", "--from", source, "--user", "ops", "--password-env", "VIGIL_SECRET_OUT_PASSWORD", "--to", "s3://bkt/", "--wait"}, 0},
		{[]string{"backup", "restore", "--from", "s3://bkt/sb/", "--to", target, "--bearer-env", "VIGIL_SECRET_OUT_TOKEN", "--wait"}, 0},
		{[]string{"-o", "json", "backup", "restore", "--from", "s3://bkt/sb/", "--to", target, "--bearer-env", "VIGIL_SECRET_OUT_TOKEN", "--wait"}, 0},
		{[]string{"batch", "run", "--job-file", job, "--wait"}, 0},
		{[]string{"-o", "json", "batch", "run", "--job-file", job, "--wait"}, 0},
		{[]string{"batch", "run", "--job-file", failing, "--wait"}, -1},
		{[]string{"-o", "json", "batch", "run", "--job-file", failing, "--wait"}, -1},
		{[]string{"s3", "process", "--bucket", "inbox", "--key", "in/a.csv", "--pipeline", pipeline, "--wait"}, 0},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--tier", "Expedited", "--to", "s3://bkt/restored", "--wait"}, 0},
		{[]string{"-o", "json", "s3", "restore", "--bucket", "archive", "--key", "k", "--tier", "Expedited", "--to", "s3://bkt/restored", "--wait"}, 0},
		{[]string{"glacier", "retrieve", "--vault", "vault", "--inventory", "--tier", "Expedited", "--to", "file://" + filepath.Join(dir, "inv.json"), "--wait"}, 0},
	}
	ui := "ops:" + outUserSecret + "@"
	refused := [][]string{
		{"backup", "run", "--name", "u", "--from", "http://" + ui + "127.0.0.1:1/x", "--to", "s3://bkt/"},
		{"-o", "json", "backup", "run", "--name", "u", "--from", "https://" + ui + "127.0.0.1:1/x?token=" + outQuerySecret, "--to", "s3://bkt/"},
		{"backup", "restore", "--from", "s3://bkt/sb/", "--to", "http://" + ui + "127.0.0.1:1/x"},
		{"backup", "run", "--name", "u", "--from", "file:///x", "--to", "s3://" + ui + "bkt/"},
		{"batch", "run", "--job-file", userJob},
		{"s3", "process", "--bucket", "inbox", "--key", "in/a.csv", "--pipeline", userPipe},
		{"glacier", "retrieve", "--vault", "vault", "--inventory", "--to", "file://" + ui + "host/tmp/x"},
		{"s3", "restore", "--bucket", "archive", "--key", "k", "--to", "file://" + ui + "host/tmp/x"},
		{"datastore", "export", "--project", "vigil-test", "--output", "gs://" + ui + "b/x"},
		{"datastore", "export", "--project", "vigil-test", "--output", "gs://b/x?token=" + outQuerySecret},
		{"datastore", "import", "--project", "vigil-test", "--from", "gs://" + ui + "b/x.overall_export_metadata", "--yes"},
		// Refused for another reason than user info: the message shows the URL redacted.
		{"backup", "run", "--name", "q", "--from", api + "/x?sig=" + outQuerySecret, "--to", "https://h/p?sig=" + outQuerySecret},
		{"-o", "json", "backup", "run", "--name", "q", "--from", api + "/x?sig=" + outQuerySecret, "--to", "https://h/p?sig=" + outQuerySecret},
		{"backup", "restore", "--from", "https://h/p?sig=" + outQuerySecret, "--to", "file:///tmp/x"},
		{"-o", "json", "backup", "restore", "--from", "https://h/p?sig=" + outQuerySecret, "--to", "file:///tmp/x"},
		{"backup", "restore", "--from", "s3://bkt/sb/", "--to", "s3://bkt/x?token=" + outQuerySecret},
		{"glacier", "retrieve", "--vault", "vault", "--inventory", "--to", "https://h/p?token=" + outQuerySecret},
		{"-o", "json", "glacier", "retrieve", "--vault", "vault", "--inventory", "--to", "https://h/p?token=" + outQuerySecret},
	}
	for _, r := range started {
		res := h.runWithin(wait, r.args...)
		if (r.code == -1 && res.code == 0) || (r.code >= 0 && res.code != r.code) {
			t.Errorf("starter %v: exit %d, want %d\n%s\n%s", r.args, res.code, r.code, res.stdout, res.stderr)
		}
		scanOutput(t, strings.Join(r.args, " "), res)
	}
	for _, args := range refused {
		res := h.runWithin(wait, args...)
		if res.code != 2 {
			t.Errorf("starter %v: exit %d, want 2 (refused)\n%s\n%s", args, res.code, res.stdout, res.stderr)
		}
		scanOutput(t, strings.Join(args, " "), res)
		if strings.Contains(strings.Join(args, " "), outUserSecret) {
			checkUserinfoRefusal(t, strings.Join(args, " "), res)
		}
	}
	s.mu.Lock()
	if s.ok["/snapshot"] != 2 || s.ok["/restore"] != 2 || s.ok["/ok"] != 2 || s.ok["/process"] != 1 || s.ok["/down"] != 2 {
		t.Errorf("authenticated requests by path %v: want 2 snapshots, 2 restores, 2 ok, 1 process, 2 down", s.ok)
	}
	s.mu.Unlock()

	// What status, wait and list show of every run.
	resp, err := h.c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: h.ns, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ids := 0
	for _, ex := range resp.GetExecutions() {
		id := ex.GetExecution().GetWorkflowId()
		if ex.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			continue // the notification router: every run started here has ended
		}
		ids++
		for _, args := range [][]string{{"status", id}, {"-o", "json", "status", id}, {"wait", id}, {"-o", "json", "wait", id}} {
			scanOutput(t, strings.Join(args, " "), h.runWithin(wait, args...))
		}
	}
	if ids < 8 {
		t.Errorf("%d runs to show, want at least the 8 started", ids)
	}
	for _, args := range [][]string{{"list"}, {"-o", "json", "list"}, {"list", "--limit", "100"}, {"list", "--status", "failed"}} {
		res := h.runWithin(wait, args...)
		if res.code != 0 || !strings.Contains(res.stdout, "batch") {
			t.Errorf("starter %v: exit %d\n%s\n%s", args, res.code, res.stdout, res.stderr)
		}
		scanOutput(t, strings.Join(args, " "), res)
	}
	checkConfigOutputs(t, s, dir)
}
