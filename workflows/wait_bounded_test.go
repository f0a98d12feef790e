package workflows

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// thirtyDays is the wait of the bounded-history tests: the longest
// deadline a run accepts, polled at the floor interval.
const thirtyDays = flowdata.MaxWaitDeadline

// maxEventsPerRun is the history size no run of a wait may reach.
const maxEventsPerRun = 2000

// runEventBound estimates a run's history from its polls: every poll
// costs eventsPerPoll events (timer, activity, two workflow tasks), and
// the run's start, version markers, first activities and end fewer than
// 60 more. TestWaitHistoryMeasured checks the estimate against a real
// server's histories.
func runEventBound(polls int) int { return eventsPerPoll*polls + 60 }

// waitCounts counts activity calls across the runs of one wait.
type waitCounts struct {
	// polls of the current run, and the most any run made.
	runPolls, maxRunPolls  int
	polls, starts, reports int
	runs                   int
}

// runContinued runs a workflow in the test environment, run after run
// while it continues as new (the environment ends a run with
// ContinueAsNewError; the next one starts from its input at the time the
// last one ended), and returns the last run's result or error.
func runContinued[I any](t *testing.T, wf any, in I, c *waitCounts, register func(env *testsuite.TestWorkflowEnvironment), result any) error {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for {
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		env.SetStartTime(now)
		env.SetWorkflowRunTimeout(2 * thirtyDays)
		// Tolerant of a loaded machine, as the package's other env tests.
		env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
		register(env)
		c.runs++
		c.runPolls = 0
		env.ExecuteWorkflow(wf, in)
		c.maxRunPolls = max(c.maxRunPolls, c.runPolls)
		if c.runPolls > WaitPollsPerRun+1 || runEventBound(c.runPolls) >= maxEventsPerRun {
			return errors.New("a run polled too often: its history is not bounded")
		}
		if !env.IsWorkflowCompleted() {
			t.Fatal("run did not complete")
		}
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if !errors.As(err, &can) {
			if err == nil {
				err = env.GetWorkflowResult(result)
			}
			return err
		}
		var next I
		if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
			t.Fatal(err)
		}
		in, now = next, env.Now()
	}
}

// reg registers f as the activity name in env.
func reg(env *testsuite.TestWorkflowEnvironment, name string, f any) {
	env.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name})
}

func TestGlacierWaitThirtyDaysBounded(t *testing.T) {
	var c waitCounts
	var done time.Time
	in := GlacierRetrieveInput{Vault: "v", ArchiveID: "a", Destination: "s3://out/x", PollInterval: flowdata.Duration(flowdata.MinPollInterval),
		Deadline: flowdata.Duration(thirtyDays), AlertWebhookEnv: "VIGIL_SLACK_WEBHOOK_URL"}
	var res GlacierRetrieveResult
	err := runContinued(t, GlacierRetrieveWorkflow, in, &c, func(env *testsuite.TestWorkflowEnvironment) {
		if done.IsZero() {
			done = env.Now().Add(thirtyDays - time.Hour)
		}
		reg(env, activities.InitiateJobName, func(context.Context, activities.InitiateJobInput) (flowdata.GlacierJobState, error) {
			c.starts++
			return flowdata.GlacierJobState{JobID: "j1", StatusCode: "InProgress"}, nil
		})
		reg(env, activities.DescribeJobName, func(ctx context.Context, j flowdata.GlacierJob) (flowdata.GlacierJobState, error) {
			c.polls++
			c.runPolls++
			if j.JobID != "j1" {
				t.Errorf("polled job %q, want j1", j.JobID)
			}
			now := env.Now()
			if now.Before(done) {
				return flowdata.GlacierJobState{JobID: "j1", StatusCode: "InProgress"}, nil
			}
			// Completed 21 h ago: 3 h of validity left, so one alert.
			return flowdata.GlacierJobState{JobID: "j1", StatusCode: "Succeeded", Completed: true, OutputSize: mib,
				CompletionDate: now.Add(-21 * time.Hour).Format(time.RFC3339), TreeHash: "t"}, nil
		})
		reg(env, activities.PrepareDestinationName, func(_ context.Context, in activities.PrepareInput) (activities.Prepared, error) {
			return activities.Prepared{Size: in.Size}, nil
		})
		reg(env, activities.DownloadRangeName, func(_ context.Context, in activities.DownloadRangeInput) (activities.RangePart, error) {
			return activities.RangePart{Index: in.Index, Bytes: in.Range.Len(), TreeHash: "t"}, nil
		})
		reg(env, activities.FinishDestinationName, func(context.Context, activities.FinishInput) (activities.FinishResult, error) {
			return activities.FinishResult{Location: "s3://out/x", Bytes: mib, TreeHash: "t"}, nil
		})
		reg(env, activities.SlackNotifyName, func(context.Context, activities.SlackMessage) error { c.reports++; return nil })
	}, &res)
	if err != nil {
		t.Fatal(err)
	}
	checkBoundedWait(t, c, res.Waited.D())
	if res.JobID != "j1" || res.Initiations != 1 || res.Location != "s3://out/x" {
		t.Errorf("result %+v: want job j1 initiated once and delivered", res)
	}
}

