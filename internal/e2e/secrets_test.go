package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/tclient"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}

// TestNoSecretInHistoriesOrLogs is R6 of issue 13: the existing flows run
// with secrets configured — the AWS secret key of the worker's clients, a
// basic-auth password and a bearer token read from env vars by HTTP jobs,
// a Slack webhook URL that a failing job posts its alert to — and then no
// secret appears in any workflow history (binary protobuf and JSON of every
// event) nor in the worker's logs (debug level, SDK logs included).
func TestNoSecretInHistoriesOrLogs(t *testing.T) {
	const (
		awsSecret = "aws-s3cr3t-31d4c0ffee"
		password  = "pw-s3cr3t-5f1e"
		token     = "tok-s3cr3t-9a2b"
		hookToken = "hook-s3cr3t-77c1"
	)
	ts := testenv.NewTemporal(t)
	cloud, _ := stacktest.Cloud(t, localcloud.Options{TierDelays: fastTiers})
	cfg := awsconf.Local(cloud.URL())
	cfg.Credentials = credentials.NewStaticCredentialsProvider(awsconf.LocalAccessKey, awsSecret, "")
	awsc := awsconf.NewClients(cfg)
	webhook := cloud.URL() + "/_slack/T000/B000/" + hookToken
	env := map[string]string{"VIGIL_SLACK_WEBHOOK_URL": webhook, "JOB_PASSWORD": password, "JOB_TOKEN": token}

	var authOK, bearerSeen int
	var mu sync.Mutex
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if u, p, ok := r.BasicAuth(); ok && u == "ops" && p == password {
			authOK++
			return
		}
		if r.Header.Get("Authorization") == "Bearer "+token {
			bearerSeen++
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	defer api.Close()

	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := tclient.Dial(context.Background(), tclient.Options{Address: ts.GetFrontendHostPort(), Namespace: ts.GetDefaultNamespace(), Logger: logger, Env: testenv.EmptyEnv{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stop, err := benchkit.StartWorker(context.Background(), c, awsc, benchkit.WorkerOptions{Getenv: func(k string) string { return env[k] }, Logger: logger, Router: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Glacier retrieval and S3 restore, through notifications.
	if err := cloud.Glacier.CreateVault("secret-vault"); err != nil {
		t.Fatal(err)
	}
	archive, _, err := cloud.Glacier.PutArchive("secret-vault", detdata.New(5, 1<<20), "secrets")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Glacier(ctx, awsc, setup.GlacierOptions{Vault: "secret-vault"}); err != nil {
		t.Fatal(err)
	}
	if err := cloud.S3.CreateBucket("secret-archive"); err != nil {
		t.Fatal(err)
	}
	if err := cloud.S3.PutArchivedObject("secret-archive", "k", bytes.NewReader(detBytes(t, 6, 1000)), 1000, "GLACIER"); err != nil {
		t.Fatal(err)
	}
	if _, err := setup.S3Events(ctx, awsc, setup.RestoreEvents("secret-archive", setup.DefaultQueue)); err != nil {
		t.Fatal(err)
	}
	start := func(id string, wf, in any) client.WorkflowRun {
		t.Helper()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, wf, in)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	runs := []client.WorkflowRun{
		start(workflows.GlacierWorkflowID("secret-vault", archive), workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{
			Vault: "secret-vault", ArchiveID: archive, Tier: "Expedited", Destination: "file://" + filepath.Join(t.TempDir(), "g.bin")}),
		start(workflows.S3RestoreWorkflowID("secret-archive", "k"), workflows.S3RestoreWorkflow, workflows.S3RestoreInput{
			Bucket: "secret-archive", Key: "k", Tier: flowdata.TierExpedited, Destination: "s3://secret-archive/copy"}),
		start("batch/secret-basic", workflows.BatchJobWorkflow, workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "secret-basic", Kind: flowdata.JobKindHTTP,
			HTTP: &flowdata.HTTPJob{URL: api.URL + "/ok", BasicAuth: &flowdata.BasicAuth{User: "ops", PasswordEnv: "JOB_PASSWORD"}}}}),
	}
	for _, run := range runs {
		if err := run.Get(ctx, nil); err != nil {
			t.Fatalf("%s: %v", run.GetID(), err)
		}
	}
	// A job that fails and alerts Slack through the webhook.
	failing := start("batch/secret-bearer", workflows.BatchJobWorkflow, workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "secret-bearer", Kind: flowdata.JobKindHTTP,
		HTTP:  &flowdata.HTTPJob{URL: api.URL + "/down", BearerTokenEnv: "JOB_TOKEN"},
		Retry: &flowdata.JobRetry{MaximumAttempts: 1}, NotifyOnFailure: "VIGIL_SLACK_WEBHOOK_URL"}})
	if err := failing.Get(ctx, nil); err == nil {
		t.Fatal("the job against a failing endpoint succeeded")
	}
	if _, err := cloud.Slack.Wait(ctx, nil); err != nil {
		t.Fatalf("no Slack alert for the failing job: %v", err)
	}
	mu.Lock()
	if authOK != 1 || bearerSeen != 1 {
		t.Errorf("the endpoint saw %d good basic-auth and %d bearer requests, want 1 and 1: the secrets were not used", authOK, bearerSeen)
	}
	mu.Unlock()

	secrets := []string{awsSecret, password, token, hookToken}
	scanned := 0
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ts.GetDefaultNamespace(), PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range resp.GetExecutions() {
		hist := c.GetWorkflowHistory(ctx, ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId(), false, 0)
		for hist.HasNext() {
			ev, err := hist.Next()
			if err != nil {
				t.Fatal(err)
			}
			bin, _ := proto.Marshal(ev)
			js, _ := protojson.Marshal(ev)
			for _, s := range secrets {
				if bytes.Contains(bin, []byte(s)) || bytes.Contains(js, []byte(s)) {
					t.Errorf("secret %q in history of %s, event %d (%s)", s, ex.GetExecution().GetWorkflowId(), ev.GetEventId(), ev.GetEventType())
				}
			}
		}
		scanned++
	}
	if scanned < 4 {
		t.Errorf("scanned %d histories, want at least the 4 flows run", scanned)
	}
	stop()
	out := logs.Bytes()
	if len(out) == 0 {
		t.Fatal("the worker logged nothing at debug level")
	}
	for _, s := range secrets {
		if i := bytes.Index(out, []byte(s)); i >= 0 {
			t.Errorf("secret %q in the worker's log: …%s…", s, out[max(0, i-200):min(len(out), i+100)])
		}
	}
	t.Logf("scanned %d histories and %d bytes of worker log", scanned, len(out))
}
