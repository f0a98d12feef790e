package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/localcloud/dsemu"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// The failure matrix (issue 19): for each flow and failure class, what a
// run does. Rows with a run function are run here, in order, on one
// stack; rows with provedBy name the dedicated end-to-end test that
// proves them (a killed worker process, a replaced disk need processes of
// their own). README's reliability section is generated from this table
// (TestFailureMatrixInREADME).
var failureMatrix = []failureCase{
	{Flow: "Glacier retrieval", Failure: "cloud transient", Inject: "30 % of Glacier calls answer 503", Outcome: "completes, tree hash of the file on disk checked", run: glacierTransient},
	{Flow: "Glacier retrieval", Failure: "cloud permanent", Inject: "archive id that does not exist (404)", Outcome: "fails at the first attempt: `NotFound`", Type: activities.ErrTypeNotFound, Alerts: 1, run: glacierPermanent},
	{Flow: "Glacier retrieval", Failure: "local permanent", Inject: "destination on a read-only file system (EROFS)", Outcome: "fails at the first attempt: `LocalPermanent` (destination unusable)", Type: activities.ErrTypeLocalPermanent, Alerts: 1, run: glacierLocalPermanent},
	{Flow: "Glacier retrieval", Failure: "local transient", Inject: "destination file system full (ENOSPC), then grown", Outcome: "retries, status shows the error and attempt; completes once there is room, tree hash checked", run: glacierDiskFull},
	{Flow: "Glacier retrieval", Failure: "host gone", Inject: "`file://gone-host/…` with no worker on that host, host-wait 4s", Outcome: "status shows the wait and its limit, then fails: `HostUnavailable`", Type: activities.ErrTypeHostUnavailable, Alerts: 1, run: glacierHostGone},
	{Flow: "Glacier retrieval", Failure: "worker killed", Inject: "SIGKILL mid-range", Outcome: "completes on a new worker, ranges resumed", provedBy: "TestGlacierWorkerProcessKilled"},
	{Flow: "Glacier retrieval", Failure: "disk replaced", Inject: "worker process SIGKILLed with a range in flight, a new process on the same host with an empty disk", Outcome: "correct file (lost ranges downloaded again) or a failed run, never a wrong file", provedBy: "TestGlacierReplacedDiskProcesses"},
	{Flow: "S3 restore", Failure: "cloud transient", Inject: "20 % of S3 calls answer 503 SlowDown", Outcome: "completes, file on disk checked", run: s3RestoreTransient},
	{Flow: "S3 restore", Failure: "cloud permanent", Inject: "key that does not exist (404)", Outcome: "fails at the first attempt: `NotFound`", Type: activities.ErrTypeNotFound, Alerts: 1, run: s3RestorePermanent},
	{Flow: "S3 restore", Failure: "local permanent", Inject: "destination on a read-only file system (EROFS)", Outcome: "fails at the first attempt: `LocalPermanent` (destination unusable)", Type: activities.ErrTypeLocalPermanent, Alerts: 1, run: s3RestoreLocalPermanent},
	{Flow: "S3 restore", Failure: "host gone", Inject: "`file://gone-host/…` with no worker on that host, host-wait 4s", Outcome: "status shows the wait and its limit, then fails: `HostUnavailable`", Type: activities.ErrTypeHostUnavailable, Alerts: 1, run: s3RestoreHostGone},
	{Flow: "Backup", Failure: "cloud transient", Inject: "20 % of S3 calls answer 503 SlowDown", Outcome: "completes, object verified", run: backupTransient},
	{Flow: "Backup", Failure: "cloud permanent", Inject: "target bucket that does not exist (404)", Outcome: "fails at the first attempt: `NotFound`", Type: activities.ErrTypeNotFound, Alerts: 1, run: backupPermanent},
	{Flow: "Backup", Failure: "local permanent", Inject: "source path under a regular file (ENOTDIR)", Outcome: "fails at the first attempt: `LocalPermanent`; nothing stored", Type: activities.ErrTypeLocalPermanent, Alerts: 1, run: backupLocalPermanent},
	{Flow: "Backup", Failure: "host gone", Inject: "`file://gone-host/…` source with no worker on that host, host-wait 4s", Outcome: "status shows the wait and its limit, then fails: `HostUnavailable`", Type: activities.ErrTypeHostUnavailable, Alerts: 1, run: backupHostGone},
	{Flow: "Backup", Failure: "worker killed", Inject: "SIGKILL mid-multipart", Outcome: "completes on a new worker, one upload", provedBy: "TestBackupWorkerProcessKilledMidMultipart"},
	{Flow: "Restore", Failure: "cloud transient", Inject: "20 % of S3 calls answer 503 SlowDown", Outcome: "completes, file size checked", run: restoreTransient},
	{Flow: "Restore", Failure: "cloud permanent", Inject: "backup bucket that does not exist (404)", Outcome: "fails at the first attempt: `NotFound` (the bucket is named)", Type: activities.ErrTypeNotFound, Alerts: 1, run: restoreCloudPermanent},
	{Flow: "Restore", Failure: "local permanent", Inject: "destination on a read-only file system (EROFS)", Outcome: "fails at the first attempt: `LocalPermanent`", Type: activities.ErrTypeLocalPermanent, Alerts: 1, run: restoreReadOnly},
	{Flow: "Restore", Failure: "local transient", Inject: "destination file system full (ENOSPC) until the 5th attempt failed, then grown", Outcome: "retries, status shows the error and attempt, one \"keeps failing\" warning; completes once there is room", Warnings: 1, run: restoreDiskFull},
	{Flow: "Restore", Failure: "host gone", Inject: "`file://gone-host/…` with no worker on that host, host-wait 4s", Outcome: "status shows the wait and its limit, then fails: `HostUnavailable`", Type: activities.ErrTypeHostUnavailable, Alerts: 1, run: restoreHostGone},
	{Flow: "Batch job", Failure: "cloud transient", Inject: "the job's endpoint answers 503 twice", Outcome: "completes at its third attempt", run: batchTransient},
	{Flow: "Batch job", Failure: "cloud throttling", Inject: "SQS answers 400 RequestThrottled to an sqs-send job until an attempt failed", Outcome: "retries, completes; one message sent", run: batchThrottled},
	{Flow: "Batch job", Failure: "cloud permanent", Inject: "the job's endpoint answers 404", Outcome: "fails at the first attempt: `JobFailed`", Type: workflows.ErrTypeJobFailed, Alerts: 1, run: batchPermanent},
	{Flow: "Batch job", Failure: "worker killed", Inject: "SIGKILL while its command runs", Outcome: "re-run on a new worker, one result", provedBy: "TestBatchExecWorkerProcessKilled"},
	{Flow: "S3 object", Failure: "cloud transient", Inject: "the processor answers 503 twice", Outcome: "completes at its third attempt; archive copy, source removed", run: s3ObjectTransient},
	{Flow: "S3 object", Failure: "cloud permanent", Inject: "the processor answers 422", Outcome: "fails at the first attempt: `DeadLettered`; dead-letter copy with the error, source removed", Type: workflows.ErrTypeDeadLettered, Alerts: 1, run: s3ObjectPermanent},
	{Flow: "S3 sweep", Failure: "cloud permanent", Inject: "bucket that does not exist (404)", Outcome: "fails at the first attempt: `NotFound`", Type: activities.ErrTypeNotFound, Alerts: 1, run: s3SweepPermanent},
	{Flow: "S3 sweep", Failure: "worker killed", Inject: "SIGKILL mid-page", Outcome: "every object processed once, counts exact", provedBy: "TestS3SweepWorkerProcessKilled"},
	{Flow: "Datastore export", Failure: "cloud permanent", Inject: "the emulator ends the export FAILED", Outcome: "fails at the first attempt: `DatastoreOperationFailed`; one red report", Type: workflows.ErrTypeDatastoreFailed, Alerts: 1, run: datastoreFailed},
	{Flow: "Datastore import", Failure: "cloud permanent", Inject: "input URL that is not an export's metadata file (refused as `BadInput` before the API call)", Outcome: "fails at the first attempt: `DatastoreOperationFailed`; one red report", Type: workflows.ErrTypeDatastoreFailed, Alerts: 1, run: datastoreInvalid},
	{Flow: "Datastore export", Failure: "worker killed", Inject: "SIGKILL mid-poll", Outcome: "one operation, one report", provedBy: "TestDatastoreWorkerProcessKilledMidPoll"},
}