func TestS3RestoreWaitThirtyDaysBounded(t *testing.T) {
	var c waitCounts
	var done time.Time
	in := S3RestoreInput{Bucket: "b", Key: "k", PollInterval: flowdata.Duration(flowdata.MinPollInterval), Deadline: flowdata.Duration(thirtyDays)}
	var res S3RestoreResult
	err := runContinued(t, S3RestoreWorkflow, in, &c, func(env *testsuite.TestWorkflowEnvironment) {
		if done.IsZero() {
			done = env.Now().Add(thirtyDays - time.Hour)
		}
		reg(env, activities.RestoreObjectName, func(context.Context, activities.RestoreInput) (flowdata.S3RestoreState, error) {
			c.starts++
			return flowdata.S3RestoreState{Bucket: "b", Key: "k", Ongoing: true, Size: 5}, nil
		})
		reg(env, activities.HeadRestoreName, func(ctx context.Context, _ activities.HeadRestoreInput) (flowdata.S3RestoreState, error) {
			c.polls++
			c.runPolls++
			now := env.Now()
			if now.Before(done) {
				return flowdata.S3RestoreState{Bucket: "b", Key: "k", Ongoing: true, Size: 5}, nil
			}
			c.reports++ // the restore is seen complete once
			return flowdata.S3RestoreState{Bucket: "b", Key: "k", Restored: true, Size: 5, Expiry: now.Add(7 * 24 * time.Hour)}, nil
		})
	}, &res)
	if err != nil {
		t.Fatal(err)
	}
	checkBoundedWait(t, c, res.Waited.D())
	if res.Expiry.IsZero() {
		t.Errorf("result %+v: want the restored copy's expiry", res)
	}
}

func TestDatastoreExportWaitThirtyDaysBounded(t *testing.T) {
	var c waitCounts
	var done time.Time
	in := flowdata.DatastoreExportInput{Project: "demo-project", Bucket: "b", Deadline: flowdata.Duration(thirtyDays),
		Poll: flowdata.DatastorePollPolicy{Initial: flowdata.Duration(flowdata.MinDatastorePollInitial), Max: flowdata.Duration(flowdata.MinPollInterval)}}
	if err := in.Validate(); err != nil {
		t.Fatalf("the test's input is out of bounds: %v", err)
	}
	var runIDs []string
	var res flowdata.DatastoreResult
	err := runContinued(t, DatastoreExportWorkflow, in, &c, func(env *testsuite.TestWorkflowEnvironment) {
		if done.IsZero() {
			done = env.Now().Add(thirtyDays - time.Hour)
		}
		op := func(state string, done bool) flowdata.DatastoreOp {
			return flowdata.DatastoreOp{Name: "projects/demo-project/operations/o", State: state, Done: done, EntitiesDone: 5, EntitiesEstimated: 10}
		}
		reg(env, activities.StartDatastoreExportName, func(_ context.Context, in activities.DatastoreStartInput) (flowdata.DatastoreOp, error) {
			c.starts++
			runIDs = append(runIDs, in.RunID)
			return op(flowdata.DatastoreProcessing, false), nil
		})
		reg(env, activities.GetDatastoreOperationName, func(ctx context.Context, _ string) (flowdata.DatastoreOp, error) {
			c.polls++
			c.runPolls++
			if env.Now().Before(done) {
				return op(flowdata.DatastoreProcessing, false), nil
			}
			return op(flowdata.DatastoreSuccessful, true), nil
		})
		reg(env, activities.CancelDatastoreOperationName, func(context.Context, activities.DatastoreCancelInput) error {
			t.Error("operation cancelled")
			return nil
		})
		reg(env, activities.ReportDatastoreName, func(_ context.Context, in activities.DatastoreReportInput) error {
			c.reports++
			runIDs = append(runIDs, in.RunID)
			return nil
		})
	}, &res)
	if err != nil {
		t.Fatal(err)
	}
	checkBoundedWait(t, c, res.Elapsed.D())
	if res.Outcome != flowdata.OutcomeSucceeded || !res.Reported || res.Polls != c.polls {
		t.Errorf("result %+v: want succeeded, reported, %d polls", res, c.polls)
	}
	if len(runIDs) != 2 || runIDs[0] != runIDs[1] {
		t.Errorf("run IDs of start and report %q: want the first run's, twice", runIDs)
	}
}

