package workflows

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// The backup flow's replay cases: a backup with verify and retention, one
// whose upload fails (abort and alert), and a restore to http.
func init() {
	reg := func(w worker.Worker, name string, f any) {
		w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name})
	}
	stubs := func(w worker.Worker, uploadErr error) {
		reg(w, activities.BackupUploadName, func(context.Context, activities.BackupUploadInput) (activities.BackupUploadResult, error) {
			return activities.BackupUploadResult{Bytes: 64 << 20, SHA256: "5e1f", Seconds: 1.5}, uploadErr
		})
		reg(w, activities.BackupVerifyName, func(context.Context, activities.ObjectRef) (string, error) { return "5e1f", nil })
		reg(w, activities.BackupPublishName, func(context.Context, activities.PublishInput) error { return nil })
		reg(w, activities.BackupRetentionName, func(context.Context, activities.RetentionInput) ([]string, error) {
			return []string{"prod/cache/20261130T010000Z.bin"}, nil
		})
		reg(w, activities.BackupAbortUploadsName, func(context.Context, activities.AbortUploadsInput) (int, error) { return 1, nil })
		reg(w, activities.SlackNotifyName, func(context.Context, activities.SlackMessage) error { return nil })
	}
	in := flowdata.BackupInput{Name: "cache", Source: "http://127.0.0.1:1/snapshot", Target: "s3://backups/prod/", Keep: 24, Verify: true, NotifySuccess: true,
		Auth: &flowdata.HTTPAuth{BasicAuth: &flowdata.BasicAuth{User: "vigil", PasswordEnv: "CACHE_PASSWORD"}}}
	replayCases = append(replayCases,
		replayCase{
			file: "backup.json", name: BackupName, workflow: BackupWorkflow,
			register: func(w worker.Worker) { stubs(w, nil) },
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, BackupName, in)
			},
		},
		replayCase{
			file: "backup-failed.json", name: BackupName, workflow: BackupWorkflow,
			register: func(w worker.Worker) {
				stubs(w, temporal.NewNonRetryableApplicationError("GET http://127.0.0.1:1/snapshot: 404 Not Found", activities.ErrTypeNotFound, nil))
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, BackupName, in)
			},
		},
		replayCase{
			file: "restore.json", name: RestoreName, workflow: RestoreWorkflow,
			register: func(w worker.Worker) {
				reg(w, activities.BackupResolveName, func(context.Context, activities.ResolveInput) (activities.ObjectRef, error) {
					return activities.ObjectRef{Bucket: "backups", Key: "prod/cache/20261201T030000Z.bin", SHA256: "5e1f", Size: 64 << 20}, nil
				})
				reg(w, activities.RestoreStreamName, func(context.Context, activities.RestoreStreamInput) (activities.RestoreStreamResult, error) {
					return activities.RestoreStreamResult{Location: "http://127.0.0.1:1/snapshot", Bytes: 64 << 20}, nil
				})
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, RestoreName, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "http://127.0.0.1:1/snapshot"})
			},
		},
		replayCase{
			file: "restore-v2-missing-ok.json", name: RestoreName, workflow: RestoreWorkflow,
			register: func(w worker.Worker) {
				reg(w, activities.BackupResolveName, func(context.Context, activities.ResolveInput) (activities.ObjectRef, error) {
					return activities.ObjectRef{}, temporal.NewNonRetryableApplicationError("no backup yet under s3://backups/prod/cache/", activities.ErrTypeNoBackup, nil)
				})
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, RestoreName, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "http://127.0.0.1:1/snapshot", MissingOK: true})
			},
		},
	)
}
