package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/internal/treehash"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

var fastTiers = map[string]time.Duration{"Expedited": 300 * time.Millisecond, "Standard": time.Second, "Bulk": 2 * time.Second}

// fileTreeHash is the tree hash and size of a file.
func fileTreeHash(t *testing.T, path string) (string, int64) {
	t.Helper()
	h, n, err := treehash.File(path)
	if err != nil {
		t.Fatal(err)
	}
	return h, n
}

// TestGlacierEndToEnd: setup twice, then a 256 MiB archive retrieved
// through SNS → SQS → router → signal (polling is set to an hour, so only
// the notification can finish it in time), verified byte for byte by tree
// hash, each range fetched once; then an inventory retrieval.
func TestGlacierEndToEnd(t *testing.T) {
	ts := testenv.NewTemporal(t)
	cloud, aws := stacktest.Cloud(t, localcloud.Options{TierDelays: fastTiers})
	stacktest.StartWorker(t, ts, aws, os.Getenv)
	c := testenv.NewClient(t, ts)
	ctx := context.Background()

	if err := cloud.Glacier.CreateVault("e2e-vault"); err != nil {
		t.Fatal(err)
	}
	const size = 256 << 20
	archiveID, wantHash, err := cloud.Glacier.PutArchive("e2e-vault", detdata.New(7, size), "e2e archive")
	if err != nil {
		t.Fatal(err)
	}

	first, err := setup.Glacier(ctx, aws, setup.GlacierOptions{Vault: "e2e-vault"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := setup.Glacier(ctx, aws, setup.GlacierOptions{Vault: "e2e-vault"})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Changed() || second.Changed() || first.QueueURL != second.QueueURL {
		t.Fatalf("setup not idempotent:\nfirst  %+v\nsecond %+v", first, second)
	}

	dest := filepath.Join(t.TempDir(), "restored.bin")
	id := workflows.GlacierWorkflowID("e2e-vault", archiveID)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, workflows.GlacierRetrieveWorkflow,
		workflows.GlacierRetrieveInput{Vault: "e2e-vault", ArchiveID: archiveID, Tier: "Expedited", Destination: "file://" + dest,
			PollInterval: flowdata.Duration(time.Hour), ChunkSize: 32 << 20, Deadline: flowdata.Duration(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var res workflows.GlacierRetrieveResult
	if err := run.Get(waitCtx, &res); err != nil {
		t.Fatalf("retrieval: %v", err)
	}
	gotHash, n := fileTreeHash(t, dest)
	if n != size || gotHash != wantHash || res.TreeHash != wantHash || res.Bytes != size {
		t.Fatalf("restored %d bytes with tree hash %s (result %+v), want %d and %s", n, gotHash, res, int64(size), wantHash)
	}
	if calls := cloud.Glacier.GetJobOutputCalls(res.JobID); len(calls) != size/(32<<20) {
		t.Errorf("GetJobOutput called %d times (%v), want one per range", len(calls), calls)
	}
	if left, err := filepath.Glob(dest + "*.vigil-partial"); err != nil || len(left) > 0 {
		t.Errorf("partial files left behind: %v, %v", left, err)
	}

	// Inventory of the same vault, to S3.
	invDest := filepath.Join(t.TempDir(), "inventory.json")
	run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID("e2e-vault", ""), TaskQueue: workflows.TaskQueue},
		workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{Vault: "e2e-vault", Inventory: true, Tier: "Expedited",
			Destination: "file://" + invDest, PollInterval: flowdata.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(waitCtx, &res); err != nil {
		t.Fatalf("inventory: %v", err)
	}
	inv, err := os.ReadFile(invDest)
	if err != nil || !strings.Contains(string(inv), archiveID) || !strings.Contains(string(inv), "ArchiveList") {
		t.Fatalf("inventory %q, %v", inv, err)
	}
}

// TestGlacierWorkerCrashResumes stops the worker while a range download is
// in flight, starts a new one, and checks that the retrieval completes
// without fetching finished ranges again.
func TestGlacierWorkerCrashResumes(t *testing.T) {
	ts := testenv.NewTemporal(t)
	// Hold the 4th range until the worker dies and gives up.
	hold := holdNth(4, func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/output") })
	cloud, aws := stacktest.Cloud(t, localcloud.Options{TierDelays: fastTiers, Wrap: hold.Wrap})
	w1 := stacktest.StartWorker(t, ts, aws, os.Getenv)
	c := testenv.NewClient(t, ts)
	ctx := context.Background()
	if err := cloud.Glacier.CreateVault("crash-vault"); err != nil {
		t.Fatal(err)
	}
	const size = 48 << 20
	archiveID, wantHash, err := cloud.Glacier.PutArchive("crash-vault", detdata.New(11, size), "crash archive")
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "out.bin")
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID("crash-vault", archiveID), TaskQueue: workflows.TaskQueue},
		workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{Vault: "crash-vault", ArchiveID: archiveID, Tier: "Expedited",
			Destination: "file://" + dest, PollInterval: flowdata.Duration(500 * time.Millisecond), ChunkSize: 4 << 20, Parallel: 1, Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-hold.reached:
	case <-time.After(2 * time.Minute):
		t.Fatal("download never reached the 4th range")
	}
	w1.Stop() // the worker "crashes" with range 3 in flight
	stacktest.StartWorker(t, ts, aws, os.Getenv)
	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var res workflows.GlacierRetrieveResult
	if err := run.Get(waitCtx, &res); err != nil {
		t.Fatalf("retrieval after restart: %v", err)
	}
	if got, n := fileTreeHash(t, dest); got != wantHash || n != size {
		t.Fatalf("restored file hash %s (%d bytes), want %s", got, n, wantHash)
	}
	calls := cloud.Glacier.GetJobOutputCalls(res.JobID)
	outputs := hold.Seen()
	seen := map[string]int{}
	for _, rng := range calls {
		seen[rng]++
	}
	// The held request never reached the emulator: 12 ranges, each served
	// once — the three finished before the crash were not fetched again.
	if len(calls) != 12 || outputs != 13 {
		t.Errorf("emulator served %d GetJobOutput calls (%v) of %d requests, want 12 of 13", len(calls), calls, outputs)
	}
	for rng, k := range seen {
		if k > 1 {
			t.Errorf("range %s fetched %d times", rng, k)
		}
	}
}
