package workflows

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func init() { replayCases = append(replayCases, s3ObjectReplayCases...) }

func regS3Object(w worker.Registry, fail bool) {
	reg := func(name string, f any) { w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
	reg(activities.CheckObjectName, func(context.Context, activities.S3ObjectCheckInput) (activities.S3ObjectCheck, error) {
		return activities.S3ObjectCheck{State: activities.ObjectPresent, ETag: "e1", Size: 5}, nil
	})
	calls := 0
	reg(activities.ProcessObjectName, func(context.Context, activities.ProcessObjectInput) (activities.JobOutput, error) {
		calls++
		if fail {
			return activities.JobOutput{}, temporal.NewNonRetryableApplicationError("HTTP 422", activities.ErrTypeProcessorRejected, nil)
		}
		if calls == 1 {
			return activities.JobOutput{}, temporal.NewApplicationError("HTTP 503", activities.ErrTypeUnexpectedStatus)
		}
		return activities.JobOutput{Summary: "HTTP 200"}, nil
	})
	reg(activities.MoveObjectName, func(_ context.Context, in activities.MoveObjectInput) (activities.MoveObjectResult, error) {
		return activities.MoveObjectResult{Location: "s3://" + in.DestBucket + "/" + in.DestKey}, nil
	})
	reg(activities.SlackNotifyName, func(context.Context, activities.SlackMessage) error { return nil })
}

var replayPipeline = flowdata.Pipeline{Name: "p", Processor: flowdata.Processor{Kind: flowdata.ProcessorHTTP, HTTP: &flowdata.HTTPProcessor{URL: "http://x/y"}},
	Retry: &flowdata.JobRetry{InitialInterval: flowdata.Duration(100 * time.Millisecond), MaximumAttempts: 3}}

var s3ObjectReplayCases = []replayCase{
	{
		file: "s3object-retry.json", name: S3ObjectName, workflow: S3ObjectWorkflow,
		register: func(w worker.Worker) { regS3Object(w, false) },
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, o, S3ObjectName, flowdata.S3ObjectInput{Object: flowdata.S3ObjectRef{Bucket: "b", Key: "in/k", ETag: "e1"},
				Pipeline: replayPipeline, Source: flowdata.SourceEvent})
		},
	},
	{
		file: "s3object-deadletter.json", name: S3ObjectName, workflow: S3ObjectWorkflow,
		register: func(w worker.Worker) { regS3Object(w, true) },
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, o, S3ObjectName, flowdata.S3ObjectInput{Object: flowdata.S3ObjectRef{Bucket: "b", Key: "in/k", ETag: "e1"},
				Pipeline: replayPipeline, Source: flowdata.SourceSweep})
		},
	},
	{
		file: "s3object-exec.json", name: S3ObjectName, workflow: S3ObjectWorkflow,
		register: func(w worker.Worker) {
			regS3Object(w, false)
			w.RegisterActivityWithOptions(func(context.Context) (string, error) { return "h1", nil }, activity.RegisterOptions{Name: activities.WorkerHostName})
		},
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			// The host's own worker serves the pinned activities.
			hw := worker.New(c, HostTaskQueue(o.TaskQueue, "h1"), worker.Options{})
			reg := func(name string, f any) { hw.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
			reg(activities.DownloadObjectName, func(context.Context, activities.DownloadInput) (activities.DownloadResult, error) {
				return activities.DownloadResult{Path: "/tmp/vigil-s3obj-1", Bytes: 5}, nil
			})
			reg(activities.RunObjectCommandName, func(context.Context, activities.RunObjectCommandInput) (activities.JobOutput, error) {
				return activities.JobOutput{Summary: "exit 0"}, nil
			})
			reg(activities.RemoveDownloadName, func(context.Context, string) error { return nil })
			if err := hw.Start(); err != nil {
				return nil, err
			}
			p := flowdata.Pipeline{Name: "p", Processor: flowdata.Processor{Kind: flowdata.ProcessorExec, Exec: &flowdata.ExecJob{Command: "x", Args: []string{"{{.Path}}"}}}}
			return c.ExecuteWorkflow(ctx, o, S3ObjectName, flowdata.S3ObjectInput{Object: flowdata.S3ObjectRef{Bucket: "b", Key: "in/k", ETag: "e1"}, Pipeline: p})
		},
	},
	{
		// s3object-exec-redownload version 1: the command finds its local
		// copy replaced; the run downloads it once more and runs again.
		file: "s3object-v1-exec-redownload.json", name: S3ObjectName, workflow: S3ObjectWorkflow,
		register: func(w worker.Worker) {
			regS3Object(w, false)
			w.RegisterActivityWithOptions(func(context.Context) (string, error) { return "h1", nil }, activity.RegisterOptions{Name: activities.WorkerHostName})
		},
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			hw := worker.New(c, HostTaskQueue(o.TaskQueue, "h1"), worker.Options{})
			reg := func(name string, f any) { hw.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
			downloads := 0
			reg(activities.DownloadObjectName, func(context.Context, activities.DownloadInput) (activities.DownloadResult, error) {
				downloads++
				return activities.DownloadResult{Path: "/tmp/vigil-s3obj-1", Bytes: 5, Token: fmt.Sprint("t", downloads)}, nil
			})
			reg(activities.RunObjectCommandName, func(_ context.Context, in activities.RunObjectCommandInput) (activities.JobOutput, error) {
				if in.Token == "t1" {
					return activities.JobOutput{}, temporal.NewNonRetryableApplicationError("destination /tmp/vigil-s3obj-1 is not the file prepared for this run: it is gone",
						activities.ErrTypeDestinationReplaced, nil)
				}
				return activities.JobOutput{Summary: "exit 0"}, nil
			})
			reg(activities.RemoveDownloadName, func(context.Context, string) error { return nil })
			if err := hw.Start(); err != nil {
				return nil, err
			}
			p := flowdata.Pipeline{Name: "p", Processor: flowdata.Processor{Kind: flowdata.ProcessorExec, Exec: &flowdata.ExecJob{Command: "x", Args: []string{"{{.Path}}"}}}}
			return c.ExecuteWorkflow(ctx, o, S3ObjectName, flowdata.S3ObjectInput{Object: flowdata.S3ObjectRef{Bucket: "b", Key: "in/k", ETag: "e1"}, Pipeline: p})
		},
	},
	{
		file: "s3sweep-continue.json", name: S3SweepName, workflow: S3SweepWorkflow,
		register: func(w worker.Worker) {
			w.RegisterActivityWithOptions(func(_ context.Context, in activities.SweepInput) (activities.SweepProgress, error) {
				c := flowdata.S3SweepCounts{Listed: 3, Found: 2, Started: 1, AlreadyDone: 1, Pages: 1}
				if in.Token == "" {
					return activities.SweepProgress{Token: "t:2", Counts: c, StartedKeys: []string{"in/a"}}, nil
				}
				return activities.SweepProgress{Done: true, Counts: c, StartedKeys: []string{"in/b"}}, nil
			}, activity.RegisterOptions{Name: activities.SweepPagesName})
			w.RegisterActivityWithOptions(func(context.Context, activities.SlackMessage) error { return nil }, activity.RegisterOptions{Name: activities.SlackNotifyName})
		},
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, o, S3SweepName, S3SweepInput{Bucket: "b", Prefix: "in/", Pipeline: replayPipeline, ActivitiesPerRun: 1})
		},
	},
	{
		file: "s3bindings.json", name: S3BindingsName, workflow: S3BindingsWorkflow,
		register: func(worker.Worker) {},
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			b := flowdata.S3Binding{Bucket: "b", Prefix: "in/", Pipeline: replayPipeline}
			run, err := c.SignalWithStartWorkflow(ctx, o.ID, BindSignal, b, o, S3BindingsName, []flowdata.S3Binding(nil))
			if err != nil {
				return nil, err
			}
			if err := c.SignalWorkflow(ctx, o.ID, "", UnbindSignal, S3Unbind{Bucket: "b", Prefix: "in/"}); err != nil {
				return nil, err
			}
			for { // until both signals are handled, then end the run
				v, err := c.QueryWorkflow(ctx, o.ID, "", BindingsQuery)
				var got []flowdata.S3Binding
				if err == nil && v.Get(&got) == nil && len(got) == 0 {
					break
				}
			}
			return run, c.TerminateWorkflow(ctx, o.ID, "", "recorded")
		},
	},
}