// failureCase is one row of the failure matrix.
type failureCase struct {
	Flow, Failure, Inject, Outcome string
	// Type is the failure's application error type; "" for a run that
	// must complete.
	Type string
	// Alerts is how many danger-coloured Slack alerts the run posts,
	// Warnings how many warning-coloured ones ("keeps failing"). Both are
	// counted for rows run here; rows proved by another test run without
	// a webhook, and README says their alerts are not counted.
	Alerts, Warnings int
	// run drives the case and returns the run's workflow ID and outcome.
	run func(t *testing.T, m *matrixStack) (string, error)
	// provedBy names the test that proves a row not run here.
	provedBy string
}

// failFast reports whether the row's failure must come at the first
// attempt (a permanent error is never retried).
func (fc failureCase) failFast() bool { return strings.Contains(fc.Outcome, "first attempt") }

// matrixStack is the stack the matrix runs on: temporaltest server, local
// cloud, one worker whose Slack webhook variable points at the sink.
type matrixStack struct {
	cloud *localcloud.Cloud
	aws   *awsconf.Clients
	c     client.Client
	ns    string
	// backupFrom is the backup the restore cases restore (set by
	// backupTransient).
	backupFrom string
	backupSize int64
}

const (
	matrixVault  = "matrix-vault"
	matrixBucket = "matrix-bucket"
)

