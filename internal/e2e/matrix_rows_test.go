package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/localcloud/dsemu"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// The failure matrix's rows added for issue 19's audit: local and
// host-gone classes of the transfers, the restore's cloud classes, the S3
// object and sweep rows, SQS throttling.

// hostWait is the host-wait limit of the host-gone rows.
const hostWait = flowdata.Duration(4 * time.Second)

// glacierArchive stores a deterministic archive of size bytes in the
// matrix vault and returns its id and tree hash.
func (m *matrixStack) glacierArchive(t *testing.T, seed uint64, size int64) (string, string) {
	t.Helper()
	archive, hash, err := m.cloud.Glacier.PutArchive(matrixVault, detdata.New(seed, size), "matrix")
	must(t, err)
	return archive, hash
}

// start starts a workflow and returns its run.
func (m *matrixStack) start(t *testing.T, id, name string, in any) client.WorkflowRun {
	t.Helper()
	r, err := m.c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, name, in)
	must(t, err)
	return r
}

// getRun waits for a started run's outcome (deadline 3 min).
func getRun(r client.WorkflowRun, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return r.Get(ctx, out)
}

// noPartials fails the test when dir holds a partial file of a transfer
// (a failed run cleans its partial data up, as a cancelled one does).
func noPartials(t *testing.T, dir string) {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(dir, "*"+activities.PartialSuffix+"*"))
	must(t, err)
	if len(left) > 0 {
		t.Errorf("partial data left behind after the run failed: %v", left)
	}
}

// regularFile creates a regular file in a new directory and returns the
// directory and the file (a path under the file fails with ENOTDIR).
func regularFile(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "not-a-dir")
	must(t, os.WriteFile(f, []byte("x"), 0o600))
	return dir, f
}

// waitHostGone waits until a run's status shows the wait for gone-host
// and its limit.
func waitHostGone(t *testing.T, m *matrixStack, id string) {
	t.Helper()
	st := waitStatus(t, m.c, id, func(s workflows.Status) bool { return strings.Contains(s.Message, "gone-host") })
	if !strings.Contains(st.Message, "gives up at") {
		t.Errorf("status while waiting for the host does not show the limit: %q", st.Message)
	}
}

func glacierLocalPermanent(t *testing.T, m *matrixStack) (string, error) {
	archive, _ := m.glacierArchive(t, 31, 2<<20+3)
	dir := mountOrSkip(t, "ro")
	id := workflows.GlacierWorkflowID(matrixVault, archive)
	return id, m.execute(t, id, workflows.GlacierRetrieveName, workflows.GlacierRetrieveInput{
		Vault: matrixVault, ArchiveID: archive, Tier: "Expedited", Destination: "file://" + filepath.Join(dir, "g.bin"), ChunkSize: 1 << 20}, nil)
}

func glacierDiskFull(t *testing.T, m *matrixStack) (string, error) {
	const size = 3<<20 + 11
	archive, wantHash := m.glacierArchive(t, 32, size)
	dir := mountOrSkip(t, "tmpfs-1m")
	dest := filepath.Join(dir, "g.bin")
	id := workflows.GlacierWorkflowID(matrixVault, archive)
	r := m.start(t, id, workflows.GlacierRetrieveName, workflows.GlacierRetrieveInput{
		Vault: matrixVault, ArchiveID: archive, Tier: "Expedited", Destination: "file://" + dest, ChunkSize: 1 << 20})
	st := waitStatus(t, m.c, id, func(s workflows.Status) bool {
		return s.Attempt >= 2 && strings.Contains(strings.ToLower(s.LastError), "no space")
	})
	t.Logf("while the disk is full: attempt %d, last error %q", st.Attempt, st.LastError)
	must(t, syscall.Mount("", dir, "", syscall.MS_REMOUNT, "size=64m"))
	err := getRun(r, nil)
	if err == nil {
		if got, n := fileTreeHash(t, dest); got != wantHash || n != size {
			t.Errorf("file on disk: tree hash %s, %d bytes; want %s, %d", got, n, wantHash, size)
		}
	}
	return id, err
}

func glacierHostGone(t *testing.T, m *matrixStack) (string, error) {
	archive, _ := m.glacierArchive(t, 33, 1<<20)
	id := workflows.GlacierWorkflowID(matrixVault, archive)
	r := m.start(t, id, workflows.GlacierRetrieveName, workflows.GlacierRetrieveInput{
		Vault: matrixVault, ArchiveID: archive, Tier: "Expedited", Destination: "file://gone-host/tmp/g.bin", HostWait: hostWait})
	waitHostGone(t, m, id)
	return id, getRun(r, nil)
}

// archivedObject stores an archived (GLACIER class) object of size bytes.
func (m *matrixStack) archivedObject(t *testing.T, key string, seed uint64, size int64) []byte {
	t.Helper()
	b := detBytes(t, seed, size)
	must(t, m.cloud.S3.PutArchivedObject(matrixBucket, key, bytes.NewReader(b), size, "GLACIER"))
	return b
}

