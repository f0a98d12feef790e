package workflows

import (
	"context"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Replay histories of the retrieval flows' version-1 behaviours (host
// pinning, clean-up, JobOutputExpired, batches) and of paths the first
// histories did not cover: the completion signal, re-initiation after
// expiry, lost ranges, RouterQueuesWorkflow.
func init() {
	replayCases = append(replayCases,
		replayCase{file: "glacier-v1-signal-expiry-lost.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
			register: func(w worker.Worker) { registerGlacierStubs(w, glacierStubs{expireRange: 1, lost: []int{0}}) },
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				startHostWorker(c, o.TaskQueue, "h1", glacierStubs{expireRange: 1, lost: []int{0}})
				run, err := c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: "a",
					Destination: "file://h1/x", PollInterval: flowdata.Duration(time.Hour), ChunkSize: 1 << 20, Parallel: 2})
				if err != nil {
					return nil, err
				}
				// Only the notification can complete the job (polls are an
				// hour away); the re-initiated job j2 is notified too.
				for _, job := range []string{"j1", "j2"} {
					go signalUntilDone(ctx, c, o.ID, job)
				}
				return run, nil
			}},
		// Version 1 of glacier-prepare-early: the file is prepared before
		// the wait; expiry and lost ranges keep that preparation.
		replayCase{file: "glacier-v2-prepare-early.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
			register: func(w worker.Worker) { registerGlacierStubs(w, glacierStubs{expireRange: 1, lost: []int{0}}) },
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				startHostWorker(c, o.TaskQueue, "h4", glacierStubs{expireRange: 1, lost: []int{0}})
				run, err := c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: "a",
					Destination: "file://h4/x", PollInterval: flowdata.Duration(time.Hour), ChunkSize: 1 << 20, Parallel: 2})
				if err != nil {
					return nil, err
				}
				for _, job := range []string{"j1", "j2"} {
					go signalUntilDone(ctx, c, o.ID, job)
				}
				return run, nil
			}},
		replayCase{file: "glacier-v1-any-host-cancel.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
			register: func(w worker.Worker) { registerGlacierStubs(w, glacierStubs{host: "h2", slow: true}) },
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				stubs := glacierStubs{slow: true, downloading: make(chan struct{})}
				startHostWorker(c, o.TaskQueue, "h2", stubs)
				run, err := c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: "a",
					Destination: "file:///x", PollInterval: flowdata.Duration(100 * time.Millisecond), ChunkSize: 1 << 20, Parallel: 1})
				if err != nil {
					return nil, err
				}
				<-stubs.downloading
				return run, c.CancelWorkflow(ctx, o.ID, run.GetRunID())
			}},
		replayCase{file: "glacier-v1-s3-batches.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
			register: func(w worker.Worker) {
				registerGlacierStubs(w, glacierStubs{size: (glacierBatchRanges + 1) * 8 << 20})
				Register(w, map[string]any{GlacierBatchName: GlacierBatchWorkflow})
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: "a",
					Destination: "s3://out/x", PollInterval: flowdata.Duration(100 * time.Millisecond), Parallel: 64})
			}},
		replayCase{file: "s3restore-v1-file-host.json", name: S3RestoreName, workflow: S3RestoreWorkflow,
			register: func(w worker.Worker) {
				reg := func(name string, f any) { w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
				reg(activities.RestoreObjectName, func(context.Context, activities.RestoreInput) (flowdata.S3RestoreState, error) {
					return flowdata.S3RestoreState{Ongoing: true, Size: 5}, nil
				})
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				hw := worker.New(c, HostTaskQueue(o.TaskQueue, "h3"), worker.Options{})
				hw.RegisterActivityWithOptions(func(_ context.Context, in activities.DeliverObjectInput) (activities.FinishResult, error) {
					return activities.FinishResult{Location: in.Dest, Bytes: 5}, nil
				}, activity.RegisterOptions{Name: activities.DeliverObjectName})
				if err := hw.Start(); err != nil {
					return nil, err
				}
				run, err := c.ExecuteWorkflow(ctx, o, S3RestoreName, S3RestoreInput{Bucket: "b", Key: "k", VersionID: "v1",
					Destination: "file://h3/x", PollInterval: flowdata.Duration(time.Hour)})
				if err != nil {
					return nil, err
				}
				// Another version's completion is ignored, this one's ends the wait.
				for _, v := range []string{"v0", "v1"} {
					if err := c.SignalWorkflow(ctx, o.ID, "", S3RestoreSignal, flowdata.S3RestoreState{Bucket: "b", Key: "k", VersionID: v, Restored: true}); err != nil {
						return nil, err
					}
				}
				return run, nil
			}},
		replayCase{file: "routerqueues.json", name: RouterQueuesName, workflow: RouterQueuesWorkflow,
			register: func(worker.Worker) {},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				run, err := c.SignalWithStartWorkflow(ctx, o.ID, AddQueueSignal, "https://sqs/q1", o, RouterQueuesName, []string{})
				if err != nil {
					return nil, err
				}
				for _, q := range []string{"https://sqs/q2", "https://sqs/q1"} {
					if err := c.SignalWorkflow(ctx, o.ID, "", AddQueueSignal, q); err != nil {
						return nil, err
					}
				}
				// The workflow never ends: once it holds both queues, end it.
				for {
					var qs []string
					if v, err := c.QueryWorkflow(ctx, o.ID, "", QueuesQuery); err == nil && v.Get(&qs) == nil && len(qs) == 2 {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				return run, c.TerminateWorkflow(ctx, o.ID, "", "recorded")
			}},
	)
}

