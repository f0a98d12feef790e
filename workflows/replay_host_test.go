package workflows

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Host pinning's replay cases: a restore to file://h2/... pinned to h2
// (the location-host-pins marker), and one to a host no worker serves,
// failed at its host-wait limit (the host-wait-limit marker).
func init() {
	resolve := func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(context.Context, activities.ResolveInput) (activities.ObjectRef, error) {
			return activities.ObjectRef{Bucket: "backups", Key: "prod/cache/20261201T030000Z.bin", SHA256: "5e1f", Size: 64 << 20}, nil
		}, activity.RegisterOptions{Name: activities.BackupResolveName})
		w.RegisterActivityWithOptions(func(context.Context, activities.SlackMessage) error { return nil }, activity.RegisterOptions{Name: activities.SlackNotifyName})
	}
	replayCases = append(replayCases,
		replayCase{
			file: "restore-v1-url-host.json", name: RestoreName, workflow: RestoreWorkflow, register: resolve,
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				hw := worker.New(c, HostTaskQueue(o.TaskQueue, "h2"), worker.Options{})
				hw.RegisterActivityWithOptions(func(_ context.Context, in activities.RestoreStreamInput) (activities.RestoreStreamResult, error) {
					return activities.RestoreStreamResult{Location: in.To, Bytes: 64 << 20}, nil
				}, activity.RegisterOptions{Name: activities.RestoreStreamName})
				if err := hw.Start(); err != nil {
					return nil, err
				}
				return c.ExecuteWorkflow(ctx, o, RestoreName, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "file://h2/srv/r.bin"})
			},
		},
		replayCase{
			// No worker serves "gone": the first attempt's schedule-to-start
			// timeout (HostWaitTimeout) ends past the 1 s limit.
			file: "restore-v1-host-wait-limit.json", name: RestoreName, workflow: RestoreWorkflow, register: resolve,
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, RestoreName, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "file://gone/srv/r.bin",
					HostWait: flowdata.Duration(time.Second)})
			},
		},
	)
}
