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

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestGlacierReplacedDisk is issue 19's replaced-disk case: hostB's
// worker dies with a range in flight and a new worker comes up under the
// same host name (and the same kernel boot id) with a fresh, empty
// destination directory, as a container restarted on the same machine
// would. The finished ranges are gone with the old disk, so the run must
// end with the archive's exact bytes at the destination, or fail; a
// success with a file whose tree hash is not the archive's is the bug
// (the retried range used to re-create the partial file as a sparse file
// of the full length, and the finish trusted the ranges of this boot).
func TestGlacierReplacedDisk(t *testing.T) {
	ts := testenv.NewTemporal(t)
	hold := holdNth(3, func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/output") })
	cloud, aw := stacktest.Cloud(t, localcloud.Options{TierDelays: fastTiers, Wrap: hold.Wrap})
	wb := stacktest.StartWorkerOnHost(t, ts, aw, os.Getenv, "hostB")
	c := testenv.NewClient(t, ts)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := cloud.Glacier.CreateVault("disk-vault"); err != nil {
		t.Fatal(err)
	}
	const size = 20 << 20
	archiveID, wantHash, err := cloud.Glacier.PutArchive("disk-vault", detdata.New(19, size), "disk archive")
	if err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(t.TempDir(), "srv")
	dest := filepath.Join(disk, "x.bin")
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID("disk-vault", archiveID), TaskQueue: workflows.TaskQueue},
		workflows.GlacierRetrieveName, workflows.GlacierRetrieveInput{Vault: "disk-vault", ArchiveID: archiveID, Tier: "Expedited",
			Destination: "file://hostB" + dest, PollInterval: flowdata.Duration(500 * time.Millisecond), ChunkSize: 4 << 20, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-hold.reached: // ranges 1 and 2 are on the old disk, range 3 in flight
	case <-ctx.Done():
		t.Fatal("the download never reached its 3rd range")
	}
	wb.Stop()
	// The new worker's disk: the same path, empty.
	if err := os.RemoveAll(disk); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(disk, 0o755); err != nil {
		t.Fatal(err)
	}
	stacktest.StartWorkerOnHost(t, ts, aw, os.Getenv, "hostB")
	var res workflows.GlacierRetrieveResult
	if err := run.Get(ctx, &res); err != nil {
		// Not a wrong file, but vigil starts the file over instead.
		t.Fatalf("retrieval after the disk was replaced failed; want the run to download the file again: %v", err)
	}
	if got, n := fileTreeHash(t, dest); got != wantHash || n != size || res.TreeHash != wantHash {
		t.Fatalf("the run reported success (tree hash %s) but the file has tree hash %s (%d bytes), want %s (%d): a wrong file reported correct",
			res.TreeHash, got, n, wantHash, int64(size))
	}
	left, _ := filepath.Glob(filepath.Join(disk, "*"+activities.PartialSuffix+"*"))
	if len(left) > 0 {
		t.Errorf("left behind after the publish: %v", left)
	}
}
