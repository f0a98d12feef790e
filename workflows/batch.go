package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// BatchFlow is the VigilFlow value of BatchJobWorkflow runs.
const BatchFlow = "batch"

// Defaults of a job's retry policy and timeout.
var (
	DefaultJobRetry = flowdata.JobRetry{
		InitialInterval:    flowdata.Duration(10 * time.Second),
		BackoffCoefficient: 2,
		MaximumInterval:    flowdata.Duration(10 * time.Minute),
		MaximumAttempts:    5,
	}
	DefaultJobTimeout = time.Hour
)

// Search attributes Temporal sets on runs started by a schedule.
var (
	scheduledStartKey = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")
	scheduledByKey    = temporal.NewSearchAttributeKeyKeyword("TemporalScheduledById")
)

// BatchJobInput is the input of BatchJobWorkflow.
type BatchJobInput struct {
	Job flowdata.BatchJob `json:"job"`
}

// BatchJobResult is the result of a successful run.
type BatchJobResult struct {
	Job           string               `json:"job"`
	Status        string               `json:"status"`
	Attempts      int                  `json:"attempts"`
	Duration      flowdata.Duration    `json:"duration"`
	ScheduledTime time.Time            `json:"scheduledTime"`
	Output        activities.JobOutput `json:"output"`
}

// BatchJobWorkflow runs one job with the job's own retry policy (kept in the
// workflow, so the status query shows the running attempt and the last
// error) within its overall timeout. On final failure it posts a Slack alert
// (failures to alert are logged, never fail the job) and fails.
func BatchJobWorkflow(ctx workflow.Context, in BatchJobInput) (BatchJobResult, error) {
	job := in.Job
	st := NewTracker(ctx, BatchFlow, job.Name)
	info := workflow.GetInfo(ctx)
	start := workflow.Now(ctx)
	jc := activities.JobContext{
		ScheduledTime: start,
		RunID:         info.WorkflowExecution.RunID,
		WorkflowID:    info.WorkflowExecution.ID,
		JobName:       job.Name,
	}
	sa := workflow.GetTypedSearchAttributes(ctx)
	if t, ok := sa.GetTime(scheduledStartKey); ok {
		jc.ScheduledTime = t
	}
	if id, ok := sa.GetKeyword(scheduledByKey); ok {
		jc.ScheduleID = id
	}
	st.Update(func(s *Status) {
		s.Details = map[string]string{"kind": job.Kind, "scheduledTime": jc.ScheduledTime.UTC().Format(time.RFC3339)}
		if jc.ScheduleID != "" {
			s.Details["schedule"] = jc.ScheduleID
		}
	})
	retry := effectiveRetry(job.Retry)
	timeout := job.Timeout.D()
	if timeout <= 0 {
		timeout = DefaultJobTimeout
	}
	boundJob(ctx, &retry, &timeout)
	deadline := start.Add(timeout)
	interval := retry.InitialInterval.D()
	res := BatchJobResult{Job: job.Name, ScheduledTime: jc.ScheduledTime}

	var lastErr error
	for attempt := 1; ; attempt++ {
		remaining := deadline.Sub(workflow.Now(ctx))
		if remaining <= 0 {
			lastErr = fmt.Errorf("job timed out after %s (%d attempts): %w", timeout, attempt-1, lastErr)
			break
		}
		st.SetPhase(PhaseRunning)
		st.Update(func(s *Status) { s.Attempt = attempt; s.Message = "" })
		jc.Attempt = attempt
		res.Attempts = attempt
		out, err := runJobAttempt(ctx, st, job, jc, remaining)
		res.Output = out
		if err == nil {
			res.Status = "succeeded"
			res.Duration = flowdata.Duration(workflow.Now(ctx).Sub(start))
			st.SetPhase(PhaseDone)
			st.Update(func(s *Status) { s.Message = out.Summary })
			return res, nil
		}
		lastErr = err
		st.Update(func(s *Status) { s.LastError = errorText(err) })
		if temporal.IsCanceledError(err) || ctx.Err() != nil {
			return res, err
		}
		if !retryable(err) || attempt >= retry.MaximumAttempts {
			break
		}
		if interval >= deadline.Sub(workflow.Now(ctx)) {
			lastErr = fmt.Errorf("job would time out (%s) before its next attempt: %w", timeout, err)
			break
		}
		st.SetPhase(PhaseWaiting)
		st.Update(func(s *Status) {
			s.Message = fmt.Sprintf("attempt %d failed; retrying in %s", attempt, interval)
			s.Waiting = &WaitInfo{For: fmt.Sprintf("the retry of job %s", job.Name), Next: workflow.Now(ctx).Add(interval),
				NextIs: fmt.Sprintf("attempt (%d)", attempt+1), Deadline: deadline}
		})
		if err := workflow.Sleep(ctx, interval); err != nil {
			return res, err
		}
		interval = min(time.Duration(float64(interval)*retry.BackoffCoefficient), retry.MaximumInterval.D())
	}

	st.Fail(lastErr)
	alertJobFailure(ctx, job, jc, res.Attempts, lastErr)
	// One line: the Web UI shows it as the run's failure; the cause holds
	// the chain, the details the last error in full.
	return res, temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("job %s failed after %d attempt(s): %s", job.Name, res.Attempts, activities.FirstLine(errorText(lastErr), failureMessageMax)),
		ErrTypeJobFailed, lastErr, errorText(lastErr))
}

