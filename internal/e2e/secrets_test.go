package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/codec"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/localcloud/dsemu"
	"github.com/vigilops/vigil/internal/secretenv"
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

// TestNoSecretInHistoriesOrLogs is R6 of issue 13, extended by issue 20:
// the flows run with secrets configured and planted — the AWS secret key of
// the worker's clients, a basic-auth password and a bearer token read
// from allowed env vars by HTTP jobs, backups and restores, a Slack webhook
// URL a failing job posts its alert to, a credential in the query of every
// URL-bearing input (job URLs, a backup's http source, a restore's http
// target, an S3-object pipeline's http processor URL), the webhook
// variable Datastore exports and imports and a dead-lettering pipeline
// report through, Datastore URLs refused for a credential in their query
// or user info, and a variable off the worker's allow-list that a job
// names, a backup schedule triggered once and an S3 sweep, both with a
// credential in their URLs' queries — with the payload codec on, every
// run started with the static summary and details the starter gives it,
// as production runs. Then:
//   - no secret, env value or URL credential, appears anywhere in the raw
//     history (binary protobuf and JSON of every event: IDs, search
//     attributes, memos, summaries, failure messages in clear), nor in the
//     worker's log (debug level, SDK logs included);
//   - decoded, no secret appears in a workflow ID, search attribute, memo,
//     static summary or details, activity summary, current details (the
//     status query), or failure message; search attributes are scanned
//     decoded too (their JSON shows payload data base64-encoded), and so
//     are the schedule, and the Slack messages the local cloud received;
//   - the variable off the allow-list fails its run with
//     SecretEnvNotAllowed and is never sent.
func TestNoSecretInHistoriesOrLogs(t *testing.T) {
	const (
		awsSecret = "aws-s3cr3t-31d4c0ffee"
		password  = "pw-s3cr3t-5f1e"
		token     = "tok-s3cr3t-9a2b"
		hookToken = "hook-s3cr3t-77c1"
		forbidden = "codec-s3cr3t-0b7e"
		urlSecret = "url-s3cr3t-4e2d"
		dsHook    = "dshook-s3cr3t-61aa"
		userPass  = "userinfo-s3cr3t-c3d9"
	)
	ts := testenv.NewTemporal(t)
	cloud, _ := stacktest.Cloud(t, localcloud.Options{TierDelays: fastTiers})
	cfg := awsconf.Local(cloud.URL())
	cfg.Credentials = credentials.NewStaticCredentialsProvider(awsconf.LocalAccessKey, awsSecret, "")
	awsc := awsconf.NewClients(cfg)
	webhook := cloud.URL() + "/_slack/T000/B000/" + hookToken
	emu, err := dsemu.Listen("127.0.0.1:0", dsEmulatorOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	env := map[string]string{"VIGIL_SLACK_WEBHOOK_URL": webhook, "VIGIL_SECRET_JOB_PASSWORD": password, "VIGIL_SECRET_JOB_TOKEN": token,
		"VIGIL_CODEC_KEYS": forbidden, "VIGIL_SECRET_DS_HOOK": cloud.URL() + "/_slack/T1/B1/" + dsHook, activities.DatastoreEndpointEnv: emu.Addr()}

	var authOK, bearerSeen, restored, processed int
	var forbiddenSeen bool
	snapshot := detBytes(t, 7, 64<<10)
	var mu sync.Mutex
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(r.Header.Get("Authorization"), forbidden) {
			forbiddenSeen = true
		}
		u, p, basic := r.BasicAuth()
		basicOK := basic && u == "ops" && p == password
		bearerOK := r.Header.Get("Authorization") == "Bearer "+token
		switch {
		case r.URL.Path == "/snapshot" && basicOK:
			_, _ = w.Write(snapshot)
		case r.URL.Path == "/restore" && bearerOK && r.Method == http.MethodPut:
			if b, err := io.ReadAll(r.Body); err == nil && bytes.Equal(b, snapshot) {
				restored++
			}
		case r.URL.Path == "/process" && bearerOK && r.URL.Query().Get("key") == urlSecret:
			processed++
		case r.URL.Path == "/ok" && basicOK:
			authOK++
		case r.URL.Path == "/down" && bearerOK:
			bearerSeen++
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		default:
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		}
	}))
	defer api.Close()

	keys, err := codec.ParseKeys("k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	cdc, err := codec.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := tclient.Dial(context.Background(), tclient.Options{Address: ts.GetFrontendHostPort(), Namespace: ts.GetDefaultNamespace(), Logger: logger, Env: testenv.EmptyEnv{},
		Configure: cdc.Configure})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stop, err := benchkit.StartWorker(context.Background(), c, awsc, benchkit.WorkerOptions{Getenv: func(k string) string { return env[k] }, Logger: logger, Router: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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
	for _, b := range []string{"secret-archive", "secret-backups", "secret-inbox"} {
		if err := cloud.S3.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := cloud.S3.PutArchivedObject("secret-archive", "k", bytes.NewReader(detBytes(t, 6, 1000)), 1000, "GLACIER"); err != nil {
		t.Fatal(err)
	}
	if _, err := setup.S3Events(ctx, awsc, setup.RestoreEvents("secret-archive", setup.DefaultQueue)); err != nil {
		t.Fatal(err)
	}
	start := func(id string, wf, in any) client.WorkflowRun {
		t.Helper()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue,
			StaticSummary: workflows.StaticSummary(in), StaticDetails: workflows.StaticDetails(in)}, wf, in)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	basicAuth := &flowdata.BasicAuth{User: "ops", PasswordEnv: "VIGIL_SECRET_JOB_PASSWORD"}
	backup := flowdata.BackupInput{Name: "sb", Source: api.URL + "/snapshot?token=" + urlSecret, Target: "s3://secret-backups/",
		Auth: &flowdata.HTTPAuth{BasicAuth: basicAuth}}
	runs := []client.WorkflowRun{
		start(workflows.GlacierWorkflowID("secret-vault", archive), workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{
			Vault: "secret-vault", ArchiveID: archive, Tier: "Expedited", Destination: "file://" + filepath.Join(t.TempDir(), "g.bin")}),
		start(workflows.S3RestoreWorkflowID("secret-archive", "k"), workflows.S3RestoreWorkflow, workflows.S3RestoreInput{
			Bucket: "secret-archive", Key: "k", Tier: flowdata.TierExpedited, Destination: "s3://secret-archive/copy"}),
		start("batch/secret-basic", workflows.BatchJobWorkflow, workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "secret-basic", Kind: flowdata.JobKindHTTP,
			HTTP: &flowdata.HTTPJob{URL: api.URL + "/ok?access_token=" + urlSecret, BasicAuth: basicAuth}}}),
		start(workflows.BackupWorkflowID(backup.Name, time.Now()), workflows.BackupName, backup),
	}
	for _, run := range runs {
		if err := run.Get(ctx, nil); err != nil {
			t.Fatalf("%s: %v", run.GetID(), err)
		}
	}
	restore := flowdata.RestoreInput{From: "s3://secret-backups/sb/", To: api.URL + "/restore?X-Amz-Signature=" + urlSecret, Method: http.MethodPut,
		Auth: &flowdata.HTTPAuth{BearerTokenEnv: "VIGIL_SECRET_JOB_TOKEN"}}
	if err := start(workflows.RestoreWorkflowID(restore.From, restore.To, time.Now()), workflows.RestoreName, restore).Get(ctx, nil); err != nil {
		t.Fatalf("restore: %v", err)
	}
	// A job that fails and alerts Slack through the webhook; one whose
	// endpoint refuses connections (the error quotes the URL); one naming a
	// variable off the allow-list.
	failing := start("batch/secret-bearer", workflows.BatchJobWorkflow, workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "secret-bearer", Kind: flowdata.JobKindHTTP,
		HTTP:  &flowdata.HTTPJob{URL: api.URL + "/down?sig=" + urlSecret, BearerTokenEnv: "VIGIL_SECRET_JOB_TOKEN"},
		Retry: &flowdata.JobRetry{MaximumAttempts: 1}, NotifyOnFailure: "VIGIL_SLACK_WEBHOOK_URL"}})
	unreachable := start("batch/secret-unreachable", workflows.BatchJobWorkflow, workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "secret-unreachable", Kind: flowdata.JobKindHTTP,
		HTTP:  &flowdata.HTTPJob{URL: closedURL(t) + "/x?X-Amz-Credential=" + urlSecret},
		Retry: &flowdata.JobRetry{MaximumAttempts: 1}}})
	notAllowed := start("batch/secret-not-allowed", workflows.BatchJobWorkflow, workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "secret-not-allowed", Kind: flowdata.JobKindHTTP,
		HTTP: &flowdata.HTTPJob{URL: api.URL + "/ok", BearerTokenEnv: "VIGIL_CODEC_KEYS"}}})

	// The S3-object pipeline: an http processor whose URL carries a
	// credential and that authenticates with a bearer token, and one with
	// basic auth whose endpoint refuses connections (the error quotes the
	// URL), which dead-letters the object and alerts Slack through an
	// allowed webhook variable.
	objects := map[string]flowdata.Processor{
		"in/ok.csv": {Kind: "http", HTTP: &flowdata.HTTPProcessor{URL: api.URL + "/process?key=" + urlSecret, BearerTokenEnv: "VIGIL_SECRET_JOB_TOKEN"}},
		"in/dead.csv": {Kind: "http", HTTP: &flowdata.HTTPProcessor{URL: closedURL(t) + "/refused?X-Goog-Signature=" + urlSecret,
			BasicAuth: &flowdata.BasicAuth{User: "ops", PasswordEnv: "VIGIL_SECRET_JOB_PASSWORD"}}},
	}
	outcomes := map[string]string{}
	var failures []string
	for key, proc := range objects {
		put, err := awsc.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("secret-inbox"), Key: aws.String(key), Body: bytes.NewReader(detBytes(t, 8, 2000))})
		if err != nil {
			t.Fatal(err)
		}
		ref := flowdata.S3ObjectRef{Bucket: "secret-inbox", Key: key, ETag: strings.Trim(aws.ToString(put.ETag), `"`), Size: 2000}
		in := flowdata.S3ObjectInput{Object: ref, Source: flowdata.SourceManual, Pipeline: flowdata.Pipeline{Name: "secret-pipe", Processor: proc,
			Retry: &flowdata.JobRetry{MaximumAttempts: 1}, NotifyOnFailure: "VIGIL_SECRET_DS_HOOK"}}
		var res workflows.S3ObjectResult
		err = start(flowdata.S3ObjectWorkflowID(ref.Bucket, ref.Key, ref.ETag), workflows.S3ObjectName, in).Get(ctx, &res)
		outcomes[key] = res.Outcome
		if err != nil {
			failures = append(failures, err.Error())
			outcomes[key] = "failed"
		}
	}
	if outcomes["in/ok.csv"] != workflows.OutcomeProcessed || outcomes["in/dead.csv"] != "failed" {
		t.Errorf("pipeline outcomes %v, want in/ok.csv processed and the run of in/dead.csv failed (dead-lettered)", outcomes)
	}

	// Datastore export and import reporting through an allowed webhook
	// variable, and two refused inputs: an output URL with a credential in
	// its query, an input URL with user info.
	var exported flowdata.DatastoreResult
	if err := start("datastore/secret-export", workflows.DatastoreExportName, flowdata.DatastoreExportInput{Project: "secret-project",
		OutputURLPrefix: "gs://secret-ds/nightly", Labels: map[string]string{dsemu.LabelEntities: "7"}, Poll: fastPoll,
		Report: flowdata.DatastoreReport{WebhookEnv: "VIGIL_SECRET_DS_HOOK"}}).Get(ctx, &exported); err != nil || !exported.Reported {
		t.Fatalf("datastore export: %+v, %v", exported, err)
	}
	var imported flowdata.DatastoreResult
	if err := start("datastore/secret-import", workflows.DatastoreImportName, flowdata.DatastoreImportInput{Project: "secret-project",
		InputURL: exported.Operation.OutputURL, Poll: fastPoll, Report: flowdata.DatastoreReport{WebhookEnv: "VIGIL_SECRET_DS_HOOK"}}).Get(ctx, &imported); err != nil || !imported.Reported {
		t.Fatalf("datastore import: %+v, %v", imported, err)
	}
	dsRefused := []client.WorkflowRun{
		start("datastore/secret-query", workflows.DatastoreExportName, flowdata.DatastoreExportInput{Project: "secret-project",
			OutputURLPrefix: "gs://secret-ds/nightly?token=" + urlSecret, Poll: fastPoll, Report: flowdata.DatastoreReport{WebhookEnv: "VIGIL_SECRET_DS_HOOK"}}),
		start("datastore/secret-userinfo", workflows.DatastoreImportName, flowdata.DatastoreImportInput{Project: "secret-project",
			InputURL: "gs://ops:" + userPass + "@secret-ds/nightly/x.overall_export_metadata", Poll: fastPoll}),
	}

	for _, run := range append([]client.WorkflowRun{failing, unreachable, notAllowed}, dsRefused...) {
		err := run.Get(ctx, nil)
		if err == nil {
			t.Fatalf("%s succeeded", run.GetID())
		}
		failures = append(failures, err.Error())
	}
	if err := notAllowed.Get(ctx, nil); !hasErrorType(err, secretenv.ErrTypeNotAllowed) {
		t.Errorf("the job naming VIGIL_CODEC_KEYS ended with %v, want %s", err, secretenv.ErrTypeNotAllowed)
	}
	if _, err := cloud.Slack.Wait(ctx, nil); err != nil {
		t.Fatalf("no Slack alert for the failing job: %v", err)
	}
	mu.Lock()
	if authOK != 1 || bearerSeen != 1 || restored != 1 || processed != 1 || forbiddenSeen {
		t.Errorf("the endpoint saw %d good basic-auth, %d bearer, %d verified restore, %d processor requests (want 1, 1, 1, 1) and the forbidden variable %v: the secrets were not used as configured",
			authOK, bearerSeen, restored, processed, forbiddenSeen)
	}
	mu.Unlock()

	all := []string{urlSecret, userPass, awsSecret, password, token, hookToken, forbidden, dsHook}
	scan := &secretScan{t: t, secrets: all, dc: cdc.DataConverter(), fc: cdc.FailureConverter()}
	for _, f := range failures {
		scan.check("a failure message: "+f, []byte(f))
	}
	scheduled, swept := runScheduledAndSwept(ctx, t, c, awsc, api.URL, urlSecret)
	scan.schedule(ctx, c, ts.GetDefaultNamespace(), scheduled)
	scanned, queried := scan.executions(ctx, c, ts.GetDefaultNamespace())
	const flows = 16
	if scanned < flows || queried < flows {
		t.Errorf("scanned %d histories and queried %d statuses, want at least the %d flows run, each queried", scanned, queried, flows)
	}
	msgs := cloud.Slack.Messages()
	if len(msgs) < 2 {
		t.Errorf("%d Slack messages, want the failing job's and the dead-lettering pipeline's", len(msgs))
	}
	scan.slack(msgs)
	mu.Lock()
	if processed != 1+swept {
		t.Errorf("the processor saw %d requests, want 1 and the %d of the sweep", processed, swept)
	}
	mu.Unlock()
	stop()
	out := logs.Bytes()
	if len(out) == 0 {
		t.Fatal("the worker logged nothing at debug level")
	}
	for _, s := range all {
		if i := bytes.Index(out, []byte(s)); i >= 0 {
			t.Errorf("secret %q in the worker's log: …%s…", s, out[max(0, i-200):min(len(out), i+100)])
		}
	}
	t.Logf("scanned %d histories, %d statuses and %d bytes of worker log", scanned, queried, len(out))
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// hasErrorType reports whether an application error of type typ is in
// err's chain (a job's failure wraps the activity's).
func hasErrorType(err error, typ string) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) {
			return false
		}
		if ae.Type() == typ {
			return true
		}
		err = ae
	}
	return false
}
