package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/awsconf"
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

// outputWatch records when the emulator first receives GetJobOutput for
// each job, i.e. when the download started.
type outputWatch struct {
	mu    sync.Mutex
	first map[string]time.Time
}

func (o *outputWatch) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if parts := strings.Split(r.URL.Path, "/"); len(parts) == 7 && parts[6] == "output" {
			o.mu.Lock()
			if _, ok := o.first[parts[5]]; !ok {
				o.first[parts[5]] = time.Now()
			}
			o.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// BenchmarkGlacierNotifyToDownload measures, over VIGIL_RETRIEVALS (50)
// sequential retrievals, the time from a job's completion (when Glacier
// publishes the notification) to the first GetJobOutput request: SNS →
// SQS → router → signal → workflow task → download activity. Polling is
// set to an hour, so only the notification can start the download.
func BenchmarkGlacierNotifyToDownload(b *testing.B) {
	n := int(envInt("VIGIL_RETRIEVALS", 50))
	ts := testenv.NewTemporalB(b)
	watch := &outputWatch{first: map[string]time.Time{}}
	cloud, clients := stacktest.Cloud(b, localcloud.Options{TierDelays: map[string]time.Duration{"Expedited": 50 * time.Millisecond}, Wrap: watch.wrap})
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
func completionToDownload(b *testing.B, clients *awsconf.Clients, watch *outputWatch, jobID string) time.Duration {
	d, err := clients.Glacier.DescribeJob(context.Background(), &glacier.DescribeJobInput{VaultName: aws.String("bench"), JobId: aws.String(jobID)})
	if err != nil {
		b.Fatal(err)
	}
	done, err := time.Parse("2006-01-02T15:04:05.000Z", aws.ToString(d.CompletionDate))
	if err != nil {
		b.Fatal(err)
	}
	watch.mu.Lock()
	defer watch.mu.Unlock()
	return watch.first[jobID].Sub(done)
}

// BenchmarkGlacierDownload retrieves a VIGIL_BENCH_MIB (1024) MiB archive
// twice from the same emulator: once with a raw loop of sequential 64 MiB
// ranged GetJobOutput calls written to a file (timed when written, and
// again once synced, as vigil syncs before it reports), once with the
// GlacierRetrieve workflow run by a separate worker process (default
// chunking and parallelism, per-range and whole tree-hash checks), whose
// peak RSS (VmHWM) is reported.
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
	waitForPoller(b, c)
	idleRSS := procStatusKiB(b, worker.Process.Pid, "VmRSS")
	b.ResetTimer()
	for b.Loop() {
		written, synced := rawDownload(b, clients, archive, size, filepath.Join(dir, "raw.bin"))
		raws, rawSynced = append(raws, written), append(rawSynced, synced)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID("bench", archive), TaskQueue: workflows.TaskQueue},
			workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{Vault: "bench", ArchiveID: archive, Tier: "Expedited",
				Destination: "file://" + filepath.Join(dir, "vigil.bin"), Parallel: int(envInt("VIGIL_PARALLEL", 0)), Fsync: os.Getenv("VIGIL_BENCH_FSYNC") != ""})
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
	b.ReportMetric(float64(procStatusKiB(b, worker.Process.Pid, "VmHWM"))/1024, "worker-peak-RSS-MiB")
}

// rawDownload is the script's way: initiate, wait, then GET 64 MiB ranges
// one after the other into a file. It returns the download time, and the
// time until the file was also synced to disk (what vigil waits for).
func rawDownload(b *testing.B, clients *awsconf.Clients, archive string, size int64, path string) (time.Duration, time.Duration) {
	ctx := context.Background()
	job, err := clients.Glacier.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("bench"), JobParameters: &gtypes.JobParameters{
		Type: aws.String("archive-retrieval"), ArchiveId: aws.String(archive), Tier: aws.String("Expedited")}})
	if err != nil {
		b.Fatal(err)
	}
	for {
		d, err := clients.Glacier.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: aws.String("bench"), JobId: job.JobId})
		if err != nil {
			b.Fatal(err)
		}
		if d.Completed {
			break
		}
		<-time.After(20 * time.Millisecond)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	const chunk = 64 << 20
	for off := int64(0); off < size; off += chunk {
		out, err := clients.Glacier.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String("bench"), JobId: job.JobId,
			Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, min(off+chunk, size)-1))})
		if err != nil {
			b.Fatal(err)
		}
		_, err = f.ReadFrom(out.Body)
		out.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	written := time.Since(start)
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	return written, time.Since(start)
}

// startWorkerProcess builds and runs the worker binary against the test
// server and the local cloud, stopping it (SIGTERM) when the benchmark ends.
// VIGIL_BENCH_TAGS are build tags (nodev: the lean production build).
func startWorkerProcess(b *testing.B, address, namespace, cloudURL string) *exec.Cmd {
	bin := filepath.Join(b.TempDir(), "worker")
	// VIGIL_BENCH_TAGS=nodev measures the lean production build.
	if out, err := exec.Command("go", "build", "-tags", os.Getenv("VIGIL_BENCH_TAGS"), "-o", bin, "github.com/vigilops/vigil/worker").CombinedOutput(); err != nil {
		b.Fatalf("building the worker: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--address", address, "--namespace", namespace, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+cloudURL, "AWS_REGION="+awsconf.LocalRegion,
		"AWS_ACCESS_KEY_ID="+awsconf.LocalAccessKey, "AWS_SECRET_ACCESS_KEY="+awsconf.LocalSecretKey)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	return cmd
}

// procStatusKiB reads a kB field of /proc/<pid>/status.
func procStatusKiB(b *testing.B, pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return v
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// waitForPoller waits until a worker polls the task queue for activities.
func waitForPoller(b *testing.B, c client.Client) {
	deadline := time.Now().Add(time.Minute)
	for {
		d, err := c.DescribeTaskQueue(context.Background(), workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		if err == nil && len(d.GetPollers()) > 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("no worker polling %s after a minute: %v", workflows.TaskQueue, err)
		}
		<-time.After(50 * time.Millisecond)
	}
}
