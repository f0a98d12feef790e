package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// envInt reads a benchmark knob from the environment.
func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkGlacierNotifyToDownload measures, over VIGIL_RETRIEVALS (50)
// sequential retrievals, the time from a job's completion (when Glacier
// publishes the notification) to the first GetJobOutput request: SNS →
// SQS → router → signal → workflow task → download activity. Polling is
// set to an hour, so only the notification can start the download.
func BenchmarkGlacierNotifyToDownload(b *testing.B) {
	n := int(envInt("VIGIL_RETRIEVALS", 50))
	ts := testenv.NewTemporalB(b)
	watch := benchkit.NewOutputWatch()
	cloud, clients := stacktest.Cloud(b, localcloud.Options{TierDelays: map[string]time.Duration{"Expedited": 50 * time.Millisecond}, Wrap: watch.Wrap})
	stacktest.StartWorker(b, ts, clients, os.Getenv)
	c := testenv.NewClient(b, ts)
	ctx := context.Background()
	if err := cloud.Glacier.CreateVault("bench"); err != nil {
		b.Fatal(err)
	}
	if _, err := setup.Glacier(ctx, clients, setup.GlacierOptions{Vault: "bench"}); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		id, _, err := cloud.Glacier.PutArchive("bench", detdata.New(uint64(i), 64<<10), fmt.Sprint("bench ", i))
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		lat = lat[:0]
		for _, archive := range ids {
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID("bench", archive), TaskQueue: workflows.TaskQueue},
				workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{Vault: "bench", ArchiveID: archive, Tier: "Expedited",
					Destination: "file://" + filepath.Join(b.TempDir(), "out"), PollInterval: flowdata.Duration(time.Hour)})
			if err != nil {
				b.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			var res workflows.GlacierRetrieveResult
			err = run.Get(wctx, &res)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, completionToDownload(b, clients, watch, res.JobID))
		}
	}
	b.ReportMetric(float64(percentile(lat, 0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Milliseconds()), "p99-ms")
	b.ReportMetric(float64(percentile(lat, 1).Milliseconds()), "max-ms")
}

// completionToDownload is the time from the job's CompletionDate to the
// first GetJobOutput request for it.
func completionToDownload(b *testing.B, clients *awsconf.Clients, watch *benchkit.OutputWatch, jobID string) time.Duration {
	done, err := benchkit.JobCompleted(context.Background(), clients, "bench", jobID)
	if err != nil {
		b.Fatal(err)
	}
	first, ok := watch.First(jobID)
	if !ok {
		b.Fatalf("no GetJobOutput for job %s", jobID)
	}
	return first.Sub(done)
}