func TestFailureMatrix(t *testing.T) {
	defer func(d time.Duration) { workflows.HostWaitTimeout = d }(workflows.HostWaitTimeout)
	workflows.HostWaitTimeout = time.Second // before any worker runs

	ts := testenv.NewTemporal(t)
	cloud, awsc := stacktest.Cloud(t, localcloud.Options{TierDelays: fastTiers})
	emu, err := dsemu.Listen("127.0.0.1:0", dsEmulatorOptions)
	must(t, err)
	t.Cleanup(func() { _ = emu.Close() })
	env := map[string]string{activities.DefaultSlackWebhookEnv: cloud.URL() + "/_slack/matrix", activities.DatastoreEndpointEnv: emu.Addr()}
	stacktest.StartWorker(t, ts, awsc, func(k string) string { return env[k] })
	m := &matrixStack{cloud: cloud, aws: awsc, c: testenv.NewClient(t, ts), ns: ts.GetDefaultNamespace()}
	ctx := context.Background()
	must(t, cloud.Glacier.CreateVault(matrixVault))
	must(t, cloud.S3.CreateBucket(matrixBucket))
	if _, err := setup.Glacier(ctx, awsc, setup.GlacierOptions{Vault: matrixVault}); err != nil {
		t.Fatal(err)
	}

	for _, fc := range failureMatrix {
		if fc.run == nil {
			continue
		}
		t.Run(fc.Flow+"/"+fc.Failure, func(t *testing.T) {
			cloud.Slack.Reset()
			defer cloud.SetFaults(nil)
			id, err := fc.run(t, m)
			if fc.Type == "" {
				if err != nil {
					t.Fatalf("%s: %v, want it to complete", id, err)
				}
			} else {
				if got := appErrType(err); got != fc.Type {
					t.Fatalf("%s: %v (type %q), want a failure of type %s", id, err, got, fc.Type)
				}
				if n := lastAttempt(t, m.c, id); fc.failFast() && n != 1 {
					t.Errorf("%s: the failing activity ran %d attempts, want 1 (permanent errors fail fast)", id, n)
				}
			}
			if n := alertsColored(t, cloud, activities.SlackDanger); n != fc.Alerts {
				t.Errorf("%s: %d failure alerts, want %d", id, n, fc.Alerts)
			}
			if n := alertsColored(t, cloud, activities.SlackWarning); n != fc.Warnings {
				t.Errorf("%s: %d warnings, want %d", id, n, fc.Warnings)
			}
		})
	}
}