// runJobAttempt runs one attempt of the job's kind as a single activity
// attempt (retries are the workflow's). An exec job with a host runs on
// that host's queue, waiting for the host at most its hostWait and never
// past the job's timeout.
func runJobAttempt(ctx workflow.Context, st *Tracker, job flowdata.BatchJob, jc activities.JobContext, remaining time.Duration) (activities.JobOutput, error) {
	opts := workflow.ActivityOptions{
		StartToCloseTimeout: min(remaining, time.Minute),
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
		WaitForCancellation: true,
		Summary:             fmt.Sprintf("run batch job %s (%s), attempt %d", job.Name, job.Kind, jc.Attempt),
	}
	var out activities.JobOutput
	var f workflow.Future
	switch job.Kind {
	case flowdata.JobKindHTTP:
		opts.StartToCloseTimeout = min(remaining, orDefault(job.HTTP.Timeout.D(), 30*time.Second)+10*time.Second)
		if job.HTTP.Timeout.D() > time.Minute && workflow.GetVersion(ctx, httpJobHeartbeatChange, workflow.DefaultVersion, 1) >= 1 {
			// The call heartbeats while it waits: a worker that died
			// mid-call is noticed in a minute, not at the timeout.
			opts.HeartbeatTimeout = activities.HTTPHeartbeatTimeout
		}
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activities.HTTPCallName, activities.HTTPCallInput{
			Job: *job.HTTP, Ctx: jc, NonRetryableStatus: nonRetryableStatus(job.Retry)})
	case flowdata.JobKindExec:
		opts.StartToCloseTimeout = min(remaining, orDefault(job.Exec.Timeout.D(), 10*time.Minute)+10*time.Second)
		opts.HeartbeatTimeout = 5 * activities.ExecHeartbeatInterval
		host, err := pinnedHost(ctx, job.Exec.Host, "")
		if err != nil {
			return out, err
		}
		if host != "" {
			st.Update(func(s *Status) { s.Details["host"] = host })
			hctx := WithHostWait(ctx, min(orDefault(job.Exec.HostWait.D(), DefaultHostWait), remaining))
			return out, jobOutput(CallOnHost(hctx, st, host, opts, activities.RunCommandName, &out, activities.ExecInput{Job: *job.Exec, Ctx: jc}), &out)
		}
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activities.RunCommandName, activities.ExecInput{Job: *job.Exec, Ctx: jc})
	case flowdata.JobKindS3Put:
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activities.PutJobObjectName, activities.S3PutJobInput{Job: *job.S3Put, Ctx: jc})
	case flowdata.JobKindSQSSend:
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activities.SendJobMessageName, activities.SQSSendJobInput{Job: *job.SQSSend, Ctx: jc})
	default:
		return out, temporal.NewNonRetryableApplicationError("unknown job kind "+job.Kind, activities.ErrTypeBadInput, nil)
	}
	return out, jobOutput(f.Get(ctx, &out), &out)
}

