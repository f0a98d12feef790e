package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestBackupWorkerProcessKilledMidMultipart is R1 of issue 13 for the
// backup flow: a separately started worker process is SIGKILLed while its
// multipart upload is in flight (the emulator holds part 3), a new process
// is started, and the run finishes with exactly one backup object and no
// multipart upload left open. The killed upload would be retried after its
// heartbeat timeout (1 min); the test cuts that to seconds
// (expireKilledAttempts), so it runs in CI.
func TestBackupWorkerProcessKilledMidMultipart(t *testing.T) {
	ts := testenv.NewTemporal(t)
	hold := holdNth(1, func(r *http.Request) bool {
		return r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == "3"
	})
	cloud, awsc := stacktest.Cloud(t, localcloud.Options{Wrap: hold.Wrap})
	c := testenv.NewClient(t, ts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := awsc.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(backupsBucket)}); err != nil {
		t.Fatal(err)
	}
	const size = 24 << 20
	src := benchkit.DataServer(13, size)
	defer src.Close()
	startProc := workerProcesses(ctx, t, ts, c, cloud.URL(), nil)
	first := startProc()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "backup-kill", TaskQueue: workflows.TaskQueue}, workflows.BackupName,
		flowdata.BackupInput{Name: "kill", Source: src.URL, Target: "s3://" + backupsBucket + "/", PartSize: 5 << 20, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-hold.reached:
	case <-ctx.Done():
		t.Fatal("the upload never reached its 3rd part")
	}
	s := &backupStack{t: t, c: c, aws: awsc}
	if n := s.openUploads(); n != 1 {
		t.Fatalf("%d multipart uploads open mid-upload, want 1", n)
	}
	first.Kill()
	restore := expireKilledAttempts(ctx, t, c, ts.GetDefaultNamespace())
	startProc()
	restore()
	var res flowdata.BackupResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("backup after the kill: %v", err)
	}
	if res.Bytes != size {
		t.Errorf("backed up %d bytes, want %d", res.Bytes, size)
	}
	if keys := s.keys("kill/"); len(keys) != 2 || keys[0] != res.Key || keys[1] != "kill/latest.json" {
		t.Errorf("objects %v, want exactly the one backup %s and latest.json", keys, res.Key)
	}
	if n := s.openUploads(); n != 0 {
		t.Errorf("%d multipart uploads left open", n)
	}
}