func glacierTransient(t *testing.T, m *matrixStack) (string, error) {
	const size = 3<<20 + 77
	archive, wantHash, err := m.cloud.Glacier.PutArchive(matrixVault, detdata.New(21, size), "matrix")
	must(t, err)
	m.cloud.SetFaults([]localcloud.Fault{{Service: "glacier", Rate: 0.3}})
	dest := filepath.Join(t.TempDir(), "g.bin")
	id := workflows.GlacierWorkflowID(matrixVault, archive)
	err = m.execute(t, id, workflows.GlacierRetrieveName, workflows.GlacierRetrieveInput{
		Vault: matrixVault, ArchiveID: archive, Tier: "Expedited", Destination: "file://" + dest, ChunkSize: 1 << 20}, nil)
	if err == nil {
		if got, n := fileTreeHash(t, dest); got != wantHash || n != size {
			t.Errorf("file on disk: tree hash %s, %d bytes; want %s, %d", got, n, wantHash, size)
		}
	}
	return id, err
}

func glacierPermanent(t *testing.T, m *matrixStack) (string, error) {
	const archive = "no-such-archive-id"
	id := workflows.GlacierWorkflowID(matrixVault, archive)
	err := m.execute(t, id, workflows.GlacierRetrieveName, workflows.GlacierRetrieveInput{
		Vault: matrixVault, ArchiveID: archive, Tier: "Expedited", Destination: "file://" + filepath.Join(t.TempDir(), "g.bin")}, nil)
	if err != nil && !strings.Contains(err.Error(), archive) {
		t.Errorf("the failure does not name the archive: %v", err)
	}
	return id, err
}

func s3RestorePermanent(t *testing.T, m *matrixStack) (string, error) {
	id := workflows.S3RestoreWorkflowID(matrixBucket, "no/such/key")
	err := m.execute(t, id, workflows.S3RestoreName, workflows.S3RestoreInput{Bucket: matrixBucket, Key: "no/such/key",
		Tier: flowdata.TierExpedited, Destination: "file://" + filepath.Join(t.TempDir(), "r.bin")}, nil)
	return id, err
}

func backupTransient(t *testing.T, m *matrixStack) (string, error) {
	const size = 3<<20 + 5
	src := filepath.Join(t.TempDir(), "src.bin")
	must(t, os.WriteFile(src, detBytes(t, 22, size), 0o600))
	m.cloud.SetFaults([]localcloud.Fault{{Service: "s3", Rate: 0.2}})
	id := fmt.Sprintf("matrix-backup-%d", time.Now().UnixNano())
	var res flowdata.BackupResult
	err := m.execute(t, id, workflows.BackupName, flowdata.BackupInput{Name: "m", Source: "file://" + src,
		Target: "s3://" + matrixBucket + "/backups/", Verify: true, PartSize: 5 << 20}, &res)
	if err == nil {
		m.backupFrom, m.backupSize = "s3://"+matrixBucket+"/backups/m/", size
		head, herr := m.aws.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(matrixBucket), Key: aws.String(res.Key)})
		if herr != nil || aws.ToInt64(head.ContentLength) != size {
			t.Errorf("stored backup %s: %v, want %d bytes", res.Key, herr, size)
		}
	}
	return id, err
}

