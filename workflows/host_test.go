package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// restoreHostEnv mocks a restore whose stream activity records the task
// queue it ran on; WorkerHost answers "host-a" (the worker a typo'd
// file://srv/r.bin used to run on). Slack alerts are counted.
type restoreHostEnv struct {
	env     *testsuite.TestWorkflowEnvironment
	queues  []string
	alerts  []activities.SlackMessage
	absent  bool
	streams int
}

func newRestoreHostEnv(t *testing.T) *restoreHostEnv {
	r := &restoreHostEnv{env: newBatchEnv(t)}
	// A loaded machine can stall a workflow task past the default 1 s
	// deadlock detection; the workflow code blocks on nothing.
	r.env.SetWorkerOptions(summaryChecked(t, worker.Options{DeadlockDetectionTimeout: 30 * time.Second}))
	(&activities.Backup{}).Register(r.env)
	(&activities.Host{}).Register(r.env)
	obj := activities.ObjectRef{Bucket: "backups", Key: "prod/cache/20261201T030000Z.bin", SHA256: "abc", Size: 10}
	r.env.OnActivity(activities.WorkerHostName, mock.Anything).Return("host-a", nil).Maybe()
	r.env.OnActivity(activities.BackupResolveName, mock.Anything, mock.Anything).Return(obj, nil).Maybe()
	r.env.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.SlackMessage) error {
		r.alerts = append(r.alerts, m)
		return nil
	}).Maybe()
	r.env.OnActivity(activities.RestoreStreamName, mock.Anything, mock.Anything).After(HostWaitTimeout).Return(
		func(ctx context.Context, in activities.RestoreStreamInput) (activities.RestoreStreamResult, error) {
			r.streams++
			r.queues = append(r.queues, activity.GetInfo(ctx).TaskQueue)
			if r.absent {
				return activities.RestoreStreamResult{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
			}
			return activities.RestoreStreamResult{Location: in.To, Bytes: 10}, nil
		}).Maybe()
	return r
}

// TestRestoreURLHostPinsTheRun: the typo file://srv/r.bin names host
// "srv"; the restore runs on srv's queue (where /r.bin is what the user
// asked for) and reports it, never on the worker that answers first.
func TestRestoreURLHostPinsTheRun(t *testing.T) {
	r := newRestoreHostEnv(t)
	r.env.ExecuteWorkflow(RestoreWorkflow, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "file://srv/r.bin"})
	var res flowdata.RestoreResult
	if err := r.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(r.queues) != 1 || !strings.HasSuffix(r.queues[0], "@srv") || res.Host != "srv" {
		t.Fatalf("restore ran on %q, result host %q; want srv's queue and host srv", r.queues, res.Host)
	}
}

// TestRestoreAnyHostIsReported: file:///path runs on the host that answers
// and the result names it.
func TestRestoreAnyHostIsReported(t *testing.T) {
	r := newRestoreHostEnv(t)
	r.env.ExecuteWorkflow(RestoreWorkflow, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "file:///srv/r.bin"})
	var res flowdata.RestoreResult
	if err := r.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(r.queues) != 1 || !strings.HasSuffix(r.queues[0], "@host-a") || res.Host != "host-a" {
		t.Fatalf("restore ran on %q, result host %q; want host-a", r.queues, res.Host)
	}
}

// TestRestoreURLHostConflict: a URL host and a --host that differ are
// refused before anything is written.
func TestRestoreURLHostConflict(t *testing.T) {
	r := newRestoreHostEnv(t)
	r.env.ExecuteWorkflow(RestoreWorkflow, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "file://srv/r.bin", Host: "db-01"})
	var ae *temporal.ApplicationError
	if err := r.env.GetWorkflowError(); !errors.As(err, &ae) || ae.Type() != activities.ErrTypeBadInput || r.streams != 0 {
		t.Fatalf("err %v, %d stream calls; want BadInput and none", err, r.streams)
	}
}

