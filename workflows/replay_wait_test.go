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

// Replay histories of waits that continue as new (waitContinueChange):
// for each waiting flow, the first run (it polls WaitPollsPerRun times and
// continues as new) and the run it continues (it resumes the wait, sees
// the job done and finishes). Polls are 10 ms apart (workflow code takes
// any interval; the floor is the starter's and catalog's) and the job is
// done at poll WaitPollsPerRun+1.
const (
	replayWaitPoll = flowdata.Duration(10 * time.Millisecond)
	replayDonePoll = WaitPollsPerRun + 1
)

// glacierWaitStubs registers Glacier activities whose job completes at
// poll replayDonePoll, with output that expires in 3 h (one alert).
func glacierWaitStubs(w worker.Worker) {
	reg := func(name string, f any) { w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
	polls := 0
	reg(activities.InitiateJobName, func(context.Context, activities.InitiateJobInput) (flowdata.GlacierJobState, error) {
		return flowdata.GlacierJobState{JobID: "j1", StatusCode: "InProgress"}, nil
	})
	reg(activities.DescribeJobName, func(context.Context, flowdata.GlacierJob) (flowdata.GlacierJobState, error) {
		polls++
		if polls < replayDonePoll {
			return flowdata.GlacierJobState{JobID: "j1", StatusCode: "InProgress"}, nil
		}
		return flowdata.GlacierJobState{JobID: "j1", StatusCode: "Succeeded", Completed: true, OutputSize: 1 << 20, TreeHash: "t",
			CompletionDate: time.Now().Add(-21 * time.Hour).UTC().Format(time.RFC3339)}, nil
	})
	reg(activities.PrepareDestinationName, func(_ context.Context, in activities.PrepareInput) (activities.Prepared, error) {
		return activities.Prepared{Size: in.Size}, nil
	})
	reg(activities.DownloadRangeName, func(_ context.Context, in activities.DownloadRangeInput) (activities.RangePart, error) {
		return activities.RangePart{Index: in.Index, Bytes: in.Range.Len(), TreeHash: "t"}, nil
	})
	reg(activities.FinishDestinationName, func(context.Context, activities.FinishInput) (activities.FinishResult, error) {
		return activities.FinishResult{Location: "s3://out/x", Bytes: 1 << 20, TreeHash: "t"}, nil
	})
	reg(activities.SlackNotifyName, func(context.Context, activities.SlackMessage) error { return nil })
}

// s3RestoreWaitStubs registers S3 restore activities whose restore
// completes at poll replayDonePoll.
func s3RestoreWaitStubs(w worker.Worker) {
	reg := func(name string, f any) { w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
	polls := 0
	reg(activities.RestoreObjectName, func(context.Context, activities.RestoreInput) (flowdata.S3RestoreState, error) {
		return flowdata.S3RestoreState{Bucket: "b", Key: "k", Ongoing: true, Size: 5}, nil
	})
	reg(activities.HeadRestoreName, func(context.Context, activities.HeadRestoreInput) (flowdata.S3RestoreState, error) {
		polls++
		if polls < replayDonePoll {
			return flowdata.S3RestoreState{Bucket: "b", Key: "k", Ongoing: true, Size: 5}, nil
		}
		return flowdata.S3RestoreState{Bucket: "b", Key: "k", Restored: true, Size: 5, Expiry: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
	})
}

// datastoreWaitStubs registers Datastore activities whose operation
// succeeds at poll replayDonePoll.
func datastoreWaitStubs(w worker.Worker) {
	states := make([]string, replayDonePoll)
	for i := range states {
		states[i] = flowdata.DatastoreProcessing
	}
	states[replayDonePoll-1] = flowdata.DatastoreSuccessful
	datastoreReplayStubs(w, 0, states...)
}

// latestRun waits for a workflow's last run to end and returns it: the
// run that the first one continued as new into.
func latestRun(ctx context.Context, c client.Client, run client.WorkflowRun) (client.WorkflowRun, error) {
	if err := run.Get(ctx, nil); err != nil {
		return nil, err
	}
	d, err := c.DescribeWorkflowExecution(ctx, run.GetID(), "")
	if err != nil {
		return nil, err
	}
	return c.GetWorkflow(ctx, run.GetID(), d.WorkflowExecutionInfo.Execution.RunId), nil
}

// continued starts a workflow and returns its run after the first.
func continued(start func(context.Context, client.Client, client.StartWorkflowOptions) (client.WorkflowRun, error)) func(context.Context, client.Client, client.StartWorkflowOptions) (client.WorkflowRun, error) {
	return func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
		run, err := start(ctx, c, o)
		if err != nil {
			return nil, err
		}
		return latestRun(ctx, c, run)
	}
}

// firstRun is a workflow's first run: its Get follows the runs it
// continued as new into, its GetRunID stays the first run's (the history
// recorded).
type firstRun struct {
	client.WorkflowRun
	id string
}

// GetRunID is the first run's ID.
func (r firstRun) GetRunID() string { return r.id }

// first starts a workflow and returns its first run.
func first(start func(context.Context, client.Client, client.StartWorkflowOptions) (client.WorkflowRun, error)) func(context.Context, client.Client, client.StartWorkflowOptions) (client.WorkflowRun, error) {
	return func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
		run, err := start(ctx, c, o)
		if err != nil {
			return nil, err
		}
		return firstRun{run, run.GetRunID()}, nil
	}
}

func init() {
	glacier := func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
		return c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: "a", Destination: "s3://out/x",
			PollInterval: replayWaitPoll, AlertWebhookEnv: "VIGIL_SLACK_WEBHOOK_URL"})
	}
	s3restore := func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
		return c.ExecuteWorkflow(ctx, o, S3RestoreName, S3RestoreInput{Bucket: "b", Key: "k", PollInterval: replayWaitPoll})
	}
	datastore := func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
		return c.ExecuteWorkflow(ctx, o, DatastoreExportName, flowdata.DatastoreExportInput{Project: "demo-project", Bucket: "b",
			Poll: flowdata.DatastorePollPolicy{Initial: replayWaitPoll, Max: replayWaitPoll}})
	}
	replayCases = append(replayCases,
		replayCase{file: "glacier-v3-wait-continue.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
			register: glacierWaitStubs, start: first(glacier)},
		replayCase{file: "glacier-v3-wait-continued.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
			register: glacierWaitStubs, start: continued(glacier)},
		replayCase{file: "s3restore-v2-wait-continue.json", name: S3RestoreName, workflow: S3RestoreWorkflow,
			register: s3RestoreWaitStubs, start: first(s3restore)},
		replayCase{file: "s3restore-v2-wait-continued.json", name: S3RestoreName, workflow: S3RestoreWorkflow,
			register: s3RestoreWaitStubs, start: continued(s3restore)},
		replayCase{file: "datastore-export-wait-continue.json", name: DatastoreExportName, workflow: DatastoreExportWorkflow,
			register: datastoreWaitStubs, start: first(datastore)},
	)
}