func backupPermanent(t *testing.T, m *matrixStack) (string, error) {
	src := filepath.Join(t.TempDir(), "src.bin")
	must(t, os.WriteFile(src, []byte("small"), 0o600))
	id := fmt.Sprintf("matrix-backup-nobucket-%d", time.Now().UnixNano())
	return id, m.execute(t, id, workflows.BackupName, flowdata.BackupInput{Name: "m", Source: "file://" + src,
		Target: "s3://matrix-no-such-bucket/backups/"}, nil)
}

// needBackup skips a restore case when the backup case before it failed
// (its own failure is reported there).
func (m *matrixStack) needBackup(t *testing.T) {
	if m.backupFrom == "" {
		t.Skip("the Backup/cloud transient case did not leave a backup to restore")
	}
}

func restoreReadOnly(t *testing.T, m *matrixStack) (string, error) {
	m.needBackup(t)
	dir := mountOrSkip(t, "ro")
	id := fmt.Sprintf("matrix-restore-ro-%d", time.Now().UnixNano())
	return id, m.execute(t, id, workflows.RestoreName, flowdata.RestoreInput{From: m.backupFrom, To: "file://" + filepath.Join(dir, "r.bin")}, nil)
}

func restoreDiskFull(t *testing.T, m *matrixStack) (string, error) {
	m.needBackup(t)
	dir := mountOrSkip(t, "tmpfs-1m")
	id := fmt.Sprintf("matrix-restore-full-%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dest := filepath.Join(dir, "r.bin")
	r, err := m.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, workflows.RestoreName,
		flowdata.RestoreInput{From: m.backupFrom, To: "file://" + dest})
	must(t, err)
	st := waitStatus(t, m.c, id, func(s workflows.Status) bool {
		return s.Attempt >= 2 && strings.Contains(strings.ToLower(s.LastError), "no space")
	})
	t.Logf("while the disk is full: attempt %d, last error %q", st.Attempt, st.LastError)
	// Still full until the "keeps failing" warning: the restore's retries
	// are made quick (its backoff would take 30 s to the 5th attempt).
	quickenRetries(t, m.c, m.ns, id)
	testenv.Eventually(t, 2*time.Minute, 100*time.Millisecond, "the keeps-failing warning", func() bool {
		return alertsColored(t, m.cloud, activities.SlackWarning) > 0
	})
	if st := waitStatus(t, m.c, id, func(workflows.Status) bool { return true }); st.Attempt < workflows.FailingAlertAttempts {
		t.Errorf("warned at attempt %d, want not before %d", st.Attempt, workflows.FailingAlertAttempts)
	}
	// Room again: the next attempt completes.
	must(t, syscall.Mount("", dir, "", syscall.MS_REMOUNT, "size=64m"))
	err = r.Get(ctx, nil)
	if err == nil {
		if fi, serr := os.Stat(dest); serr != nil || fi.Size() != m.backupSize {
			t.Errorf("restored file: %v, want %d bytes", serr, m.backupSize)
		}
	}
	return id, err
}

func restoreHostGone(t *testing.T, m *matrixStack) (string, error) {
	m.needBackup(t)
	id := fmt.Sprintf("matrix-restore-gone-%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := m.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, workflows.RestoreName,
		flowdata.RestoreInput{From: m.backupFrom, To: "file://gone-host/tmp/r.bin", HostWait: flowdata.Duration(4 * time.Second)})
	must(t, err)
	st := waitStatus(t, m.c, id, func(s workflows.Status) bool {
		return strings.Contains(s.Message, `"gone-host"`) || strings.Contains(s.Message, "gone-host")
	})
	if !strings.Contains(st.Message, "gives up at") {
		t.Errorf("status while waiting for the host does not show the limit: %q", st.Message)
	}
	return id, r.Get(ctx, nil)
}
