//go:build !nodev

package workerapp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/treehash"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// devRun runs `worker --dev` in-process on free ports in dir and returns its
// endpoints and a stop function that waits for a clean exit.
func devRun(t *testing.T, dir string) (Endpoints, func()) {
	t.Helper()
	return devRunOn(t, dir, devPorts{})
}

// devPorts are the ports of a dev stack; 0 picks a free one.
type devPorts struct {
	Temporal, UI, Cloud, Datastore int
}

// devRunOn is devRun on the given ports, with extra flags.
func devRunOn(t *testing.T, dir string, p devPorts, extra ...string) (Endpoints, func()) {
	t.Helper()
	port := strconv.Itoa
	cfg, err := ParseFlags(append([]string{"--dev", "--data-dir", dir, "--temporal-port", port(p.Temporal), "--ui-port", port(p.UI),
		"--cloud-port", port(p.Cloud), "--datastore-port", port(p.Datastore), "--log-level", "warn"}, extra...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	readyCh := make(chan Endpoints, 1)
	errCh := make(chan error, 1)
	var out syncBuffer
	go func() { errCh <- Run(ctx, cfg, &out, &out, func(ep Endpoints) { readyCh <- ep }) }()
	select {
	case ep := <-readyCh:
		if !strings.Contains(out.String(), "export TEMPORAL_ADDRESS="+ep.TemporalAddress) {
			t.Errorf("banner lacks the export line:\n%s", out.String())
		}
		return ep, func() {
			cancel()
			select {
			case err := <-errCh:
				if err != nil {
					t.Errorf("Run returned %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("worker did not stop within 30s")
			}
		}
	case err := <-errCh:
		cancel()
		t.Fatalf("worker --dev failed: %v\n%s", err, out.String())
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatalf("worker --dev not ready in 2 minutes\n%s", out.String())
	}
	return Endpoints{}, nil
}

// TestDevStack starts the local stack, checks that Temporal, the Web UI,
// the local cloud and the worker all answer, stops it, starts it again on
// the same data dir and finds the earlier workflow and S3 object.
func TestDevStack(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	ep, stop := devRun(t, dir)

	resp, err := http.Get(ep.UIURL + "/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("Web UI: %v %v", resp, err)
	}
	resp.Body.Close()
	if len(ep.QueueURLs) != 1 || !strings.HasSuffix(ep.QueueURLs[0], "/"+NotificationQueue) {
		t.Errorf("notification queues = %v", ep.QueueURLs)
	}

	aws3 := awsconf.NewClients(awsconf.Local(ep.CloudURL)).S3
	if _, err := aws3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("kept")}); err != nil {
		t.Fatal(err)
	}
	if _, err := aws3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("kept"), Key: aws.String("a/b.txt"), Body: strings.NewReader("hello")}); err != nil {
		t.Fatal(err)
	}

	c, err := client.Dial(client.Options{HostPort: ep.TemporalAddress, Namespace: ep.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "selfcheck-1", TaskQueue: workflows.TaskQueue}, workflows.SelfCheckWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	var res activities.ProbeResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("self-check through the dev worker: %v", err)
	}
	// The demo http schedule's endpoint adds its bucket when it first runs.
	if res.Buckets < 5 || res.Buckets > 6 || res.Queues < 1 {
		t.Errorf("self-check saw %+v, want 5 buckets (kept, %s, %s, %s, %s; 6 once the demo http job ran) and the notification queue", res, DemoArchiveBucket, DemoInboxBucket, DemoBackupBucket, ExamplesInboxBucket)
	}
	checkDemoVault(t, c, ep)
	checkDemoInbox(t, c, ep, dir)
	checkDemoBucket(t, c)
	checkDemoDatastore(t, c, ep)
	// The Web UI lists the run through its own API (what the browser calls).
	resp, err = http.Get(ep.UIURL + "/api/v1/namespaces/default/workflows?query=" + url.QueryEscape("WorkflowId='selfcheck-1'"))
	if err != nil {
		t.Fatal(err)
	}
	uiBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(uiBody), "selfcheck-1") {
		t.Errorf("UI workflow list: %s %.300s", resp.Status, uiBody)
	}
	c.Close()
	stop()
	first := ep.DemoArchives

	ep, stop = devRun(t, dir)
	defer stop()
	c, err = client.Dial(client.Options{HostPort: ep.TemporalAddress, Namespace: ep.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(ctx, "selfcheck-1", "")
	if err != nil {
		t.Fatalf("workflow lost across restart: %v", err)
	}
	if s := desc.WorkflowExecutionInfo.Status.String(); s != "Completed" {
		t.Errorf("workflow status after restart = %s", s)
	}
	if len(ep.DemoArchives) != len(demoArchives) || ep.DemoArchives[0] != first[0] {
		t.Errorf("demo archives after restart = %+v, want the same %+v", ep.DemoArchives, first)
	}
	aws3 = awsconf.NewClients(awsconf.Local(ep.CloudURL)).S3
	obj, err := aws3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("kept"), Key: aws.String("a/b.txt")})
	if err != nil {
		t.Fatalf("S3 object lost across restart: %v", err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if string(body) != "hello" {
		t.Errorf("S3 object after restart = %q", body)
	}
}

// checkDemoVault: the demo vault holds the deterministic archives and its
// notifications are set up, so a retrieval right after start completes by
// notification (polling is set to an hour).
func checkDemoVault(t *testing.T, c client.Client, ep Endpoints) {
	t.Helper()
	if len(ep.DemoArchives) != len(demoArchives) {
		t.Fatalf("demo archives = %+v", ep.DemoArchives)
	}
	big := ep.DemoArchives[0]
	h := treehash.New()
	if _, err := io.Copy(h, detdata.New(demoArchives[0].seed, demoArchives[0].size)); err != nil {
		t.Fatal(err)
	}
	if big.Size < 256<<20 || big.TreeHash != h.Hex() {
		t.Errorf("big demo archive %+v, want ≥ 256 MiB with tree hash %s", big, h.Hex())
	}
	small := ep.DemoArchives[2]
	dest := filepath.Join(t.TempDir(), "small.bin")
	ctx := context.Background()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID(DemoVault, small.ID), TaskQueue: workflows.TaskQueue},
		workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{Vault: DemoVault, ArchiveID: small.ID, Tier: "Expedited",
			Destination: "file://" + dest, PollInterval: flowdata.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var res workflows.GlacierRetrieveResult
	if err := run.Get(waitCtx, &res); err != nil {
		t.Fatalf("demo retrieval: %v", err)
	}
	if res.TreeHash != small.TreeHash || res.Bytes != small.Size {
		t.Errorf("demo retrieval = %+v, want %+v", res, small)
	}
}

// checkDemoBucket: the demo bucket's DEEP_ARCHIVE objects restore right
// after start, finished by the ObjectRestore:Completed notification.
func checkDemoBucket(t *testing.T, c client.Client) {
	t.Helper()
	o := demoObjects[1]
	dest := filepath.Join(t.TempDir(), "restored.tar")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.S3RestoreWorkflowID(DemoArchiveBucket, o.description), TaskQueue: workflows.TaskQueue},
		workflows.S3RestoreWorkflow, workflows.S3RestoreInput{Bucket: DemoArchiveBucket, Key: o.description, Tier: "Expedited",
			Destination: "file://" + dest, PollInterval: flowdata.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.S3RestoreResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("demo restore: %v", err)
	}
	got, err := os.ReadFile(dest)
	want, _ := io.ReadAll(detdata.New(o.seed, o.size))
	if err != nil || !bytes.Equal(got, want) || res.Expiry.IsZero() {
		t.Errorf("demo restore: %d bytes (want %d), result %+v, %v", len(got), len(want), res, err)
	}
}
