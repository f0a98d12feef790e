package workflows

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Replay histories of the alert and history-bound fixes: a schedule
// watcher that leaves a self-alerting flow's failed run alone, a Datastore
// export without a report that alerts its failure, a host wait under
// MaxHostWait, a job whose retry policy is clamped to the bounds, a long
// HTTP job call with a heartbeat timeout, a processor whose retry
// recovers (the recovered signal that clears the shown failure).
func init() {
	reg := func(w worker.Registry, name string, f any) {
		w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name})
	}
	replayCases = append(replayCases,
		// vigil-schedwatch-self-alert version 1: a watcher started with
		// AlertFailures sees a failed sweep (which alerted itself: no
		// alert) and a terminated one (alerted).
		replayCase{file: "schedwatch-v2-self-alert.json", name: ScheduleWatchName, workflow: ScheduleWatchWorkflow,
			register: func(w worker.Worker) {
				later := time.Now().Add(time.Hour)
				calls := 0
				reg(w, activities.CheckScheduleName, func(context.Context, activities.ScheduleCheckInput) (activities.ScheduleCheck, error) {
					calls++
					c := activities.ScheduleCheck{Exists: calls < 3}
					if calls == 2 {
						c.RecentRuns = []activities.ScheduledRun{
							{WorkflowID: "sweep/a", WorkflowType: S3SweepName, Status: "Failed", Failure: "AccessDenied", ActualTime: later},
							{WorkflowID: "sweep/b", WorkflowType: S3SweepName, Status: "Terminated", ActualTime: later},
						}
					}
					return c, nil
				})
				reg(w, activities.SlackNotifyName, func(context.Context, activities.SlackMessage) error { return nil })
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, ScheduleWatchName, ScheduleWatchInput{ScheduleID: "s", AlertFailures: true, Interval: 100 * time.Millisecond})
			}},
		// vigil-datastore-disabled-alert version 1: the export fails, its
		// report is disabled, it posts one alert.
		replayCase{file: "datastore-v1-disabled-alert.json", name: DatastoreExportName, workflow: DatastoreExportWorkflow,
			register: func(w worker.Worker) {
				datastoreReplayStubs(w, 0, flowdata.DatastoreProcessing, flowdata.DatastoreFailed)
				reg(w, activities.SlackNotifyName, func(context.Context, activities.SlackMessage) error { return nil })
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, DatastoreExportName, flowdata.DatastoreExportInput{Project: "demo-project",
					OutputURLPrefix: "gs://b/p", Poll: fastDatastorePoll, Report: flowdata.DatastoreReport{Disabled: true}})
			}},
		// host-wait-max version 1: no worker serves "gone"; the first
		// attempt's schedule-to-start timeout ends past the 1 s limit.
		replayCase{file: "restore-v3-host-wait-max.json", name: RestoreName, workflow: RestoreWorkflow,
			register: func(w worker.Worker) {
				reg(w, activities.BackupResolveName, func(context.Context, activities.ResolveInput) (activities.ObjectRef, error) {
					return activities.ObjectRef{Bucket: "backups", Key: "prod/cache/20261201T030000Z.bin", SHA256: "5e1f", Size: 64 << 20}, nil
				})
				reg(w, activities.SlackNotifyName, func(context.Context, activities.SlackMessage) error { return nil })
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, RestoreName, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "file://gone/srv/r.bin",
					HostWait: flowdata.Duration(time.Second)})
			}},
		// batch-retry-bounds version 1: a 100 ms initial interval is
		// raised to 1 s; the second attempt succeeds.
		replayCase{file: "batch-v1-retry-bounds.json", name: BatchJobName, workflow: BatchJobWorkflow,
			register: func(w worker.Worker) {
				calls := 0
				reg(w, activities.HTTPCallName, func(context.Context, activities.HTTPCallInput) (activities.JobOutput, error) {
					calls++
					if calls == 1 {
						return activities.JobOutput{}, temporal.NewApplicationError("HTTP 503", activities.ErrTypeUnexpectedStatus)
					}
					return activities.JobOutput{StatusCode: 200, Summary: "HTTP 200"}, nil
				})
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, BatchJobName, BatchJobInput{Job: flowdata.BatchJob{Name: "r", Kind: flowdata.JobKindHTTP,
					HTTP:  &flowdata.HTTPJob{URL: "http://127.0.0.1:1/x"},
					Retry: &flowdata.JobRetry{InitialInterval: flowdata.Duration(100 * time.Millisecond), MaximumAttempts: 3}}})
			}},
		// http-job-heartbeat version 1: a call with a 2 m timeout gets a
		// heartbeat timeout.
		replayCase{file: "batch-v1-http-heartbeat.json", name: BatchJobName, workflow: BatchJobWorkflow,
			register: func(w worker.Worker) {
				reg(w, activities.HTTPCallName, func(context.Context, activities.HTTPCallInput) (activities.JobOutput, error) {
					return activities.JobOutput{StatusCode: 200, Summary: "HTTP 200"}, nil
				})
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, BatchJobName, BatchJobInput{Job: flowdata.BatchJob{Name: "h", Kind: flowdata.JobKindHTTP,
					HTTP: &flowdata.HTTPJob{URL: "http://127.0.0.1:1/x", Timeout: flowdata.Duration(2 * time.Minute)}}})
			}},
		// ActivityRecoveredSignal: the processor fails once, the retry
		// succeeds and ClassifyInterceptor signals the recovery.
		replayCase{file: "s3object-v2-recovered.json", name: S3ObjectName, workflow: S3ObjectWorkflow,
			register: func(w worker.Worker) { regS3Object(w, false) },
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, S3ObjectName, flowdata.S3ObjectInput{Object: flowdata.S3ObjectRef{Bucket: "b", Key: "in/k", ETag: "e1"},
					Pipeline: replayPipeline, Source: flowdata.SourceEvent})
			}},
	)
}
