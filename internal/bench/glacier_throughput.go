package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func init() { register(glacierThroughput{}) }

// glacierThroughput: one archive through the GlacierRetrieve workflow run
// by a separate lean worker process, against raw ranged-GET loops.
type glacierThroughput struct{}

func (glacierThroughput) Name() string  { return "glacier-throughput" }
func (glacierThroughput) Title() string { return "Glacier download throughput and worker RSS" }
func (glacierThroughput) Describe() string {
	return "A 1 GiB archive (quick: 32 MiB) retrieved from the Glacier emulator into the scratch directory, per round: " +
		"a raw loop of sequential 64 MiB ranged GetJobOutput calls written to a file, the same loop also hashing the bytes " +
		"with SHA-256, then the GlacierRetrieve workflow run by a separately started lean worker process (`-tags nodev`, " +
		"default chunking and parallelism, per-range and whole tree-hash checks, no fsync), and once more with --verify full (the finish re-reads the file from disk and checks its tree hash). Throughput is bytes / download " +
		"time (the workflow's own Downloading figure). Peak RSS is the worker process's VmHWM after the download."
}

func (glacierThroughput) Run(env *Env) ([]Measure, error) {
	size := int64(env.pick(1024, 32)) << 20
	cloud, clients, err := env.Cloud(localcloud.Options{TierDelays: map[string]time.Duration{"Expedited": 100 * time.Millisecond}})
	if err != nil {
		return nil, errorf("local cloud", err)
	}
	const vault = "bench"
	if err := cloud.Glacier.CreateVault(vault); err != nil {
		return nil, errorf("vault", err)
	}
	archive, wantHash, err := cloud.Glacier.PutArchive(vault, detdata.New(3, size), "bench")
	if err != nil {
		return nil, errorf("archive", err)
	}
	if _, err := setup.Glacier(env.Ctx, clients, setup.GlacierOptions{Vault: vault}); err != nil {
		return nil, errorf("setup glacier", err)
	}
	worker, err := env.WorkerProcess("nodev", cloud.URL(), nil)
	if err != nil {
		return nil, errorf("worker process", err)
	}
	dir, err := os.MkdirTemp(env.Dir, "throughput-")
	if err != nil {
		return nil, err
	}
	env.Defer(func() { _ = os.RemoveAll(dir) })
	mib := float64(size) / (1 << 20)
	raw, err := benchkit.RawDownload(env.Ctx, clients, vault, archive, size, filepath.Join(dir, "raw.bin"), benchkit.RawOptions{})
	if err != nil {
		return nil, errorf("raw loop", err)
	}
	_ = os.Remove(filepath.Join(dir, "raw.bin"))
	hashed, err := benchkit.RawDownload(env.Ctx, clients, vault, archive, size, filepath.Join(dir, "raw.bin"), benchkit.RawOptions{Hash: true})
	if err != nil {
		return nil, errorf("raw loop with SHA-256", err)
	}
	_ = os.Remove(filepath.Join(dir, "raw.bin"))
	retrieve := func(id, verify, dest string) (float64, error) {
		run, err := env.Server.Client.ExecuteWorkflow(env.Ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue},
			workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{Vault: vault, ArchiveID: archive, Tier: "Expedited",
				Destination: "file://" + filepath.Join(dir, dest), Verify: verify})
		if err != nil {
			return 0, errorf("start retrieval", err)
		}
		var res workflows.GlacierRetrieveResult
		if err := run.Get(env.Ctx, &res); err != nil {
			return 0, errorf("retrieval", err)
		}
		if res.TreeHash != wantHash || res.Bytes != size {
			return 0, fmt.Errorf("retrieved %d bytes with tree hash %s, want %d and %s", res.Bytes, res.TreeHash, size, wantHash)
		}
		_ = os.Remove(filepath.Join(dir, dest))
		return mib / time.Duration(res.Downloading).Seconds(), nil
	}
	vig, err := retrieve(workflows.GlacierWorkflowID(vault, archive), "", "vigil.bin")
	if err != nil {
		return nil, err
	}
	full, err := retrieve(workflows.GlacierWorkflowID(vault, archive)+"/verify-full", flowdata.VerifyFull, "vigil-full.bin")
	if err != nil {
		return nil, errorf("--verify full", err)
	}
	hwm, err := worker.StatusKiB("VmHWM")
	if err != nil {
		return nil, err
	}
	return []Measure{
		{Name: "download throughput vs raw loop", Unit: "MiB/s", HigherIsBetter: true, Vigil: []float64{vig},
			BaselineName: "raw ranged-GET loop", Baseline: []float64{mib / raw.Written.Seconds()}},
		{Name: "download throughput vs raw loop + SHA-256", Unit: "MiB/s", HigherIsBetter: true, Vigil: []float64{vig},
			BaselineName: "raw loop hashing with SHA-256", Baseline: []float64{mib / hashed.Written.Seconds()}, Goal: "≥ 90 %"},
		{Name: "download throughput with --verify full vs raw loop + SHA-256", Unit: "MiB/s", HigherIsBetter: true, Vigil: []float64{full},
			BaselineName: "raw loop hashing with SHA-256", Baseline: []float64{mib / hashed.Written.Seconds()}},
		{Name: "worker peak RSS (VmHWM), lean build", Unit: "MiB", Vigil: []float64{float64(hwm) / 1024}, Goal: "≤ 150 MiB"},
	}, nil
}