// TestHostWaitLimitFails: no worker of srv ever takes the restore; the
// status shows the wait and its limit, and at 24 h the run fails with
// HostUnavailable and posts exactly one alert.
func TestHostWaitLimitFails(t *testing.T) {
	r := newRestoreHostEnv(t)
	r.absent = true
	start := r.env.Now()
	var midway Status
	r.env.RegisterDelayedCallback(func() {
		v, err := r.env.QueryWorkflow(StatusQuery)
		if err == nil {
			err = v.Get(&midway)
		}
		if err != nil {
			t.Errorf("status query: %v", err)
		}
	}, 5*time.Hour)
	r.env.ExecuteWorkflow(RestoreWorkflow, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "file://srv/r.bin"})
	var ae *temporal.ApplicationError
	if err := r.env.GetWorkflowError(); !errors.As(err, &ae) || ae.Type() != activities.ErrTypeHostUnavailable {
		t.Fatalf("err %v, want HostUnavailable", err)
	}
	if took := r.env.Now().Sub(start); took < DefaultHostWait || took > DefaultHostWait+hostRecheckMax {
		t.Errorf("failed after %s, want at the %s limit", took, DefaultHostWait)
	}
	if len(r.alerts) != 1 || !strings.Contains(r.alerts[0].Fields[0].Value, `host "srv"`) {
		t.Errorf("alerts %+v, want one naming host srv", r.alerts)
	}
	giveUp := start.Add(DefaultHostWait).UTC().Format(activities.HostWaitTimeFormat)
	if !strings.HasPrefix(midway.Message, "waiting for host srv since ") || !strings.Contains(midway.Message, "gives up at "+giveUp) {
		t.Errorf("status message after 5h %q, want the wait and when it gives up (%s)", midway.Message, giveUp)
	}
	for _, q := range r.queues {
		if !strings.HasSuffix(q, "@srv") {
			t.Fatalf("an attempt ran on %q, not srv's queue", q)
		}
	}
}

// TestHostWaitLimitPerRun: the run's hostWait replaces the default.
func TestHostWaitLimitPerRun(t *testing.T) {
	r := newRestoreHostEnv(t)
	r.absent = true
	start := r.env.Now()
	r.env.ExecuteWorkflow(RestoreWorkflow, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "file://srv/r.bin", HostWait: flowdata.Duration(2 * time.Hour)})
	var ae *temporal.ApplicationError
	if err := r.env.GetWorkflowError(); !errors.As(err, &ae) || ae.Type() != activities.ErrTypeHostUnavailable {
		t.Fatalf("err %v, want HostUnavailable", err)
	}
	if took := r.env.Now().Sub(start); took < 2*time.Hour || took > 2*time.Hour+hostRecheckMax {
		t.Errorf("failed after %s, want at the 2h limit", took)
	}
}

// TestBackupSourceURLHostPins: a file://HOST/path source is read on HOST.
func TestBackupSourceURLHostPins(t *testing.T) {
	b := newBackupEnv(t)
	in := backupIn
	in.Source, in.Verify, in.Keep = "file://db-01/srv/db.dump", false, 0
	b.env.ExecuteWorkflow(BackupWorkflow, in)
	var res flowdata.BackupResult
	if err := b.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.uploadQ, "@db-01") || res.Host != "db-01" {
		t.Errorf("upload ran on %q, result host %q; want db-01", b.uploadQ, res.Host)
	}
}

// TestBatchExecJobPinsToHost: an exec job with exec.host runs its command
// on that host's queue only, and the status names the host.
func TestBatchExecJobPinsToHost(t *testing.T) {
	env := newBatchEnv(t)
	var queues []string
	env.OnActivity(activities.RunCommandName, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ activities.ExecInput) (activities.JobOutput, error) {
		queues = append(queues, activity.GetInfo(ctx).TaskQueue)
		return activities.JobOutput{Summary: "exit 0"}, nil
	})
	job := flowdata.BatchJob{Name: "dump", Kind: flowdata.JobKindExec, Exec: &flowdata.ExecJob{Command: "pg_dump", Host: "db-01"}}
	env.ExecuteWorkflow(BatchJobWorkflow, BatchJobInput{Job: job})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(queues) != 1 || !strings.HasSuffix(queues[0], "@db-01") {
		t.Fatalf("command ran on %q, want db-01's queue", queues)
	}
}
