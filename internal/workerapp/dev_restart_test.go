//go:build !nodev

package workerapp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/devserver"
	"github.com/vigilops/vigil/internal/localcloud/dsemu"
	"github.com/vigilops/vigil/internal/localcloud/slacksink"
	"github.com/vigilops/vigil/internal/treehash"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestDevRestartWhileFlowsWait is R2 of the reliability suite: flows that
// wait on the cloud (a Standard Glacier retrieval, a Standard S3 restore of
// a DEEP_ARCHIVE object, a slow Datastore export being polled) survive a
// stop and start of the whole --dev stack on the same data dir and ports,
// and each finishes with the right outcome. Polling of Glacier and S3 is
// set to an hour, so only the notifications (kept by the local cloud across
// the restart) can finish them in time.
func TestDevRestartWhileFlowsWait(t *testing.T) {
	dir := t.TempDir()
	ports := devPorts{}
	for _, p := range []*int{&ports.Temporal, &ports.Cloud, &ports.Datastore} {
		free, err := devserver.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		*p = free
	}
	ep, stop := devRunOn(t, dir, ports)
	c := dialDev(t, ep)

	archive := ep.DemoArchives[1] // 16 MiB: a few ranges, quick to check
	object := demoObjects[1]
	glacierDest := filepath.Join(t.TempDir(), "archive.bin")
	restoreDest := filepath.Join(t.TempDir(), "restored.tar")
	const exportPrefix = "gs://" + DemoDatastoreBucket + "/r2-restart"
	ctx := context.Background()
	glacier, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID(DemoVault, archive.ID), TaskQueue: workflows.TaskQueue},
		workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{Vault: DemoVault, ArchiveID: archive.ID, Tier: "Standard",
			Destination: "file://" + glacierDest, PollInterval: flowdata.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	restore, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.S3RestoreWorkflowID(DemoArchiveBucket, object.description), TaskQueue: workflows.TaskQueue},
		workflows.S3RestoreWorkflow, workflows.S3RestoreInput{Bucket: DemoArchiveBucket, Key: object.description, Tier: "Standard",
			Destination: "file://" + restoreDest, PollInterval: flowdata.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	export, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "r2-restart-export", TaskQueue: workflows.TaskQueue},
		workflows.DatastoreExportName, flowdata.DatastoreExportInput{Project: DemoDatastoreProject, OutputURLPrefix: exportPrefix,
			Labels: map[string]string{dsemu.LabelOutcome: dsemu.OutcomeSlow},
			Poll:   flowdata.DatastorePollPolicy{Initial: flowdata.Duration(2 * time.Second), Max: flowdata.Duration(2 * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	runs := []client.WorkflowRun{glacier, restore, export}
	for _, r := range runs {
		waitWaiting(t, c, r, time.Minute)
	}
	c.Close()
	down := time.Now()
	stop()

	ep2, stop := devRunOn(t, dir, ports)
	defer stop()
	t.Logf("stack stopped and started again in %s", time.Since(down).Round(time.Millisecond))
	if ep2.TemporalAddress != ep.TemporalAddress || ep2.CloudURL != ep.CloudURL || ep2.DatastoreAddr != ep.DatastoreAddr {
		t.Fatalf("restarted stack on other endpoints: %+v, first %+v", ep2, ep)
	}
	c = dialDev(t, ep2)
	defer c.Close()
	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	var gr workflows.GlacierRetrieveResult
	if err := c.GetWorkflow(waitCtx, glacier.GetID(), glacier.GetRunID()).Get(waitCtx, &gr); err != nil {
		t.Fatalf("Glacier retrieval across the restart: %v", err)
	}
	if gr.Bytes != archive.Size || gr.TreeHash != archive.TreeHash || gr.Initiations != 1 {
		t.Errorf("Glacier retrieval = %+v, want %d bytes, tree hash %s, one job", gr, archive.Size, archive.TreeHash)
	}
	if size, hash := fileTreeHash(t, glacierDest); size != archive.Size || hash != archive.TreeHash {
		t.Errorf("retrieved file: %d bytes, tree hash %s; want %d, %s", size, hash, archive.Size, archive.TreeHash)
	}

	var rr workflows.S3RestoreResult
	if err := c.GetWorkflow(waitCtx, restore.GetID(), restore.GetRunID()).Get(waitCtx, &rr); err != nil {
		t.Fatalf("S3 restore across the restart: %v", err)
	}
	got, err := os.ReadFile(restoreDest)
	want, _ := io.ReadAll(detdata.New(object.seed, object.size))
	if err != nil || !bytes.Equal(got, want) || rr.Expiry.IsZero() {
		t.Errorf("S3 restore: %d bytes (want %d), result %+v, %v", len(got), len(want), rr, err)
	}

	var dr flowdata.DatastoreResult
	if err := c.GetWorkflow(waitCtx, export.GetID(), export.GetRunID()).Get(waitCtx, &dr); err != nil {
		t.Fatalf("Datastore export across the restart: %v", err)
	}
	if dr.Outcome != flowdata.OutcomeSucceeded || !dr.Reported || dr.Operation.EntitiesDone == 0 {
		t.Errorf("Datastore export result %+v", dr)
	}
	if n := greenReports(t, ep2.CloudURL, exportPrefix); n != 1 {
		t.Errorf("%d green Slack reports of the export under %s, want 1", n, exportPrefix)
	}
}

// dialDev connects a client to a dev stack.
func dialDev(t *testing.T, ep Endpoints) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: ep.TemporalAddress, Namespace: ep.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitWaiting waits until run's status query reports PhaseWaiting (for the
// Datastore export: after at least one poll of the operation).
func waitWaiting(t *testing.T, c client.Client, run client.WorkflowRun, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var st workflows.Status
	for {
		v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.StatusQuery)
		if err == nil {
			err = v.Get(&st)
		}
		if err == nil && st.Phase == workflows.PhaseWaiting && (st.Flow != workflows.DatastoreExportFlow || st.LastPoll != "") {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s not waiting within %s: status %+v, last error %v", run.GetID(), limit, st, err)
		case <-tick.C:
		}
	}
}

// fileTreeHash is a file's size and Glacier tree hash.
func fileTreeHash(t *testing.T, path string) (int64, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := treehash.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return n, h.Hex()
}

// greenReports counts the Slack sink's green Datastore export reports of
// the demo project that name an output under prefix ("" counts them all).
func greenReports(t *testing.T, cloudURL, prefix string) int {
	t.Helper()
	resp, err := http.Get(cloudURL + slacksink.MessagesPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var msgs []slacksink.Message
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		p, _ := m.Decode()
		if len(p.Attachments) > 0 && p.Attachments[0].Color == "good" &&
			p.Attachments[0].Title == "Datastore export of "+DemoDatastoreProject+" succeeded" &&
			(prefix == "" || strings.Contains(string(m.Payload), prefix+"/")) {
			n++
		}
	}
	return n
}
