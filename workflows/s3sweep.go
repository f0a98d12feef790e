package workflows

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// DefaultSweepOlderThan is how old an object must be before a sweep starts
// its run: events normally start it well before.
const DefaultSweepOlderThan = 5 * time.Minute

// Sweep bounds: pages per activity and activities per run before the
// sweep continues as new (a run then covers 500 pages = 500k objects and
// its history stays around a hundred events).
const (
	defaultSweepPagesPerActivity = 20
	defaultSweepActivitiesPerRun = 25
)

// MissedEventsMemo is the memo key holding a sweep's missed events.
const MissedEventsMemo = "missedEvents"

// S3SweepInput describes a sweep; the fields after Pipeline carry a sweep
// across continue-as-new and tune it in tests.
type S3SweepInput struct {
	Bucket string `json:"bucket"`
	// Prefix is the incoming prefix; only it is listed.
	Prefix string `json:"prefix"`
	// OlderThan: younger objects are left to their events; nil means 5m
	// (0 sweeps every object).
	OlderThan *flowdata.Duration `json:"olderThan,omitempty"`
	Pipeline  flowdata.Pipeline  `json:"pipeline"`

	// Cutoff is fixed by the first run: objects modified before it are stale.
	Cutoff time.Time `json:"cutoff,omitzero"`
	// Token resumes the listing in a continued run.
	Token string `json:"token,omitempty"`
	// Counts so far (earlier runs of the sweep).
	Counts flowdata.S3SweepCounts `json:"counts,omitzero"`
	// StartedKeys are a few objects the sweep started.
	StartedKeys []string `json:"startedKeys,omitempty"`
	// PageSize, PagesPerActivity and ActivitiesPerRun override the bounds
	// (0: 1000, 20, 25).
	PageSize         int32 `json:"pageSize,omitempty"`
	PagesPerActivity int   `json:"pagesPerActivity,omitempty"`
	ActivitiesPerRun int   `json:"activitiesPerRun,omitempty"`
	// RunTaskQueue is the task queue of the S3Object runs the sweep
	// starts; empty is the sweep's own (a dedicated processing fleet, or
	// a benchmark measuring the sweep alone, sets it).
	RunTaskQueue string `json:"runTaskQueue,omitempty"`
}

// S3SweepResult is what the sweep found.
type S3SweepResult struct {
	flowdata.S3SweepCounts
	// MissedEvents are objects the sweep had to start because no event
	// ever did (Counts.Started).
	MissedEvents int64 `json:"missedEvents"`
	// StartedKeys names a few of them.
	StartedKeys []string `json:"startedKeys,omitempty"`
}

