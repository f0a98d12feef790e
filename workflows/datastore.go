package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// DefaultDatastoreDeadline is the deadline of a run that sets none: the
// replaced script checked 60 times, a minute apart.
const DefaultDatastoreDeadline = time.Hour

// Error types of failed Datastore runs (their details are the
// flowdata.DatastoreResult).
const (
	ErrTypeDatastoreFailed    = "DatastoreOperationFailed"
	ErrTypeDatastoreCancelled = "DatastoreOperationCancelled"
	ErrTypeDeadlineExceeded   = "DeadlineExceeded"
)

// DatastoreExportWorkflow starts a managed Datastore export exactly once,
// follows its operation on adaptive timers until it is done or the
// deadline passes, and posts one Slack report of the outcome.
func DatastoreExportWorkflow(ctx workflow.Context, in flowdata.DatastoreExportInput) (flowdata.DatastoreResult, error) {
	r := newDatastoreRun(ctx, DatastoreExportFlow, "export", in.Project, in.Poll, in.Deadline, in.Report, in.Resume)
	r.cont = func(res *flowdata.DatastoreResume) error {
		in.Resume = res
		return workflow.NewContinueAsNewError(ctx, DatastoreExportName, in)
	}
	if err := in.ValidateShape(); err != nil {
		return r.finish(ctx, activities.BadInput("datastore export: %v", err))
	}
	prefix := in.OutputURLPrefix
	if prefix == "" {
		prefix = "gs://" + in.Bucket + "/datastore/" + r.start.UTC().Format("2006-01-02T15-04-05Z")
	}
	r.st.Update(func(s *Status) { s.Details["output"] = prefix })
	return r.run(ctx, activities.StartDatastoreExportName, activities.DatastoreStartInput{
		Project: in.Project, RunID: r.runID, OutputURLPrefix: prefix, Kinds: in.Kinds, Namespaces: in.Namespaces, Labels: in.Labels})
}

// DatastoreImportWorkflow imports an export (its overall_export_metadata
// URL) exactly once, followed and reported as an export is.
func DatastoreImportWorkflow(ctx workflow.Context, in flowdata.DatastoreImportInput) (flowdata.DatastoreResult, error) {
	r := newDatastoreRun(ctx, DatastoreImportFlow, "import", in.Project, in.Poll, in.Deadline, in.Report, in.Resume)
	r.cont = func(res *flowdata.DatastoreResume) error {
		in.Resume = res
		return workflow.NewContinueAsNewError(ctx, DatastoreImportName, in)
	}
	if err := in.ValidateShape(); err != nil {
		return r.finish(ctx, activities.BadInput("datastore import: %v", err))
	}
	r.st.Update(func(s *Status) { s.Details["input"] = in.InputURL })
	return r.run(ctx, activities.StartDatastoreImportName, activities.DatastoreStartInput{
		Project: in.Project, RunID: r.runID, InputURL: in.InputURL, Kinds: in.Kinds, Namespaces: in.Namespaces, Labels: in.Labels})
}

// datastoreRun is the state of one export or import run.
type datastoreRun struct {
	st       *Tracker
	action   string
	project  string
	runID    string
	start    time.Time
	poll     flowdata.DatastorePollPolicy
	deadline time.Duration
	report   flowdata.DatastoreReport
	op       flowdata.DatastoreOp
	polls    int
	// resume is the state of the run this one continues (nil in the
	// first run); cont continues this run as new with a state.
	resume *flowdata.DatastoreResume
	cont   func(*flowdata.DatastoreResume) error
}

