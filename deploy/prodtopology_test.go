package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud/dsemu"
	"github.com/vigilops/vigil/internal/tclient"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// prodStack is a running scripts/prod-topology.sh topology.
type prodStack struct {
	dir string
	bin string            // the built binaries (PROD_BIN)
	env map[string]string // from the script's env file
	aws *awsconf.Clients
}

// runScript runs prod-topology.sh verb with extra environment.
func runScript(t *testing.T, ctx context.Context, verb string, env ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(repoRoot, prodScript), verb)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s:\n%s", prodScript, verb, out)
	require.NoError(t, err, "%s %s", prodScript, verb)
}

// upProdStack starts the topology in a new directory (building the binaries
// unless PROD_BIN names a directory that has them) and stops it at the end
// of the test.
func upProdStack(t *testing.T, extraEnv ...string) *prodStack {
	t.Helper()
	// Not t.TempDir: the postgres user must reach the data directory, and
	// the test's temporary directories are private to root.
	dir, err := os.MkdirTemp("", "vigil-prod-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	env := append([]string{"PROD_DIR=" + dir}, extraEnv...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		runScript(t, ctx, "down", env...)
	})
	runScript(t, ctx, "up", env...)
	s := &prodStack{dir: dir, bin: os.Getenv("PROD_BIN"), env: map[string]string{}}
	if s.bin == "" {
		s.bin = filepath.Join(dir, "bin")
	}
	f, err := os.Open(filepath.Join(dir, "env"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if ok && k != "PATH" {
			s.env[k] = v
		}
	}
	require.NotEmpty(t, s.env["TEMPORAL_ADDRESS"])
	s.aws = awsconf.NewClients(awsconf.Local(s.env["AWS_ENDPOINT_URL"]))
	return s
}

// starter runs the built starter with the topology's environment and
// returns its output; it fails the test on a non-zero exit.
func (s *prodStack) starter(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "starter"), args...)
	cmd.Env = os.Environ()
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "starter %q:\n%s", args, out)
	return string(out)
}

// pids are the topology's long-running processes: the ones `up` recorded
// and PostgreSQL's postmaster with its children.
func (s *prodStack) pids(t *testing.T) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for _, n := range []string{"temporal", "ui", "cloud", "worker"} {
		b, err := os.ReadFile(filepath.Join(s.dir, n+".pid"))
		require.NoError(t, err)
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		require.NoError(t, err)
		out[n] = []int{pid}
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "postgres-data", "postmaster.pid"))
	require.NoError(t, err)
	pm, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	require.NoError(t, err)
	out["postgresql"] = append([]int{pm}, children(pm)...)
	return out
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	var out []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		n, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if ppid, ok := procField(n, "PPid:"); ok && ppid == pid {
			out = append(out, n)
		}
	}
	return out
}

// procField reads a numeric field of /proc/pid/status, or of
// /proc/pid/smaps_rollup for "Pss:" (kB for both).
func procField(pid int, field string) (int, bool) {
	file := "/status"
	if field == "Pss:" {
		file = "/smaps_rollup"
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + file)
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, err := strconv.Atoi(f[0])
				return n, err == nil
			}
		}
	}
	return 0, false
}

// logRSS logs each service's resident memory: RSS and PSS (shared pages
// divided among their users: PostgreSQL's backends share its buffers, so
// their RSS sum counts them many times), summed over its processes.
func (s *prodStack) logRSS(t *testing.T, when string) {
	t.Helper()
	var b strings.Builder
	for _, n := range []string{"postgresql", "temporal", "ui", "cloud", "worker"} {
		rss, pss := 0, 0
		pids := s.pids(t)[n]
		for _, pid := range pids {
			v, ok := procField(pid, "VmRSS:")
			require.True(t, ok, "%s: no VmRSS for pid %d (the process is gone)", n, pid)
			rss += v
			if v, ok := procField(pid, "Pss:"); ok {
				pss += v
			}
		}
		b.WriteString(n + ": RSS " + strconv.Itoa(rss/1024) + " MiB, PSS " + strconv.Itoa(pss/1024) + " MiB (" + strconv.Itoa(len(pids)) + " processes); ")
	}
	t.Logf("memory %s: %s", when, b.String())
}