// glacierStubs are the stub activities of a recorded Glacier retrieval.
type glacierStubs struct {
	// size of the output (default 3 MiB).
	size int64
	// host the WorkerHost activity answers.
	host string
	// expireRange fails once with JobOutputExpired (0: none).
	expireRange int
	// lost ranges the first finish reports.
	lost []int
	// slow ranges take a second; downloading is closed at the first.
	slow        bool
	downloading chan struct{}
	// initiateErr fails InitiateJob.
	initiateErr error
	// replaceRange fails once with DestinationReplaced (0: none).
	replaceRange int
	// failRange fails once with a transient error (0: none): the retry
	// succeeds.
	failRange int
}

var stubOnce sync.Map

// registerGlacierStubs registers the shared queue's stubs.
func registerGlacierStubs(w worker.Registry, s glacierStubs) {
	if s.size == 0 {
		s.size = 3 << 20
	}
	reg := func(name string, f any) { w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
	jobs := 0
	reg(activities.InitiateJobName, func(context.Context, activities.InitiateJobInput) (flowdata.GlacierJobState, error) {
		jobs++
		if s.initiateErr != nil {
			return flowdata.GlacierJobState{}, s.initiateErr
		}
		return flowdata.GlacierJobState{JobID: []string{"j1", "j2", "j3"}[min(jobs, 3)-1], StatusCode: "InProgress"}, nil
	})
	reg(activities.DescribeJobName, func(_ context.Context, j flowdata.GlacierJob) (flowdata.GlacierJobState, error) {
		return flowdata.GlacierJobState{JobID: j.JobID, StatusCode: "Succeeded", Completed: true, OutputSize: s.size, TreeHash: "t"}, nil
	})
	reg(activities.WorkerHostName, func(context.Context) (string, error) { return s.host, nil })
	registerFileStubs(w, s)
}

// registerFileStubs registers the destination stubs (on a host's queue
// for a file, on the shared one for S3).
func registerFileStubs(w worker.Registry, s glacierStubs) {
	reg := func(name string, f any) { w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
	var mu sync.Mutex
	finishes := 0
	replaced, failed := false, false
	reg(activities.PrepareDestinationName, func(_ context.Context, in activities.PrepareInput) (activities.Prepared, error) {
		dest, err := location.Parse(in.Dest)
		return activities.Prepared{Dest: dest, Size: in.Size, UploadID: "u1"}, err
	})
	reg(activities.DownloadRangeName, func(_ context.Context, in activities.DownloadRangeInput) (activities.RangePart, error) {
		mu.Lock()
		expire := s.expireRange > 0 && in.Index == s.expireRange && in.Job.JobID == "j1"
		replace := s.replaceRange > 0 && in.Index == s.replaceRange && !replaced
		replaced = replaced || replace
		fail := s.failRange > 0 && in.Index == s.failRange && !failed
		failed = failed || fail
		mu.Unlock()
		if fail {
			return activities.RangePart{}, temporal.NewApplicationError("input/output error", "")
		}
		if replace {
			return activities.RangePart{}, temporal.NewNonRetryableApplicationError("partial file replaced", activities.ErrTypeDestinationReplaced, nil)
		}
		if expire {
			return activities.RangePart{}, temporal.NewNonRetryableApplicationError("expired", activities.ErrTypeJobExpired, nil)
		}
		if s.slow {
			if _, loaded := stubOnce.LoadOrStore(s.downloading, true); !loaded && s.downloading != nil {
				close(s.downloading)
			}
			time.Sleep(time.Second)
		}
		return activities.RangePart{Index: in.Index, Bytes: in.Range.Len(), TreeHash: "00", ETag: "e"}, nil
	})
	reg(activities.FinishDestinationName, func(_ context.Context, in activities.FinishInput) (activities.FinishResult, error) {
		mu.Lock()
		defer mu.Unlock()
		finishes++
		if finishes == 1 && s.lost != nil {
			return activities.FinishResult{}, temporal.NewApplicationErrorWithOptions("lost", activities.ErrTypeRangesLost,
				temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{slices.Clone(s.lost)}})
		}
		return activities.FinishResult{Location: in.Prepared.Dest.String(), Bytes: in.Prepared.Size, TreeHash: in.TreeHash}, nil
	})
	reg(activities.AbortDestinationName, func(_ context.Context, p activities.Prepared) (activities.AbortResult, error) {
		return activities.AbortResult{Removed: []string{"partial file " + p.PartialPath()}}, nil
	})
}

// startHostWorker serves a host's queue with the destination stubs.
func startHostWorker(c client.Client, taskQueue, host string, s glacierStubs) {
	hw := worker.New(c, HostTaskQueue(taskQueue, host), worker.Options{})
	registerFileStubs(hw, s)
	if err := hw.Start(); err != nil {
		panic(err)
	}
}

// signalUntilDone sends the job's completion until the run has it (the
// run ignores it while it waits for another job).
func signalUntilDone(ctx context.Context, c client.Client, id, job string) {
	signalSizeUntilDone(ctx, c, id, job, 3<<20)
}

// signalSizeUntilDone is signalUntilDone for an output of size bytes.
func signalSizeUntilDone(ctx context.Context, c client.Client, id, job string, size int64) {
	for i := 0; i < 100; i++ {
		d, err := c.DescribeWorkflowExecution(ctx, id, "")
		if err != nil || d.GetWorkflowExecutionInfo().GetCloseTime() != nil {
			return
		}
		v, err := c.QueryWorkflow(ctx, id, "", StatusQuery)
		var st Status
		if err == nil && v.Get(&st) == nil && st.Details["jobId"] == job && st.Phase == PhaseWaiting {
			_ = c.SignalWorkflow(ctx, id, "", GlacierJobSignal, flowdata.GlacierJobState{JobID: job, StatusCode: "Succeeded",
				Completed: true, OutputSize: size, TreeHash: "t"})
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