// BenchmarkGlacierDownload retrieves a VIGIL_BENCH_MIB (1024) MiB archive
// twice from the same emulator: once with a raw loop of sequential 64 MiB
// ranged GetJobOutput calls written to a file (timed when written, and
// again once synced, as vigil syncs before it reports), once with the
// GlacierRetrieve workflow run by a separate worker process (default
// chunking and parallelism, per-range and whole tree-hash checks;
// VIGIL_BENCH_VERIFY=full adds --verify full's re-read of the file before
// the rename, counted in the download time), whose peak RSS (VmHWM) is
// reported.
func BenchmarkGlacierDownload(b *testing.B) {
	size := envInt("VIGIL_BENCH_MIB", 1024) << 20
	ts := testenv.NewTemporalB(b)
	cloud, clients := stacktest.Cloud(b, localcloud.Options{TierDelays: map[string]time.Duration{"Expedited": 100 * time.Millisecond}})
	ctx := context.Background()
	if err := cloud.Glacier.CreateVault("bench"); err != nil {
		b.Fatal(err)
	}
	archive, wantHash, err := cloud.Glacier.PutArchive("bench", detdata.New(3, size), "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := setup.Glacier(ctx, clients, setup.GlacierOptions{Vault: "bench"}); err != nil {
		b.Fatal(err)
	}
	syscall.Sync() // the new archive's writeback must not run during the measurements
	worker := startWorkerProcess(b, ts.GetFrontendHostPort(), ts.GetDefaultNamespace(), cloud.URL())
	pid := worker.Cmd.Process.Pid
	c := testenv.NewClient(b, ts)
	dir := os.Getenv("VIGIL_BENCH_DIR") // e.g. /dev/shm, to measure the pipeline rather than the disk
	if dir == "" {
		dir = b.TempDir()
	} else {
		d, err := os.MkdirTemp(dir, "vigil-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(d) })
		dir = d
	}
	var raws, rawSynced, vigils []time.Duration
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := benchkit.WaitForPoller(pctx, c, pid); err != nil {
		b.Fatal(err)
	}
	idleRSS := procStatusKiB(b, pid, "VmRSS")
	b.ResetTimer()
	for b.Loop() {
		raw, err := benchkit.RawDownload(ctx, clients, "bench", archive, size, filepath.Join(dir, "raw.bin"), benchkit.RawOptions{Sync: true})
		if err != nil {
			b.Fatal(err)
		}
		raws, rawSynced = append(raws, raw.Written), append(rawSynced, raw.Synced)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID("bench", archive), TaskQueue: workflows.TaskQueue},
			workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{Vault: "bench", ArchiveID: archive, Tier: "Expedited",
				Destination: "file://" + filepath.Join(dir, "vigil.bin"), Parallel: int(envInt("VIGIL_PARALLEL", 0)), Fsync: os.Getenv("VIGIL_BENCH_FSYNC") != "",
				Verify: os.Getenv("VIGIL_BENCH_VERIFY")})
		if err != nil {
			b.Fatal(err)
		}
		var res workflows.GlacierRetrieveResult
		if err := run.Get(ctx, &res); err != nil {
			b.Fatal(err)
		}
		if res.TreeHash != wantHash || res.Bytes != size {
			b.Fatalf("retrieved %d bytes with tree hash %s, want %d and %s", res.Bytes, res.TreeHash, size, wantHash)
		}
		vigils = append(vigils, time.Duration(res.Downloading))
		for _, f := range []string{"raw.bin", "vigil.bin"} {
			_ = os.Remove(filepath.Join(dir, f))
		}
		syscall.Sync()
	}
	raw, synced, vigil := percentile(raws, 0.5), percentile(rawSynced, 0.5), percentile(vigils, 0.5)
	mib := float64(size) / (1 << 20)
	b.ReportMetric(mib/raw.Seconds(), "raw-MiB/s")
	b.ReportMetric(mib/synced.Seconds(), "raw+sync-MiB/s")
	b.ReportMetric(mib/vigil.Seconds(), "vigil-MiB/s")
	b.ReportMetric(100*raw.Seconds()/vigil.Seconds(), "vigil/raw-%")
	b.ReportMetric(100*synced.Seconds()/vigil.Seconds(), "vigil/raw+sync-%")
	b.ReportMetric(float64(idleRSS)/1024, "worker-idle-RSS-MiB")
	b.ReportMetric(float64(procStatusKiB(b, pid, "VmHWM"))/1024, "worker-peak-RSS-MiB")
}

// startWorkerProcess builds and runs the worker binary against the test
// server and the local cloud, stopping it (SIGTERM) when the benchmark ends.
// VIGIL_BENCH_TAGS are build tags (nodev: the lean production build).
func startWorkerProcess(b *testing.B, address, namespace, cloudURL string) *benchkit.WorkerProcess {
	bin, err := benchkit.BuildWorker(b.TempDir(), os.Getenv("VIGIL_BENCH_TAGS"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := benchkit.StartWorkerProcess(bin, address, namespace, cloudURL, nil, os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Stop)
	return p
}

// procStatusKiB reads a kB field of /proc/<pid>/status.
func procStatusKiB(b *testing.B, pid int, field string) int64 {
	v, err := benchkit.ProcStatusKiB(pid, field)
	if err != nil {
		b.Fatal(err)
	}
	return v
}