// S3SweepWorkflow lists the incoming prefix (not the archive), starts or
// finds the S3Object run of every object older than the threshold, and
// reports the counts; missed events go to the result, the status query, the
// memo, a log line and Slack when non-zero.
func S3SweepWorkflow(ctx workflow.Context, in S3SweepInput) (S3SweepResult, error) {
	st := NewTracker(ctx, S3SweepFlow, in.Bucket+"/"+in.Prefix)
	if in.Cutoff.IsZero() {
		older := DefaultSweepOlderThan
		if in.OlderThan != nil {
			older = in.OlderThan.D()
		}
		in.Cutoff = workflow.Now(ctx).Add(-older)
	}
	pages := orDefaultInt(in.PagesPerActivity, defaultSweepPagesPerActivity)
	runs := orDefaultInt(in.ActivitiesPerRun, defaultSweepActivitiesPerRun)
	var exclude []string
	for _, p := range in.Pipeline.ExcludedPrefixes(in.Bucket) {
		if strings.HasPrefix(p, in.Prefix) {
			exclude = append(exclude, p)
		}
	}
	opts := workflow.ActivityOptions{StartToCloseTimeout: time.Hour, HeartbeatTimeout: time.Minute, RetryPolicy: TransferOptions().RetryPolicy}
	actx := workflow.WithActivityOptions(ctx, opts)
	st.SetPhase(PhaseRunning)
	publish := func() {
		st.Update(func(s *Status) { s.Details = sweepDetails(in.Counts) })
	}
	publish()
	runQueue := in.RunTaskQueue
	if runQueue == "" {
		runQueue = workflow.GetInfo(ctx).TaskQueueName
	}
	for i := 0; i < runs; i++ {
		var prog activities.SweepProgress
		if err := workflow.ExecuteActivity(Summarized(actx, fmt.Sprintf("list s3://%s/%s pages %d-%d", in.Bucket, in.Prefix, in.Counts.Pages+1, in.Counts.Pages+int64(pages))), activities.SweepPagesName, activities.SweepInput{
			Bucket: in.Bucket, Prefix: in.Prefix, Exclude: exclude, Cutoff: in.Cutoff, Pipeline: in.Pipeline,
			Token: in.Token, MaxPages: pages, PageSize: in.PageSize,
			WorkflowType: S3ObjectName, TaskQueue: runQueue,
		}).Get(ctx, &prog); err != nil {
			st.Fail(err)
			return S3SweepResult{S3SweepCounts: in.Counts, MissedEvents: in.Counts.Started}, err
		}
		in.Counts.Add(prog.Counts)
		for _, k := range prog.StartedKeys {
			if len(in.StartedKeys) < 10 {
				in.StartedKeys = append(in.StartedKeys, k)
			}
		}
		in.Token = prog.Token
		publish()
		if prog.Done {
			return finishSweep(ctx, st, in)
		}
	}
	return S3SweepResult{}, workflow.NewContinueAsNewError(ctx, S3SweepName, in)
}

// finishSweep publishes the counts and the missed events.
func finishSweep(ctx workflow.Context, st *Tracker, in S3SweepInput) (S3SweepResult, error) {
	c := in.Counts
	res := S3SweepResult{S3SweepCounts: c, MissedEvents: c.Started, StartedKeys: in.StartedKeys}
	if err := workflow.UpsertMemo(ctx, map[string]any{MissedEventsMemo: c.Started}); err != nil {
		workflow.GetLogger(ctx).Warn("cannot set the missed-events memo", "error", err)
	}
	workflow.GetLogger(ctx).Info("S3 sweep done", "bucket", in.Bucket, "prefix", in.Prefix, "missedEvents", c.Started,
		"found", c.Found, "alreadyRunning", c.AlreadyRunning, "alreadyDone", c.AlreadyDone, "listed", c.Listed)
	st.Update(func(s *Status) { s.Message = fmt.Sprintf("%d missed event(s)", c.Started) })
	if c.Started > 0 {
		notify(ctx, activities.SlackMessage{
			Text:  fmt.Sprintf("vigil: sweep of s3://%s/%s found %d object(s) no S3 event had announced", in.Bucket, in.Prefix, c.Started),
			Color: activities.SlackWarning,
			Title: fmt.Sprintf("S3 missed %d event(s) on s3://%s/%s", c.Started, in.Bucket, in.Prefix),
			Fields: []activities.SlackField{
				{Title: "Missed events", Value: strconv.FormatInt(c.Started, 10), Short: true},
				{Title: "Stale objects", Value: strconv.FormatInt(c.Found, 10), Short: true},
				{Title: "Examples", Value: strings.Join(in.StartedKeys, "\n")},
			},
			WebhookEnv: in.Pipeline.NotifyOnFailure,
			Footer:     "starter status " + workflow.GetInfo(ctx).WorkflowExecution.ID,
		})
	}
	st.SetPhase(PhaseDone)
	return res, nil
}

func sweepDetails(c flowdata.S3SweepCounts) map[string]string {
	f := func(n int64) string { return strconv.FormatInt(n, 10) }
	return map[string]string{"listed": f(c.Listed), "found": f(c.Found), "started": f(c.Started), "missedEvents": f(c.Started),
		"alreadyRunning": f(c.AlreadyRunning), "alreadyDone": f(c.AlreadyDone), "pages": f(c.Pages)}
}

func orDefaultInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
