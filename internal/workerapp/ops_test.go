package workerapp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/server/temporaltest"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/codec"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/tclient"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/internal/workerapp"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func newKey(t *testing.T, id string) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(b)
}

// TestWorkerMetricsAndEncryptedPayloads runs the production worker (Run,
// no --dev) with --metrics-addr and payload keys against a Temporal test
// server and the local cloud: a failing batch job posts to Slack, the
// router takes an S3 test event and a malformed message; the scrape shows
// vigil's counters and the SDK's, and the job's history is unreadable
// without the key.
func TestWorkerMetricsAndEncryptedPayloads(t *testing.T) {
	ts := testenv.NewTemporal(t)
	cloud, clients := stacktest.Cloud(t, localcloud.Options{})
	keys := newKey(t, "k2") + "," + newKey(t, "k1")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": cloud.URL(), "AWS_REGION": awsconf.LocalRegion,
		"AWS_ACCESS_KEY_ID": awsconf.LocalAccessKey, "AWS_SECRET_ACCESS_KEY": awsconf.LocalSecretKey,
		"VIGIL_SLACK_WEBHOOK_URL": cloud.URL() + "/_slack/ops-test",
		codec.KeysEnv:             keys, codec.KeysFileEnv: "",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	q, err := clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ops-test-notifications")})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-01-01T00:00:00Z","Bucket":"b","RequestId":"r","HostId":"h"}`,
		`not a notification`,
	} {
		if _, err := clients.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}

	cfg, err := workerapp.ParseFlags([]string{"--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace(),
		"--queue", "ops-test-notifications", "--metrics-addr", "127.0.0.1:0", "--log-format", "json", "--log-level", "warn"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	epc := make(chan workerapp.Endpoints, 1)
	done := make(chan error, 1)
	go func() {
		done <- workerapp.Run(runCtx, cfg, io.Discard, io.Discard, func(ep workerapp.Endpoints) { epc <- ep })
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	var ep workerapp.Endpoints
	select {
	case ep = <-epc:
	case err := <-done:
		t.Fatalf("worker ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker not ready within 30s")
	}
	if ep.MetricsURL == "" {
		t.Fatal("no metrics URL")
	}
	if code := workerapp.Main([]string{"--probe", strings.TrimSuffix(ep.MetricsURL, "/metrics") + "/healthz"}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("probe of /healthz: exit %d", code)
	}

	// A job that fails at once: vigil alerts Slack.
	const secretURL = "http://127.0.0.1:1/never-in-history"
	plain := testenv.NewClient(t, ts) // no codec: what the server stores
	withKey := clientWithKeys(t, ts, keys)
	run, err := withKey.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "batch/ops-test", TaskQueue: workflows.TaskQueue},
		workflows.BatchJobName, workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "ops-test", Kind: "http",
			HTTP: &flowdata.HTTPJob{URL: secretURL}, Retry: &flowdata.JobRetry{MaximumAttempts: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := run.Get(wctx, nil); err == nil {
		t.Fatal("the job to an unreachable URL succeeded")
	}

	t.Run("metrics", func(t *testing.T) {
		want := []string{
			`vigil_notifications_total{kind="s3-test-event",outcome="dropped"}`,
			`vigil_notifications_total{kind="unknown",outcome="malformed"}`,
			`vigil_notifications_received_total{queue=`,
			`vigil_slack_posts_total{outcome="ok"}`,
			`temporal_workflow_failed_total`,
			`temporal_activity_execution_failed_total`,
			`temporal_request_total`,
			`go_goroutines`,
		}
		var body string
		testenv.Eventually(t, 20*time.Second, 100*time.Millisecond, "metrics to show every counter", func() bool {
			body = scrape(t, ep.MetricsURL)
			for _, w := range want {
				if !strings.Contains(body, w) {
					return false
				}
			}
			return true
		})
	})

	t.Run("history is encrypted", func(t *testing.T) {
		it := plain.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var raw bytes.Buffer
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			raw.WriteString(ev.String())
		}
		if strings.Contains(raw.String(), "never-in-history") {
			t.Fatalf("the job's URL is readable in the stored history")
		}
		if !strings.Contains(raw.String(), codec.Encoding) || !strings.Contains(raw.String(), "k2") {
			t.Fatalf("history payloads are not encrypted with key k2")
		}
		it = plain.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		first, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		input := first.GetWorkflowExecutionStartedEventAttributes().GetInput()
		var in workflows.BatchJobInput
		// Without keys (the starter's default): one clear error.
		err = converterFor(t, "").FromPayloads(input, &in)
		if !errors.Is(err, codec.ErrNoKey) || !strings.Contains(err.Error(), `"k2"`) {
			t.Fatalf("decoding without keys: %v", err)
		}
		// With the keys: the input.
		if err := converterFor(t, keys).FromPayloads(input, &in); err != nil || in.Job.HTTP.URL != secretURL {
			t.Fatalf("decoding with the keys: %v (%+v)", err, in.Job.HTTP)
		}
		// A key of the same id but other bytes: one clear error.
		err = converterFor(t, newKey(t, "k2")).FromPayloads(input, &in)
		if err == nil || !strings.Contains(err.Error(), "not the one that encrypted it") {
			t.Fatalf("decoding with a wrong key: %v", err)
		}
	})
}

// converterFor is the data converter a process with keys uses.
func converterFor(t *testing.T, keys string) converter.DataConverter {
	t.Helper()
	parsed, err := codec.ParseKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := codec.New(parsed)
	if err != nil {
		t.Fatal(err)
	}
	return pc.DataConverter()
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// clientWithKeys dials ts with the payload codec of keys, as the starter
// does.
func clientWithKeys(t *testing.T, ts *temporaltest.TestServer, keys string) client.Client {
	t.Helper()
	opts := testenv.Options(t, ts)
	opts.Configure = func(co *client.Options) { co.DataConverter = converterFor(t, keys) }
	c, err := tclient.Dial(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestCloudOnly runs `worker --cloud-only` as the compose file does: the
// emulators alone, no Temporal server anywhere.
func TestCloudOnly(t *testing.T) {
	cfg, err := workerapp.ParseFlags([]string{"--cloud-only", "--cloud-port", "0", "--data-dir", t.TempDir(), "--address", "127.0.0.1:1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	epc := make(chan workerapp.Endpoints, 1)
	done := make(chan error, 1)
	go func() {
		done <- workerapp.Run(ctx, cfg, io.Discard, io.Discard, func(ep workerapp.Endpoints) { epc <- ep })
	}()
	var ep workerapp.Endpoints
	select {
	case ep = <-epc:
	case err := <-done:
		t.Fatalf("cloud-only ended: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("cloud-only not ready")
	}
	if code := workerapp.Main([]string{"--probe", ep.CloudURL + "/_slack/messages"}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("probe of the cloud: exit %d", code)
	}
	clients := awsconf.NewClients(awsconf.Local(ep.CloudURL))
	if _, err := clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")}); err != nil {
		t.Fatalf("SQS on the cloud-only endpoint: %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if code := workerapp.Main([]string{"--probe", ep.CloudURL + "/_slack/messages"}, io.Discard, io.Discard); code != 1 {
		t.Fatalf("probe of a stopped cloud: exit %d, want 1", code)
	}
}