// s3Restore is a restore of key to dest that polls every 200 ms.
func s3Restore(key, dest string) workflows.S3RestoreInput {
	return workflows.S3RestoreInput{Bucket: matrixBucket, Key: key, Tier: flowdata.TierExpedited, Destination: dest,
		PollInterval: flowdata.Duration(200 * time.Millisecond)}
}

func s3RestoreTransient(t *testing.T, m *matrixStack) (string, error) {
	const key = "archived/transient.bin"
	want := m.archivedObject(t, key, 34, 2<<20+9)
	m.cloud.SetFaults([]localcloud.Fault{{Service: "s3", Rate: 0.2}})
	dest := filepath.Join(t.TempDir(), "r.bin")
	id := workflows.S3RestoreWorkflowID(matrixBucket, key)
	err := m.execute(t, id, workflows.S3RestoreName, s3Restore(key, "file://"+dest), nil)
	if err == nil {
		if got, rerr := os.ReadFile(dest); rerr != nil || !bytes.Equal(got, want) {
			t.Errorf("restored file: %d bytes (%v), want the object's %d bytes", len(got), rerr, len(want))
		}
	}
	return id, err
}

func s3RestoreLocalPermanent(t *testing.T, m *matrixStack) (string, error) {
	const key = "archived/readonly.bin"
	m.archivedObject(t, key, 35, 1<<20)
	dir := mountOrSkip(t, "ro")
	id := workflows.S3RestoreWorkflowID(matrixBucket, key)
	err := m.execute(t, id, workflows.S3RestoreName, s3Restore(key, "file://"+filepath.Join(dir, "r.bin")), nil)
	// Nothing was written, so the clean-up has nothing to remove: unlink's
	// EROFS for a name that is not there is no clean-up failure.
	if err != nil && strings.Contains(err.Error(), "by hand") {
		t.Errorf("a clean-up with nothing to remove reported a failure: %v", err)
	}
	return id, err
}

func s3RestoreHostGone(t *testing.T, m *matrixStack) (string, error) {
	const key = "archived/gone.bin"
	m.archivedObject(t, key, 36, 1<<20)
	in := s3Restore(key, "file://gone-host/tmp/r.bin")
	in.HostWait = hostWait
	id := workflows.S3RestoreWorkflowID(matrixBucket, key)
	r := m.start(t, id, workflows.S3RestoreName, in)
	waitHostGone(t, m, id)
	return id, getRun(r, nil)
}

// backupObjects lists the objects under the matrix bucket's prefix.
func (m *matrixStack) backupObjects(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := m.aws.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(matrixBucket), Prefix: aws.String(prefix)})
	must(t, err)
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func backupLocalPermanent(t *testing.T, m *matrixStack) (string, error) {
	_, f := regularFile(t)
	id := fmt.Sprintf("matrix-backup-notdir-%d", time.Now().UnixNano())
	err := m.execute(t, id, workflows.BackupName, flowdata.BackupInput{Name: "notdir", Source: "file://" + filepath.Join(f, "src.bin"),
		Target: "s3://" + matrixBucket + "/backups/"}, nil)
	if keys := m.backupObjects(t, "backups/notdir/"); len(keys) > 0 {
		t.Errorf("the failed backup stored %v", keys)
	}
	return id, err
}

func backupHostGone(t *testing.T, m *matrixStack) (string, error) {
	id := fmt.Sprintf("matrix-backup-gone-%d", time.Now().UnixNano())
	r := m.start(t, id, workflows.BackupName, flowdata.BackupInput{Name: "gone", Source: "file://gone-host/tmp/src.bin",
		Target: "s3://" + matrixBucket + "/backups/", HostWait: hostWait})
	waitHostGone(t, m, id)
	return id, getRun(r, nil)
}

func restoreTransient(t *testing.T, m *matrixStack) (string, error) {
	m.needBackup(t)
	m.cloud.SetFaults([]localcloud.Fault{{Service: "s3", Rate: 0.2}})
	dest := filepath.Join(t.TempDir(), "r.bin")
	id := fmt.Sprintf("matrix-restore-%d", time.Now().UnixNano())
	err := m.execute(t, id, workflows.RestoreName, flowdata.RestoreInput{From: m.backupFrom, To: "file://" + dest}, nil)
	if err == nil {
		if got, rerr := os.ReadFile(dest); rerr != nil || !bytes.Equal(got, detBytes(t, 22, m.backupSize)) {
			t.Errorf("restored file: %d bytes (%v), want the backup's %d bytes", len(got), rerr, m.backupSize)
		}
	}
	return id, err
}

func restoreCloudPermanent(t *testing.T, m *matrixStack) (string, error) {
	dir := t.TempDir()
	id := fmt.Sprintf("matrix-restore-nobucket-%d", time.Now().UnixNano())
	err := m.execute(t, id, workflows.RestoreName, flowdata.RestoreInput{From: "s3://matrix-no-such-bucket/backups/m/",
		To: "file://" + filepath.Join(dir, "r.bin")}, nil)
	noPartials(t, dir)
	return id, err
}

