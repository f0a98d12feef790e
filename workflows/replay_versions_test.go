package workflows

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Replay histories of the version paths of the retrieval flows that the
// earlier histories do not hold: a batch forwarding a failed attempt and
// its recovery to the retrieval (glacier-batch-failures v1, the batch and
// the retrieval), a poll interval below the floor raised
// (retrieval-wait-bounds v1, Glacier and S3 restore), and a range that
// succeeds after its host was absent (glacier-range-host-wait-reset v1).
func init() {
	// Two batches of 8 MiB ranges to S3; range 1024 (the second batch's
	// only one) fails once and its retry succeeds.
	batchStubs := glacierStubs{size: (glacierBatchRanges + 1) * 8 << 20, failRange: glacierBatchRanges}
	// registerBatches registers the stubs and the workflow (name, fn)
	// the case does not replay.
	registerBatches := func(name string, fn any) func(w worker.Worker) {
		return func(w worker.Worker) {
			registerGlacierStubs(w, batchStubs)
			Register(w, map[string]any{name: fn})
		}
	}
	startBatches := func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
		run, err := c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: "a",
			Destination: "s3://out/x", PollInterval: flowdata.Duration(time.Hour), Parallel: 64})
		if err == nil {
			signalSizeUntilDone(ctx, c, o.ID, "j1", batchStubs.size)
		}
		return run, err
	}
	replayCases = append(replayCases,
		// The retrieval: the batch's forwarded failure and recovery.
		replayCase{file: "glacier-v6-batch-failures.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
			register: registerBatches(GlacierBatchName, GlacierBatchWorkflow), start: startBatches},
		// The second batch: its GetVersion marker, the failure and the
		// recovery it received and signalled on.
		replayCase{file: "glacier-batch-v1-failures.json", name: GlacierBatchName, workflow: GlacierBatchWorkflow,
			register: registerBatches(GlacierRetrieveName, GlacierRetrieveWorkflow),
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				o.ID += "-retrieval"
				run, err := startBatches(ctx, c, o)
				if err != nil {
					return nil, err
				}
				if err := run.Get(ctx, nil); err != nil {
					return nil, err
				}
				return c.GetWorkflow(ctx, o.ID+"/ranges/2", ""), nil
			}},
		// A 100 ms poll interval raised to the floor; the notification
		// completes the job before the first poll.
		replayCase{file: "glacier-v6-wait-bounds.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
			register: func(w worker.Worker) { registerGlacierStubs(w, glacierStubs{}) },
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				run, err := c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: "a",
					Destination: "s3://out/x", PollInterval: flowdata.Duration(100 * time.Millisecond), ChunkSize: 8 << 20, Parallel: 2})
				if err == nil {
					signalUntilDone(ctx, c, o.ID, "j1")
				}
				return run, err
			}},
		// The same for an S3 restore (restore only, no destination).
		replayCase{file: "s3restore-v3-wait-bounds.json", name: S3RestoreName, workflow: S3RestoreWorkflow,
			register: func(w worker.Worker) {
				reg := func(name string, f any) { w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
				reg(activities.RestoreObjectName, func(context.Context, activities.RestoreInput) (flowdata.S3RestoreState, error) {
					return flowdata.S3RestoreState{Ongoing: true, Size: 5}, nil
				})
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				run, err := c.ExecuteWorkflow(ctx, o, S3RestoreName, S3RestoreInput{Bucket: "b", Key: "k", VersionID: "v1",
					PollInterval: flowdata.Duration(100 * time.Millisecond)})
				if err != nil {
					return nil, err
				}
				return run, c.SignalWorkflow(ctx, o.ID, "", S3RestoreSignal, flowdata.S3RestoreState{Bucket: "b", Key: "k", VersionID: "v1", Restored: true})
			}},
		// h5's worker prepares the file and stops; the first range waits
		// for h5 (a schedule-to-start timeout), a new worker of h5 takes
		// it again and the success ends the wait.
		replayCase{file: "glacier-v6-host-wait-reset.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
			register: func(w worker.Worker) { registerGlacierStubs(w, glacierStubs{}) },
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				hw := worker.New(c, HostTaskQueue(o.TaskQueue, "h5"), worker.Options{})
				registerFileStubs(hw, glacierStubs{})
				if err := hw.Start(); err != nil {
					return nil, err
				}
				run, err := c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: "a",
					Destination: "file://h5/x", PollInterval: flowdata.Duration(time.Hour), ChunkSize: 1 << 20, Parallel: 1})
				if err != nil {
					return nil, err
				}
				// Prepared early: the run waits for the job.
				if err := awaitStatus(ctx, c, o.ID, func(st Status) bool { return st.Phase == PhaseWaiting && st.Details["jobId"] == "j1" }); err != nil {
					return nil, err
				}
				hw.Stop()
				signalUntilDone(ctx, c, o.ID, "j1")
				if err := awaitStatus(ctx, c, o.ID, func(st Status) bool { return IsWaitingForHost(st.Message, "h5") }); err != nil {
					return nil, err
				}
				startHostWorker(c, o.TaskQueue, "h5", glacierStubs{})
				return run, nil
			}},
	)
}

// awaitStatus waits (up to 5 minutes) until run id's status satisfies ok.
func awaitStatus(ctx context.Context, c client.Client, id string, ok func(Status) bool) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		var st Status
		if v, err := c.QueryWorkflow(ctx, id, "", StatusQuery); err == nil && v.Get(&st) == nil && ok(st) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s: status not reached in 5 minutes", id)
}
