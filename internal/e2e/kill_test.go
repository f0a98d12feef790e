package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestGlacierWorkerProcessKilled is R1 of issue 13 for the Glacier flow: a
// separately started worker process is SIGKILLed while a range download is
// in flight (the emulator holds the 3rd GetJobOutput), a new process is
// started, and the retrieval finishes with the right bytes and exactly one
// Glacier job in the vault. The in-flight range would be retried after
// its heartbeat timeout; the test cuts that to seconds
// (expireKilledAttempts), so it runs in CI.
func TestGlacierWorkerProcessKilled(t *testing.T) {
	ts := testenv.NewTemporal(t)
	hold := holdNth(3, func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/output") })
	cloud, awsc := stacktest.Cloud(t, localcloud.Options{TierDelays: fastTiers, Wrap: hold.Wrap})
	c := testenv.NewClient(t, ts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := cloud.Glacier.CreateVault("kill-vault"); err != nil {
		t.Fatal(err)
	}
	const size = 24 << 20
	archive, wantHash, err := cloud.Glacier.PutArchive("kill-vault", detdata.New(21, size), "kill")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Glacier(ctx, awsc, setup.GlacierOptions{Vault: "kill-vault"}); err != nil {
		t.Fatal(err)
	}
	startProc := workerProcesses(ctx, t, ts, c, cloud.URL(), nil)
	first := startProc()
	dest := filepath.Join(t.TempDir(), "out.bin")
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID("kill-vault", archive), TaskQueue: workflows.TaskQueue},
		workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{Vault: "kill-vault", ArchiveID: archive, Tier: "Expedited",
			Destination: "file://" + dest, PollInterval: flowdata.Duration(time.Second), ChunkSize: 4 << 20, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-hold.reached:
	case <-ctx.Done():
		t.Fatal("the download never reached its 3rd range")
	}
	first.Kill()
	restore := expireKilledAttempts(ctx, t, c, ts.GetDefaultNamespace())
	startProc()
	restore()
	var res workflows.GlacierRetrieveResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("retrieval after the kill: %v", err)
	}
	if got, n := fileTreeHash(t, dest); got != wantHash || n != size {
		t.Fatalf("file tree hash %s (%d bytes), want %s (%d)", got, n, wantHash, int64(size))
	}
	jobs, err := awsc.Glacier.ListJobs(ctx, &glacier.ListJobsInput{VaultName: aws.String("kill-vault")})
	if err != nil || len(jobs.JobList) != 1 {
		t.Errorf("vault has %d jobs (%v), want exactly one: the restart must not initiate another", len(jobs.JobList), err)
	}
	seen := map[string]int{}
	for _, rng := range cloud.Glacier.GetJobOutputCalls(res.JobID) {
		seen[rng]++
	}
	for rng, k := range seen {
		if k > 1 {
			t.Errorf("range %s fetched %d times: finished ranges must not be fetched again", rng, k)
		}
	}
}

// workerProcesses builds the lean worker once and returns a function that
// starts one more process of it against ts and the cloud at cloudURL (env
// adds KEY=value variables), stopped at the end of the test, once it polls.
func workerProcesses(ctx context.Context, t *testing.T, ts *temporaltest.TestServer, c client.Client, cloudURL string, env []string) func() *benchkit.WorkerProcess {
	t.Helper()
	bin, err := benchkit.BuildWorker(t.TempDir(), "nodev")
	if err != nil {
		t.Fatal(err)
	}
	return func() *benchkit.WorkerProcess {
		t.Helper()
		p, err := benchkit.StartWorkerProcess(bin, ts.GetFrontendHostPort(), ts.GetDefaultNamespace(), cloudURL, env, os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		if err := benchkit.WaitForPoller(ctx, c, p.Cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		return p
	}
}
