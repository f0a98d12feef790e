package workflows

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// backupCalls mocks the Backup activities, recording the order of calls.
type backupCalls struct {
	env       *testsuite.TestWorkflowEnvironment
	calls     []string
	uploadErr error
	verifyErr error
	retention activities.RetentionInput
	published flowdata.BackupLatest
	aborted   []string
	alerts    []string
	uploadQ   string
}

func newBackupEnv(t *testing.T) *backupCalls {
	env := newBatchEnv(t)
	// A loaded CI machine can stall the first workflow task past the
	// default 1 s deadlock detection; the workflow code blocks on nothing.
	env.SetWorkerOptions(summaryChecked(t, worker.Options{DeadlockDetectionTimeout: 30 * time.Second}))
	(&activities.Backup{}).Register(env)
	(&activities.Host{}).Register(env)
	b := &backupCalls{env: env}
	env.OnActivity(activities.WorkerHostName, mock.Anything).Return("host-a", nil).Maybe()
	env.OnActivity(activities.BackupUploadName, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.BackupUploadInput) (activities.BackupUploadResult, error) {
		b.calls = append(b.calls, "upload")
		b.uploadQ = activity.GetInfo(ctx).TaskQueue
		if b.uploadErr != nil {
			return activities.BackupUploadResult{}, b.uploadErr
		}
		return activities.BackupUploadResult{Bytes: 1000, SHA256: "abc", Seconds: 2}, nil
	}).Maybe()
	env.OnActivity(activities.BackupVerifyName, mock.Anything, mock.Anything).Return(func(context.Context, activities.ObjectRef) (string, error) {
		b.calls = append(b.calls, "verify")
		return "abc", b.verifyErr
	}).Maybe()
	env.OnActivity(activities.BackupPublishName, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PublishInput) error {
		b.calls = append(b.calls, "publish")
		b.published = in.Latest
		return nil
	}).Maybe()
	env.OnActivity(activities.BackupRetentionName, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RetentionInput) ([]string, error) {
		b.calls = append(b.calls, "retention")
		b.retention = in
		return []string{"old"}, nil
	}).Maybe()
	env.OnActivity(activities.BackupAbortUploadsName, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AbortUploadsInput) (int, error) {
		b.calls = append(b.calls, "abort")
		b.aborted = append(b.aborted, in.Key)
		return 1, nil
	}).Maybe()
	env.OnActivity(activities.BackupDeleteName, mock.Anything, mock.Anything).Return(func(context.Context, activities.DeleteInput) error {
		b.calls = append(b.calls, "delete")
		return nil
	}).Maybe()
	env.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.SlackMessage) error {
		b.alerts = append(b.alerts, m.Text)
		return nil
	}).Maybe()
	return b
}

var backupIn = flowdata.BackupInput{Name: "cache", Source: "http://cache:8080/snapshot", Target: "s3://backups/prod", Keep: 3, Verify: true}

func TestBackupOrder(t *testing.T) {
	b := newBackupEnv(t)
	b.env.SetStartTime(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	b.env.ExecuteWorkflow(BackupWorkflow, backupIn)
	var res flowdata.BackupResult
	if err := b.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	// latest.json moves only after verify, retention only after that.
	if want := []string{"upload", "verify", "publish", "retention"}; !slices.Equal(b.calls, want) {
		t.Errorf("calls %v, want %v", b.calls, want)
	}
	key := "prod/cache/20261201T030000Z.bin"
	if res.Key != key || res.SHA256 != "abc" || !res.Verified || res.BytesPerSecond != 500 || !slices.Equal(res.Deleted, []string{"old"}) {
		t.Errorf("result %+v", res)
	}
	if b.published.Key != key || b.retention.Newest != key || b.retention.Keep != 3 || b.retention.Dir != "prod/cache/" {
		t.Errorf("published %+v, retention %+v", b.published, b.retention)
	}
	if len(b.alerts) != 0 {
		t.Errorf("alerts on success: %v", b.alerts)
	}
}

func TestBackupUploadFailureNeverPrunes(t *testing.T) {
	b := newBackupEnv(t)
	b.uploadErr = temporal.NewNonRetryableApplicationError("source gone", activities.ErrTypeNotFound, nil)
	b.env.ExecuteWorkflow(BackupWorkflow, backupIn)
	err := b.env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "source gone") {
		t.Fatalf("err = %v", err)
	}
	if want := []string{"upload", "abort"}; !slices.Equal(b.calls, want) {
		t.Errorf("calls %v, want %v (no publish, no retention)", b.calls, want)
	}
	if len(b.alerts) != 1 || !strings.Contains(b.alerts[0], "backup cache failed") {
		t.Errorf("alerts %v", b.alerts)
	}
}

func TestBackupVerifyFailureKeepsLatest(t *testing.T) {
	b := newBackupEnv(t)
	b.verifyErr = temporal.NewNonRetryableApplicationError("reads back wrong", activities.ErrTypeChecksumMismatch, nil)
	b.env.ExecuteWorkflow(BackupWorkflow, backupIn)
	var ae *temporal.ApplicationError
	if err := b.env.GetWorkflowError(); !errors.As(err, &ae) || ae.Type() != activities.ErrTypeChecksumMismatch {
		t.Fatalf("err = %v, want ChecksumMismatch", err)
	}
	if want := []string{"upload", "verify", "delete"}; !slices.Equal(b.calls, want) {
		t.Errorf("calls %v, want %v (latest.json untouched, the bad object deleted)", b.calls, want)
	}
}

