package workflows

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// record records the histories of new replay cases: go test ./workflows -run TestReplay -record.
// Existing files are never re-recorded: they are what older releases wrote,
// and a new binary must keep replaying them. A behaviour change gets a new
// case (and a workflow.GetVersion branch), never a fresh copy of an old file.
var record = flag.Bool("record", false, "record the replay histories missing from testdata/replay against an embedded server")

// replayCase is one recorded run: how to produce it (stub activities and
// the start call) and which workflow must replay it.
type replayCase struct {
	file string
	// name is the registered workflow type (a *Name constant); the history
	// names it, so replaying proves the constant still matches.
	name     string
	workflow any
	// register stubs the run's activities for recording.
	register func(w worker.Worker)
	// start begins the run (recording only).
	start func(ctx context.Context, c client.Client, opts client.StartWorkflowOptions) (client.WorkflowRun, error)
}

var replayCases = []replayCase{
	{
		file:     "selfcheck.json",
		name:     SelfCheckName,
		workflow: SelfCheckWorkflow,
		register: func(w worker.Worker) {
			w.RegisterActivityWithOptions(func(context.Context, activities.ProbeInput) (activities.ProbeResult, error) {
				return activities.ProbeResult{Buckets: 3, Queues: 1}, nil
			}, activity.RegisterOptions{Name: "Probe"})
		},
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, o, SelfCheckName)
		},
	},
	{
		file:     "batch-retry.json",
		name:     BatchJobName,
		workflow: BatchJobWorkflow,
		register: func(w worker.Worker) {
			calls := 0
			w.RegisterActivityWithOptions(func(context.Context, activities.HTTPCallInput) (activities.JobOutput, error) {
				calls++
				if calls == 1 {
					return activities.JobOutput{}, temporal.NewApplicationError("HTTP 503", activities.ErrTypeUnexpectedStatus)
				}
				return activities.JobOutput{StatusCode: 200, Summary: "HTTP 200"}, nil
			}, activity.RegisterOptions{Name: "Call"})
		},
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, o, BatchJobName, BatchJobInput{Job: flowdata.BatchJob{Name: "r", Kind: flowdata.JobKindHTTP,
				HTTP:  &flowdata.HTTPJob{URL: "http://127.0.0.1:1/x"},
				Retry: &flowdata.JobRetry{InitialInterval: flowdata.Duration(100 * time.Millisecond), MaximumAttempts: 3}}})
		},
	},
	{
		file:     "schedwatch.json",
		name:     ScheduleWatchName,
		workflow: ScheduleWatchWorkflow,
		register: func(w worker.Worker) {
			calls := 0
			w.RegisterActivityWithOptions(func(context.Context, activities.ScheduleCheckInput) (activities.ScheduleCheck, error) {
				calls++
				return activities.ScheduleCheck{Exists: calls < 3, SkippedOverlap: calls}, nil
			}, activity.RegisterOptions{Name: "CheckSchedule"})
			w.RegisterActivityWithOptions(func(context.Context, activities.SlackMessage) error { return nil },
				activity.RegisterOptions{Name: "Notify"})
		},
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, o, ScheduleWatchName, ScheduleWatchInput{ScheduleID: "s", Interval: 100 * time.Millisecond})
		},
	},
	{
		file:     "glacier.json",
		name:     GlacierRetrieveName,
		workflow: GlacierRetrieveWorkflow,
		register: func(w worker.Worker) {
			polls := 0
			reg := func(name string, f any) { w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
			reg("InitiateJob", func(context.Context, activities.InitiateJobInput) (flowdata.GlacierJobState, error) {
				return flowdata.GlacierJobState{JobID: "j1", StatusCode: "InProgress"}, nil
			})
			reg("DescribeJob", func(context.Context, flowdata.GlacierJob) (flowdata.GlacierJobState, error) {
				polls++
				return flowdata.GlacierJobState{JobID: "j1", StatusCode: "Succeeded", Completed: polls > 1, OutputSize: 3 << 20, TreeHash: "t"}, nil
			})
			reg("PrepareDestination", func(_ context.Context, in activities.PrepareInput) (activities.Prepared, error) {
				return activities.Prepared{Size: in.Size}, nil
			})
			reg("DownloadRange", func(_ context.Context, in activities.DownloadRangeInput) (activities.RangePart, error) {
				return activities.RangePart{Index: in.Index, Bytes: in.Range.Len(), TreeHash: "t"}, nil
			})
			reg("FinishDestination", func(context.Context, activities.FinishInput) (activities.FinishResult, error) {
				return activities.FinishResult{Location: "file:///x", Bytes: 3 << 20, TreeHash: "t"}, nil
			})
		},
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: "a", Destination: "file:///x",
				PollInterval: flowdata.Duration(100 * time.Millisecond), ChunkSize: 1 << 20, Parallel: 2})
		},
	},
	{
		file:     "s3restore.json",
		name:     S3RestoreName,
		workflow: S3RestoreWorkflow,
		register: func(w worker.Worker) {
			reg := func(name string, f any) { w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
			reg("RestoreObject", func(context.Context, activities.RestoreInput) (flowdata.S3RestoreState, error) {
				return flowdata.S3RestoreState{Ongoing: true, Size: 5}, nil
			})
			reg("HeadRestore", func(context.Context, activities.HeadRestoreInput) (flowdata.S3RestoreState, error) {
				return flowdata.S3RestoreState{Restored: true, Size: 5}, nil
			})
			reg("DeliverObject", func(_ context.Context, in activities.DeliverObjectInput) (activities.FinishResult, error) {
				return activities.FinishResult{Location: in.Dest, Bytes: 5}, nil
			})
		},
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, o, S3RestoreName, S3RestoreInput{Bucket: "b", Key: "k", Destination: "s3://c/k",
				PollInterval: flowdata.Duration(100 * time.Millisecond)})
		},
	},
}