// TestProdTopologyRunsEveryFlow brings the compose topology up without
// Docker (scripts/prod-topology.sh), then runs each flow once to completion
// through the built starter against the local cloud: a Glacier retrieval
// to a file, a batch job, an S3 object through a pipeline started by its
// event, a backup and its restore, a Datastore export with its report.
func TestProdTopologyRunsEveryFlow(t *testing.T) {
	testenv.Long(t, "builds the Temporal server and runs PostgreSQL, Temporal, the Web UI, the local cloud and the worker (minutes)")
	// The compose file runs no Datastore emulator: the test serves one and
	// the script hands its address to the worker.
	ds, err := dsemu.Listen("127.0.0.1:0", dsemu.Options{Duration: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { ds.Close() })
	s := upProdStack(t, "VIGIL_DATASTORE_ENDPOINT="+ds.Addr())
	timings, err := os.ReadFile(filepath.Join(s.dir, "timings"))
	require.NoError(t, err)
	t.Logf("start-up:\n%s", timings)
	s.logRSS(t, "idle after start")
	ctx := context.Background()
	work := filepath.Join(s.dir, "flows")
	require.NoError(t, os.MkdirAll(work, 0o755))

	t.Log(s.starter(t, "doctor"))

	t.Run("glacier", func(t *testing.T) {
		const vault = "prod-vault"
		_, err := s.aws.Glacier.CreateVault(ctx, &glacier.CreateVaultInput{AccountId: aws.String("-"), VaultName: aws.String(vault)})
		require.NoError(t, err)
		data, err := io.ReadAll(detdata.New(42, 6<<20))
		require.NoError(t, err)
		up, err := s.aws.Glacier.UploadArchive(ctx, &glacier.UploadArchiveInput{AccountId: aws.String("-"), VaultName: aws.String(vault),
			ArchiveDescription: aws.String("prod archive"), Body: bytes.NewReader(data)})
		require.NoError(t, err)
		s.starter(t, "glacier", "setup", "--vault", vault)
		dest := filepath.Join(work, "glacier.bin")
		s.starter(t, "glacier", "retrieve", "--vault", vault, "--archive-id", *up.ArchiveId, "--to", "file://vigil-worker"+dest, "--wait")
		got, err := os.ReadFile(dest)
		require.NoError(t, err)
		require.Equal(t, sha256.Sum256(data), sha256.Sum256(got), "the retrieved file is the archive")
	})

	t.Run("batch", func(t *testing.T) {
		job := filepath.Join(work, "job.json")
		require.NoError(t, os.WriteFile(job, []byte(`{"name":"prod-hello","kind":"http","http":{"url":"`+s.env["AWS_ENDPOINT_URL"]+`/_slack/messages"}}`), 0o644))
		out := s.starter(t, "batch", "run", "--job-file", job, "--wait")
		require.Contains(t, out, "prod-hello")
	})

	t.Run("s3-reprocess", func(t *testing.T) {
		const bucket, key = "prod-inbox", "incoming/report.csv"
		_, err := s.aws.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
		require.NoError(t, err)
		pipeline := filepath.Join(work, "pipeline.yaml")
		require.NoError(t, os.WriteFile(pipeline, []byte("name: prod-reports\nprocessor: {kind: none}\n"), 0o644))
		s.starter(t, "s3", "setup-events", "--bucket", bucket, "--prefix", "incoming/", "--pipeline", pipeline)
		_, err = s.aws.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("a,b\n1,2\n")})
		require.NoError(t, err)
		// The ObjectCreated event starts the run (SQS → router); it ends
		// with the object moved under the archive prefix.
		testenv.Eventually(t, 2*time.Minute, 200*time.Millisecond, "the object archived by its run", func() bool {
			_, err := s.aws.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("bak/" + key)})
			return err == nil
		})
		_, err = s.aws.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		require.Error(t, err, "the source is deleted once archived")
		require.Contains(t, s.starter(t, "list", "--flow", "s3-object"), "completed")
	})

	t.Run("backup-restore", func(t *testing.T) {
		src, dst := filepath.Join(work, "site"), filepath.Join(work, "site-restored")
		require.NoError(t, os.MkdirAll(filepath.Join(src, "sub"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(src, "index.html"), []byte("<h1>vigil</h1>\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(src, "sub", "data.bin"), bytes.Repeat([]byte{7}, 1<<20), 0o600))
		_, err := s.aws.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("prod-backups")})
		require.NoError(t, err)
		s.starter(t, "backup", "run", "--name", "site", "--source", "dir://vigil-worker"+src, "--to", "s3://prod-backups/", "--verify", "--wait")
		s.starter(t, "backup", "restore", "--from", "s3://prod-backups/site/", "--to", "dir://vigil-worker"+dst, "--wait")
		for _, f := range []string{"index.html", "sub/data.bin"} {
			want, err := os.ReadFile(filepath.Join(src, f))
			require.NoError(t, err)
			got, err := os.ReadFile(filepath.Join(dst, f))
			require.NoError(t, err)
			require.Equal(t, want, got, "restored %s", f)
		}
	})

	t.Run("datastore-export", func(t *testing.T) {
		s.starter(t, "datastore", "export", "--project", "prod-project", "--output", "gs://prod-ds/manual", "--wait")
		resp, err := http.Get(s.env["AWS_ENDPOINT_URL"] + "/_slack/messages")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Contains(t, string(body), "prod-project", "the export's report reached the Slack sink")
	})

	s.logRSS(t, "after one run of each flow")

	// Throughput of the one worker on this topology: batch jobs putting a
	// small S3 object, 8 in flight (a figure for BENCHMARKS.md, not a check).
	t.Run("batch-rate", func(t *testing.T) {
		_, err := s.aws.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("prod-rate")})
		require.NoError(t, err)
		c, err := tclient.Dial(ctx, tclient.Options{Address: s.env["TEMPORAL_ADDRESS"], Namespace: s.env["TEMPORAL_NAMESPACE"]})
		require.NoError(t, err)
		defer c.Close()
		const jobs, inFlight = 100, 8
		ids := make(chan int)
		errs := make(chan error, jobs)
		start := time.Now()
		for range inFlight {
			go func() {
				for i := range ids {
					in := workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "rate", Kind: flowdata.JobKindS3Put,
						S3Put: &flowdata.S3PutJob{Bucket: "prod-rate", Key: "k" + strconv.Itoa(i), Content: "x"}}}
					run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "prod-rate-" + strconv.Itoa(i),
						TaskQueue: workflows.TaskQueue}, workflows.BatchJobName, in)
					if err == nil {
						err = run.Get(ctx, nil)
					}
					errs <- err
				}
			}()
		}
		for i := range jobs {
			ids <- i
		}
		close(ids)
		for range jobs {
			require.NoError(t, <-errs)
		}
		t.Logf("%d batch jobs (s3-put), %d in flight, on one worker: %.1f runs/s", jobs, inFlight, jobs/time.Since(start).Seconds())
		s.logRSS(t, "after the batch jobs")
	})
}