// TestBackupCrashMidUploadAborts: attempts that die mid-upload (heartbeat
// timeouts, as when the worker is killed) are retried; when the run gives
// up, the run's key has its unfinished upload aborted.
func TestBackupCrashMidUploadAborts(t *testing.T) {
	b := newBackupEnv(t)
	b.uploadErr = errors.New("worker lost")
	b.env.SetStartTime(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	in := backupIn
	b.env.SetTestTimeout(time.Minute)
	// TransferOptions retries without limit; cancel after some attempts.
	b.env.RegisterDelayedCallback(b.env.CancelWorkflow, 5*time.Minute)
	b.env.ExecuteWorkflow(BackupWorkflow, in)
	if err := b.env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("err = %v, want canceled (calls %v)", err, b.calls)
	}
	uploads := slices.DeleteFunc(slices.Clone(b.calls), func(s string) bool { return s != "upload" })
	if len(uploads) < 3 || !slices.Contains(b.calls, "abort") || slices.Contains(b.calls, "publish") || slices.Contains(b.calls, "retention") {
		t.Errorf("calls %v: want retried uploads, then an abort, no publish nor retention", b.calls)
	}
	if !slices.Equal(b.aborted, []string{"prod/cache/20261201T030000Z.bin"}) {
		t.Errorf("aborted %v", b.aborted)
	}
	if len(b.alerts) != 0 {
		t.Errorf("a cancelled run alerted: %v", b.alerts)
	}
}

func TestBackupLocalSourceRunsOnOneHost(t *testing.T) {
	b := newBackupEnv(t)
	in := backupIn
	in.Source, in.Verify, in.Keep = "dir:/srv/site", false, 0
	b.env.ExecuteWorkflow(BackupWorkflow, in)
	var res flowdata.BackupResult
	if err := b.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if b.uploadQ != HostTaskQueue(TaskQueue, "host-a") && !strings.HasSuffix(b.uploadQ, "@host-a") {
		t.Errorf("upload ran on %q, want host-a's queue", b.uploadQ)
	}
	if !strings.HasSuffix(res.Key, ".tar.zst") || slices.Contains(b.calls, "verify") || slices.Contains(b.calls, "retention") {
		t.Errorf("key %s, calls %v", res.Key, b.calls)
	}
}

func TestBackupBadInput(t *testing.T) {
	for _, in := range []flowdata.BackupInput{
		{Name: "", Source: "file:///x", Target: "s3://b/p"},
		{Name: "a/b", Source: "file:///x", Target: "s3://b/p"},
		{Name: "n", Source: "ftp://x", Target: "s3://b/p"},
		{Name: "n", Source: "file:///x", Target: "file:///y"},
	} {
		b := newBackupEnv(t)
		b.env.ExecuteWorkflow(BackupWorkflow, in)
		var ae *temporal.ApplicationError
		if err := b.env.GetWorkflowError(); !errors.As(err, &ae) || ae.Type() != activities.ErrTypeBadInput || len(b.calls) != 0 {
			t.Errorf("%+v: err %v, calls %v", in, err, b.calls)
		}
	}
}

func TestRestoreChecksumMismatch(t *testing.T) {
	env := newBatchEnv(t)
	(&activities.Backup{}).Register(env)
	(&activities.Host{}).Register(env)
	obj := activities.ObjectRef{Bucket: "backups", Key: "prod/cache/20261201T030000Z.bin", SHA256: "abc", Size: 10}
	env.OnActivity(activities.WorkerHostName, mock.Anything).Return("host-a", nil)
	env.OnActivity(activities.BackupResolveName, mock.Anything, activities.ResolveInput{From: "s3://backups/prod/cache/"}).Return(obj, nil)
	env.OnActivity(activities.RestoreStreamName, mock.Anything, activities.RestoreStreamInput{Object: obj, To: "file:///srv/cache.bin"}).
		Return(activities.RestoreStreamResult{}, temporal.NewNonRetryableApplicationError("damaged", activities.ErrTypeChecksumMismatch, nil)).Once()
	env.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(nil).Once()
	env.ExecuteWorkflow(RestoreWorkflow, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "file:///srv/cache.bin"})
	var ae *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &ae) || ae.Type() != activities.ErrTypeChecksumMismatch {
		t.Fatalf("err = %v, want ChecksumMismatch", err)
	}
}

func TestRestoreToHTTP(t *testing.T) {
	env := newBatchEnv(t)
	(&activities.Backup{}).Register(env)
	obj := activities.ObjectRef{Bucket: "backups", Key: "k/20261201T030000Z.bin", SHA256: "abc", Size: 10}
	env.OnActivity(activities.BackupResolveName, mock.Anything, mock.Anything).Return(obj, nil)
	env.OnActivity(activities.RestoreStreamName, mock.Anything, mock.Anything).Return(activities.RestoreStreamResult{Location: "http://cache/snapshot", Bytes: 10}, nil)
	env.ExecuteWorkflow(RestoreWorkflow, flowdata.RestoreInput{From: "s3://backups/k/", To: "http://cache/snapshot"})
	var res flowdata.RestoreResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Key != obj.Key || res.Bytes != 10 || res.SHA256 != "abc" {
		t.Fatalf("res %+v, err %v", res, err)
	}
}