func newDatastoreRun(ctx workflow.Context, flow, action, project string, poll flowdata.DatastorePollPolicy,
	deadline flowdata.Duration, report flowdata.DatastoreReport, resume *flowdata.DatastoreResume) *datastoreRun {
	st := NewTracker(ctx, flow, project)
	st.Update(func(s *Status) { s.Details = map[string]string{} })
	if deadline <= 0 {
		deadline = flowdata.Duration(DefaultDatastoreDeadline)
	}
	r := &datastoreRun{st: st, action: action, project: project, runID: workflow.GetInfo(ctx).WorkflowExecution.RunID,
		start: workflow.Now(ctx), poll: poll, deadline: deadline.D(), report: report, resume: resume}
	if resume != nil {
		// The first run's ID labels the operation; times count from its start.
		r.runID, r.start, r.op, r.polls = resume.RunID, resume.Started, resume.Op, resume.Polls
		restoreStatus(st, resume.WaitResume)
	}
	return r
}

// errDeadline marks the wait's expiry.
var errDeadline = errors.New("deadline passed")

// run starts the operation, follows it and reports the outcome.
func (r *datastoreRun) run(ctx workflow.Context, startActivity string, in activities.DatastoreStartInput) (flowdata.DatastoreResult, error) {
	var carry waitCarry
	if r.resume != nil {
		// Continued as new in the wait: the operation is started.
		carry = resumeFrom(ctx, r.resume.WaitResume)
	} else {
		r.st.SetPhase(PhaseInitiating)
		// ExportEntities has a 60 s client timeout: leave it room.
		opts := ShortCallOptions()
		opts.StartToCloseTimeout = 2 * time.Minute
		opts.Summary = datastoreStartSummary(r.action, in)
		if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), startActivity, in).Get(ctx, &r.op); err != nil {
			return r.finish(ctx, err)
		}
		r.observe(ctx, r.op)
		carry = resumeFrom(ctx, flowdata.WaitResume{})
	}
	wait := &completionWait{
		st: r.st, what: "Datastore " + r.action + " operation", signals: workflow.GetSignalChannel(ctx, DatastoreOperationSignal),
		plan: pollPlan{first: carry.first(pollInitial(r.poll))}, bounded: carry.bounded,
		backoff: func(prev time.Duration) time.Duration {
			return nextPoll(r.poll, prev, workflow.Now(ctx).Sub(r.start), r.op.State)
		},
		deadline: r.start.Add(r.deadline),
		done:     func() bool { return r.op.Done },
		onSignal: func(c workflow.ReceiveChannel) {
			var op flowdata.DatastoreOp
			c.Receive(ctx, &op)
			if op.Name == r.op.Name {
				r.observe(ctx, op)
			}
		},
		poll:    func() error { return r.getOperation(ctx) },
		expired: func() error { return errDeadline },
	}
	err := wait.run(ctx)
	if errors.Is(err, errWaitContinue) {
		carry.polls, carry.next = r.polls, wait.next
		runs := 0
		if r.resume != nil {
			runs = r.resume.Runs
		}
		return flowdata.DatastoreResult{Operation: r.op, Polls: r.polls},
			r.cont(&flowdata.DatastoreResume{WaitResume: resumeState(r.st, r.start, runs, carry), RunID: r.runID, Op: r.op})
	}
	if errors.Is(err, errDeadline) {
		// One last look: the operation may have just finished, and the
		// report shows the latest progress.
		if perr := r.getOperation(ctx); perr == nil && r.op.Done {
			err = nil
		}
	}
	return r.finish(ctx, err)
}

// getOperation polls once with a GetOperation activity. Its retries (an
// unreachable API) stop at the run's deadline, or a minute from now when
// that has passed, so the deadline still bounds the run.
func (r *datastoreRun) getOperation(ctx workflow.Context) error {
	var op flowdata.DatastoreOp
	opts := SlowPollOptions()
	opts.ScheduleToCloseTimeout = max(r.start.Add(r.deadline).Sub(workflow.Now(ctx)), time.Minute)
	opts.RetryPolicy.MaximumAttempts = 0 // bounded by the deadline instead
	opts.Summary = "poll Datastore " + r.action + " operation"
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts),
		activities.GetDatastoreOperationName, r.op.Name).Get(ctx, &op); err != nil {
		return err
	}
	r.polls++
	r.observe(ctx, op)
	return nil
}