// TestReplay replays every recorded history against today's workflow code,
// so a change that would break running workflows fails here.
func TestReplay(t *testing.T) {
	if *record {
		recordHistories(t)
	}
	for _, tc := range replayCases {
		t.Run(tc.file, func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{Interceptors: replayInterceptors()})
			if err != nil {
				t.Fatal(err)
			}
			r.RegisterWorkflowWithOptions(tc.workflow, workflow.RegisterOptions{Name: tc.name})
			f, err := os.Open(filepath.Join("testdata", "replay", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// The recorded workflow ID: child workflow IDs derive from it.
			opts := worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: "replay-" + tc.file}}
			if err := r.ReplayWorkflowHistoryWithOptions(nil, hist, opts); err != nil {
				t.Fatalf("replay %s: %v", tc.file, err)
			}
		})
	}
}

// replayInterceptors are the worker interceptors of production workers
// (internal/workerapp's workerInterceptors) that shape a run's history:
// FailureAlerts adds its alert (and GetVersion marker) to a failed run,
// ClassifyInterceptor sends the failing-attempt signals the Tracker alerts
// on. The flow-log interceptor only decorates loggers, so it is left out.
// Histories recorded before FailureAlerts existed replay with it too: it
// acts only on failed runs, behind a GetVersion they do not hold.
func replayInterceptors() []interceptor.WorkerInterceptor {
	return []interceptor.WorkerInterceptor{&activities.ClassifyInterceptor{}, &FailureAlerts{}}
}

func recordHistories(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	registerSearchAttributes(t, ts)
	c := ts.GetDefaultClient()
	ctx := context.Background()
	for _, tc := range replayCases {
		path := filepath.Join("testdata", "replay", tc.file)
		if _, err := os.Stat(path); err == nil {
			continue // recorded by an earlier release: kept as it is
		}
		w := ts.NewWorkerWithOptions("replay", func(r worker.Registry) {
			r.RegisterWorkflowWithOptions(tc.workflow, workflow.RegisterOptions{Name: tc.name})
		}, worker.Options{Interceptors: replayInterceptors()})
		tc.register(w)
		run, err := tc.start(ctx, c, client.StartWorkflowOptions{ID: "replay-" + tc.file, TaskQueue: "replay"})
		if err != nil {
			t.Fatal(err)
		}
		_ = run.Get(ctx, nil) // failures are recorded as they are
		w.Stop()
		hist, err := fullHistory(ctx, c, getHistoryRequest(ts.GetDefaultNamespace(), run))
		if err != nil {
			t.Fatal(err)
		}
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist.History)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := appendManifest(tc.file); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s (%d events), its digest added to %s", tc.file, len(hist.History.Events), replayManifest)
	}
}