// checkBoundedWait checks a 30-day wait's counts: it continued as new,
// no run came near maxEventsPerRun (runContinued checks each), the job
// was started and reported exactly once, and the wait lasted the 30 days.
func checkBoundedWait(t *testing.T, c waitCounts, waited time.Duration) {
	t.Helper()
	t.Logf("%d runs, %d polls, at most %d polls (about %d events) in a run", c.runs, c.polls, c.maxRunPolls, runEventBound(c.maxRunPolls))
	if c.runs < 2 {
		t.Errorf("%d run(s): want the wait to continue as new", c.runs)
	}
	if c.starts != 1 || c.reports != 1 {
		t.Errorf("started %d and reported %d time(s): want exactly once each across %d runs", c.starts, c.reports, c.runs)
	}
	if waited < thirtyDays-2*time.Hour || waited > thirtyDays {
		t.Errorf("waited %s: want about 30 days counted from the first run", waited)
	}
}

// TestWaitDrainsSignalBeforeContinuing: a completion notification that
// arrives while the run's last poll before continuing as new is in flight
// is handled, not lost across the boundary (the job's polls never say it
// is done, so a lost notification ends at the deadline).
func TestWaitDrainsSignalBeforeContinuing(t *testing.T) {
	var c waitCounts
	in := GlacierRetrieveInput{Vault: "v", ArchiveID: "a", Destination: "s3://out/x", PollInterval: flowdata.Duration(flowdata.MinPollInterval),
		Deadline: flowdata.Duration(3 * time.Hour)}
	var res GlacierRetrieveResult
	err := runContinued(t, GlacierRetrieveWorkflow, in, &c, func(env *testsuite.TestWorkflowEnvironment) {
		reg(env, activities.InitiateJobName, func(context.Context, activities.InitiateJobInput) (flowdata.GlacierJobState, error) {
			c.starts++
			return flowdata.GlacierJobState{JobID: "j1", StatusCode: "InProgress"}, nil
		})
		reg(env, activities.DescribeJobName, func(ctx context.Context, _ flowdata.GlacierJob) (flowdata.GlacierJobState, error) {
			c.polls++
			c.runPolls++
			if c.polls == WaitPollsPerRun {
				env.SignalWorkflow(GlacierJobSignal, flowdata.GlacierJobState{JobID: "j1", StatusCode: "Succeeded", Completed: true, OutputSize: mib, TreeHash: "t"})
			}
			return flowdata.GlacierJobState{JobID: "j1", StatusCode: "InProgress"}, nil
		})
		reg(env, activities.PrepareDestinationName, func(_ context.Context, in activities.PrepareInput) (activities.Prepared, error) {
			return activities.Prepared{Size: in.Size}, nil
		})
		reg(env, activities.DownloadRangeName, func(_ context.Context, in activities.DownloadRangeInput) (activities.RangePart, error) {
			return activities.RangePart{Index: in.Index, Bytes: in.Range.Len(), TreeHash: "t"}, nil
		})
		reg(env, activities.FinishDestinationName, func(context.Context, activities.FinishInput) (activities.FinishResult, error) {
			return activities.FinishResult{Location: "s3://out/x", Bytes: mib, TreeHash: "t"}, nil
		})
	}, &res)
	if err != nil {
		t.Fatalf("the notification was lost: %v", err)
	}
	if c.runs != 1 || c.polls != WaitPollsPerRun || res.Location != "s3://out/x" {
		t.Errorf("%d run(s), %d polls, result %+v: want the notification to end the wait in the first run", c.runs, c.polls, res)
	}
}

// TestWaitHistoryMeasured reads the recorded first runs of each waiting
// flow (a real server's histories): each continued as new after
// WaitPollsPerRun polls, within runEventBound's estimate and far below
// maxEventsPerRun.
func TestWaitHistoryMeasured(t *testing.T) {
	for file, pollActivity := range map[string]string{
		"glacier-v3-wait-continue.json":       activities.DescribeJobName,
		"s3restore-v2-wait-continue.json":     activities.HeadRestoreName,
		"datastore-export-wait-continue.json": activities.GetDatastoreOperationName,
	} {
		t.Run(file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(replayDir, file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			events := hist.GetEvents()
			polls := 0
			for _, e := range events {
				if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == pollActivity {
					polls++
				}
			}
			last := events[len(events)-1].GetEventType()
			t.Logf("%d events, %d polls, ends with %s", len(events), polls, last)
			if last != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW || polls != WaitPollsPerRun {
				t.Errorf("ends with %s after %d polls: want continued as new after %d", last, polls, WaitPollsPerRun)
			}
			if len(events) > runEventBound(polls) || len(events) >= maxEventsPerRun {
				t.Errorf("%d events: want at most %d (runEventBound) and below %d", len(events), runEventBound(polls), maxEventsPerRun)
			}
		})
	}
}