// observe records a snapshot in the run and its status.
func (r *datastoreRun) observe(ctx workflow.Context, op flowdata.DatastoreOp) {
	r.op = op
	now := workflow.Now(ctx)
	r.st.Update(func(s *Status) {
		s.LastPoll = fmt.Sprintf("%s at %s", op.State, now.UTC().Format(time.RFC3339))
		s.BytesDone, s.BytesTotal = op.BytesDone, op.BytesEstimated
		s.Details["operation"] = op.Name
		s.Details["state"] = op.State
		s.Details["entities"] = fmt.Sprintf("%d/%d", op.EntitiesDone, op.EntitiesEstimated)
		s.Details["bytes"] = fmt.Sprintf("%d/%d", op.BytesDone, op.BytesEstimated)
		s.Details["elapsed"] = now.Sub(r.start).Round(time.Second).String()
		s.Details["polls"] = fmt.Sprint(r.polls)
		if op.Adopted {
			s.Details["adopted"] = "true"
		}
	})
}

// finish classifies the outcome, posts the one report, and returns the
// result (with an error for every outcome but success).
func (r *datastoreRun) finish(ctx workflow.Context, err error) (flowdata.DatastoreResult, error) {
	cancelled := errors.Is(ctx.Err(), workflow.ErrCanceled)
	if cancelled {
		// The run is cancelled: cancel the operation too, on a context
		// that is not.
		ctx, _ = workflow.NewDisconnectedContext(ctx)
		r.cancelOperation(ctx)
	}
	res := flowdata.DatastoreResult{Operation: r.op, Elapsed: flowdata.Duration(workflow.Now(ctx).Sub(r.start)), Polls: r.polls}
	var out error
	msg := ""
	switch {
	case cancelled:
		res.Outcome, out = flowdata.OutcomeCancelled, temporal.NewCanceledError(res)
	case errors.Is(err, errDeadline):
		res.Outcome = flowdata.OutcomeDeadline
		msg = fmt.Sprintf("datastore %s %s not done after %s (state %s)", r.action, r.op.Name, r.deadline, r.op.State)
		out = temporal.NewNonRetryableApplicationError(msg, ErrTypeDeadlineExceeded, nil, res)
	case err != nil: // the start or a poll failed for good
		res.Outcome, msg = flowdata.OutcomeFailed, err.Error()
		out = temporal.NewNonRetryableApplicationError(fmt.Sprintf("datastore %s: %v", r.action, err), ErrTypeDatastoreFailed, err, res)
	case r.op.State == flowdata.DatastoreSuccessful:
		res.Outcome = flowdata.OutcomeSucceeded
	case r.op.State == flowdata.DatastoreCancelled:
		res.Outcome = flowdata.OutcomeCancelled
		msg = fmt.Sprintf("datastore %s %s was cancelled", r.action, r.op.Name)
		out = temporal.NewNonRetryableApplicationError(msg, ErrTypeDatastoreCancelled, nil, res)
	default: // FAILED, or done with an error in any state
		res.Outcome = flowdata.OutcomeFailed
		msg = fmt.Sprintf("datastore %s %s failed: %s %s", r.action, r.op.Name, r.op.ErrorCode, r.op.Error)
		out = temporal.NewNonRetryableApplicationError(msg, ErrTypeDatastoreFailed, nil, res)
	}
	r.st.Update(func(s *Status) {
		s.Details["outcome"] = res.Outcome
		if msg != "" {
			s.LastError = msg
		}
	})
	res.Reported = r.sendReport(ctx, res, msg)
	r.alertUnreported(ctx, res, msg)
	if out != nil {
		// The result rides in the error's details; the result value is
		// returned too for callers in the same process (tests).
		r.st.SetPhase(PhaseFailed)
		return res, out
	}
	r.st.SetPhase(PhaseDone)
	return res, nil
}