// jobOutput fills out from the details of a failed attempt's error and
// returns the error.
func jobOutput(err error, out *activities.JobOutput) error {
	var appErr *temporal.ApplicationError
	if err != nil && errors.As(err, &appErr) && appErr.HasDetails() {
		_ = appErr.Details(out)
	}
	return err
}

// alertJobFailure posts the failure to Slack; its own failure is logged.
func alertJobFailure(ctx workflow.Context, job flowdata.BatchJob, jc activities.JobContext, attempts int, jobErr error) {
	schedule := jc.ScheduleID
	if schedule == "" {
		schedule = "(not scheduled)"
	}
	notify(ctx, activities.SlackMessage{
		WebhookEnv: job.NotifyOnFailure,
		Text:       fmt.Sprintf("vigil: batch job %s failed", job.Name),
		Color:      activities.SlackDanger,
		Title:      fmt.Sprintf("Batch job %s failed after %d attempt(s)", job.Name, attempts),
		Fields: []activities.SlackField{
			{Title: "Schedule", Value: schedule, Short: true},
			{Title: "Scheduled time", Value: jc.ScheduledTime.UTC().Format(time.RFC3339), Short: true},
			{Title: "Error", Value: errorText(jobErr)},
		},
		Footer: "starter status " + jc.WorkflowID,
	})
}

func effectiveRetry(r *flowdata.JobRetry) flowdata.JobRetry {
	out := DefaultJobRetry
	if r == nil {
		return out
	}
	if r.InitialInterval > 0 {
		out.InitialInterval = r.InitialInterval
	}
	if r.BackoffCoefficient >= 1 {
		out.BackoffCoefficient = r.BackoffCoefficient
	}
	if r.MaximumInterval > 0 {
		out.MaximumInterval = r.MaximumInterval
	}
	if r.MaximumAttempts > 0 {
		out.MaximumAttempts = r.MaximumAttempts
	}
	out.NonRetryableStatus = r.NonRetryableStatus
	return out
}

// httpJobHeartbeatChange gates the heartbeat timeout of HTTP job calls
// whose timeout is over a minute (version 1).
const httpJobHeartbeatChange = "http-job-heartbeat"

// batchBoundsChange gates the clamping of a job's retry policy and
// timeout to flowdata's bounds (version 1), for jobs stored before the
// readers checked them: runs begun before go on unclamped.
const batchBoundsChange = "batch-retry-bounds"

// eventsPerJobAttempt is the history cost of one failed attempt and its
// retry timer: the activity's three events, its timer's two, two workflow
// tasks' six (TestBatchAttemptEventsMeasured checks it against a recorded
// history) and two status upserts.
const eventsPerJobAttempt = 13

// boundJob clamps retry and timeout to flowdata.MaxJobAttempts,
// MinRetryInterval and MaxJobTimeout, so a job's history stays below
// about MaxJobAttempts*eventsPerJobAttempt events. It asks GetVersion only
// when a value is out of bounds, so runs within them record no marker.
func boundJob(ctx workflow.Context, retry *flowdata.JobRetry, timeout *time.Duration) {
	floor := flowdata.Duration(flowdata.MinRetryInterval)
	if retry.MaximumAttempts <= flowdata.MaxJobAttempts && retry.InitialInterval >= floor &&
		retry.MaximumInterval >= floor && *timeout <= flowdata.MaxJobTimeout {
		return
	}
	if workflow.GetVersion(ctx, batchBoundsChange, workflow.DefaultVersion, 1) < 1 {
		return
	}
	retry.MaximumAttempts = min(retry.MaximumAttempts, flowdata.MaxJobAttempts)
	retry.InitialInterval = max(retry.InitialInterval, floor)
	retry.MaximumInterval = max(retry.MaximumInterval, floor)
	*timeout = min(*timeout, flowdata.MaxJobTimeout)
}

func nonRetryableStatus(r *flowdata.JobRetry) []int {
	if r == nil {
		return nil
	}
	return r.NonRetryableStatus
}

// retryable reports whether another attempt may help.
func retryable(err error) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return !appErr.NonRetryable()
	}
	return true
}

// errorText is the innermost useful message of an activity error.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return "attempt timed out (" + timeoutErr.TimeoutType().String() + ")"
	}
	return err.Error()
}

// failureMessageMax caps the error text in a run's one-line failure message.
const failureMessageMax = 200

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