func s3ObjectTransient(t *testing.T, m *matrixStack) (string, error) {
	srv, n := statusServer(t, 503, 503)
	const key = "incoming/flaky.csv"
	put, err := m.aws.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(matrixBucket), Key: aws.String(key), Body: strings.NewReader("c,d\n")})
	must(t, err)
	obj := flowdata.S3ObjectRef{Bucket: matrixBucket, Key: key, ETag: strings.Trim(aws.ToString(put.ETag), `"`), Size: 4}
	id := flowdata.S3ObjectWorkflowID(obj.Bucket, obj.Key, obj.ETag)
	err = m.execute(t, id, workflows.S3ObjectName, flowdata.S3ObjectInput{Object: obj, Source: flowdata.SourceManual, Pipeline: flowdata.Pipeline{
		Name: "m", Processor: flowdata.Processor{Kind: "http", HTTP: &flowdata.HTTPProcessor{URL: srv.URL + "/process"}},
		Archive: &flowdata.S3Location{Prefix: "bak/"}, DeadLetter: &flowdata.S3Location{Prefix: "failed/"}, Retry: quickRetry}}, nil)
	if err == nil {
		if got := n.Load(); got != 3 {
			t.Errorf("the processor got %d requests, want 3", got)
		}
		if _, herr := m.aws.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(matrixBucket), Key: aws.String("bak/" + key)}); herr != nil {
			t.Errorf("no archive copy: %v", herr)
		}
		if _, herr := m.aws.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(matrixBucket), Key: aws.String(key)}); herr == nil {
			t.Errorf("the source %s is still there after the run completed", key)
		}
	}
	return id, err
}

func s3SweepPermanent(t *testing.T, m *matrixStack) (string, error) {
	zero := flowdata.Duration(0)
	id := fmt.Sprintf("matrix-sweep-nobucket-%d", time.Now().UnixNano())
	return id, m.execute(t, id, workflows.S3SweepName, workflows.S3SweepInput{Bucket: "matrix-no-such-bucket", Prefix: "incoming/", OlderThan: &zero,
		Pipeline: flowdata.Pipeline{Name: "m", Processor: flowdata.Processor{Kind: flowdata.ProcessorNone}}}, nil)
}

func batchThrottled(t *testing.T, m *matrixStack) (string, error) {
	const queue = "matrix-jobs"
	_, err := m.cloud.SQS.CreateQueue(queue, nil)
	must(t, err)
	before := m.cloud.FaultsInjected()
	m.cloud.SetFaults([]localcloud.Fault{{Service: "sqs", Operation: "SendMessage", Rate: 1}})
	id := fmt.Sprintf("matrix-batch-throttled-%d", time.Now().UnixNano())
	r := m.start(t, id, workflows.BatchJobName, workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "m", Kind: "sqs-send",
		SQSSend: &flowdata.SQSSendJob{Queue: queue, Body: "hello"}, Retry: quickRetry}})
	// Throttled until an attempt failed visibly; then SQS takes the message.
	st := waitStatus(t, m.c, id, func(s workflows.Status) bool { return s.Attempt >= 2 })
	t.Logf("while throttled: attempt %d, last error %q", st.Attempt, st.LastError)
	m.cloud.SetFaults(nil)
	var res workflows.BatchJobResult
	err = getRun(r, &res)
	if err == nil {
		if m.cloud.FaultsInjected() == before {
			t.Error("no SendMessage was throttled")
		}
		if msgs := m.queued(t, queue); msgs != 1 {
			t.Errorf("the queue got %d messages, want 1", msgs)
		}
	}
	return id, err
}

// queued is how many messages wait in the queue.
func (m *matrixStack) queued(t *testing.T, queue string) int {
	t.Helper()
	ctx := context.Background()
	u, err := m.aws.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(queue)})
	must(t, err)
	a, err := m.aws.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	must(t, err)
	n, err := strconv.Atoi(a.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	must(t, err)
	return n
}

func datastoreFailed(t *testing.T, m *matrixStack) (string, error) {
	id := fmt.Sprintf("matrix-ds-failed-%d", time.Now().UnixNano())
	return id, m.execute(t, id, workflows.DatastoreExportName, flowdata.DatastoreExportInput{Project: "matrix-project", Bucket: "matrix-backups",
		Labels: map[string]string{dsemu.LabelOutcome: dsemu.OutcomeFail}, Poll: fastPoll}, nil)
}

func datastoreInvalid(t *testing.T, m *matrixStack) (string, error) {
	id := fmt.Sprintf("matrix-ds-invalid-%d", time.Now().UnixNano())
	err := m.execute(t, id, workflows.DatastoreImportName, flowdata.DatastoreImportInput{Project: "matrix-project",
		InputURL: "gs://matrix-backups/not-an-export", Poll: fastPoll}, nil)
	if err != nil && !strings.Contains(err.Error(), "overall_export_metadata") {
		t.Errorf("the failure does not say what is wrong with the input URL: %v", err)
	}
	return id, err
}