// cancelOperation cancels the run's operation (by name, or by the run's
// label when the start never reported one) and reads its final state.
func (r *datastoreRun) cancelOperation(ctx workflow.Context) {
	if err := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, ShortCallOptions()), "cancel Datastore "+r.action+" operation"), activities.CancelDatastoreOperationName,
		activities.DatastoreCancelInput{Name: r.op.Name, Project: r.project, RunID: r.runID}).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("cannot cancel the Datastore operation", "operation", r.op.Name, "error", err)
		return
	}
	if r.op.Name != "" {
		_ = r.getOperation(ctx)
	}
}

// sendReport posts the run's Slack report once. Slack outages are retried
// for a day; a report that cannot be posted is logged and never fails the
// run.
func (r *datastoreRun) sendReport(ctx workflow.Context, res flowdata.DatastoreResult, msg string) bool {
	if r.report.Disabled {
		return false
	}
	r.st.SetPhase(PhaseReporting)
	opts := ShortCallOptions()
	opts.ScheduleToCloseTimeout = 24 * time.Hour
	opts.RetryPolicy.MaximumAttempts = 0 // bounded by the day instead
	opts.RetryPolicy.MaximumInterval = 5 * time.Minute
	opts.Summary = "post Datastore " + r.action + " report to Slack"
	info := workflow.GetInfo(ctx)
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activities.ReportDatastoreName, activities.DatastoreReportInput{
		Action: r.action, Outcome: res.Outcome, Project: r.project, Op: r.op, Error: msg, Started: r.start,
		Elapsed: res.Elapsed, Deadline: flowdata.Duration(r.deadline), Report: r.report,
		WorkflowID: info.WorkflowExecution.ID, RunID: r.runID,
	}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("Datastore Slack report not posted", "error", err)
		r.st.Update(func(s *Status) { s.Details["report"] = "not posted: " + err.Error() })
		return false
	}
	r.st.Update(func(s *Status) { s.Details["report"] = "posted" })
	return true
}

// datastoreDisabledAlertChange is the workflow.GetVersion change ID of
// the failure alert a run whose report is disabled posts (version 1):
// such a run failed without a word before, as Datastore is not one of
// FailureAlerts' alertedFlows (its report is its alert).
const datastoreDisabledAlertChange = "vigil-datastore-disabled-alert"

// alertUnreported posts one danger alert for a failed or timed-out run
// whose report is disabled.
func (r *datastoreRun) alertUnreported(ctx workflow.Context, res flowdata.DatastoreResult, msg string) {
	if !r.report.Disabled || (res.Outcome != flowdata.OutcomeFailed && res.Outcome != flowdata.OutcomeDeadline) {
		return
	}
	if workflow.GetVersion(ctx, datastoreDisabledAlertChange, workflow.DefaultVersion, 1) < 1 {
		return
	}
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	notify(ctx, activities.SlackMessage{
		WebhookEnv: r.report.WebhookEnv,
		Text:       fmt.Sprintf("vigil: datastore %s %s ended %s", r.action, id, res.Outcome),
		Color:      activities.SlackDanger,
		Title:      fmt.Sprintf("Datastore %s of %s: %s", r.action, r.project, res.Outcome),
		Fields:     []activities.SlackField{{Title: "Error", Value: msg}},
		Footer:     "starter status " + id,
	})
}

// datastoreStartSummary names the start of an export or import.
func datastoreStartSummary(action string, in activities.DatastoreStartInput) string {
	what := "all kinds"
	if len(in.Kinds) > 0 {
		what = "kinds " + strings.Join(in.Kinds, ",")
	}
	if in.InputURL != "" {
		what += " from " + in.InputURL
	}
	return "start Datastore " + action + " of " + what + " in " + in.Project
}
