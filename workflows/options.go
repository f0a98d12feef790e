package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Named activity-option presets. Flows pick one and adjust it rather than
// spelling retry policies inline.
//
// No preset retries without bound: each has a maximum of attempts (a bound
// on attempts rather than a schedule-to-close timeout, which would also cut
// a long transfer or copy that keeps making progress). While an activity
// keeps failing, its run shows the last error and attempt and posts one
// warning at FailingAlertAttempts (tracker_failures.go); after the last
// attempt the run fails and alerts (alerts.go).

// Attempt limits of the presets. With their backoff, ShortCallAttempts
// fail for about 15 minutes, SlowPollAttempts for about an hour,
// TransferAttempts for about 45 minutes plus the attempts' own time (a
// transfer resumes from its heartbeat, so a worker restart costs one).
const (
	ShortCallAttempts = 20
	SlowPollAttempts  = 16
	TransferAttempts  = 25
)

// ShortCallOptions suits a single quick cloud API call (HeadObject,
// DescribeJob, SendMessage): short timeout, fast retries.
func ShortCallOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    ShortCallAttempts,
		},
	}
}

// TransferOptions suits a long streaming transfer that heartbeats progress and
// resumes from its heartbeat details after a worker crash.
func TransferOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 12 * time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    2 * time.Minute,
			MaximumAttempts:    TransferAttempts,
		},
	}
}

// SlowPollOptions suits one poll of a long-running external job; "not ready
// yet" is a normal answer, not an error.
func SlowPollOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    5 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
			MaximumAttempts:    SlowPollAttempts,
		},
	}
}

// Summarized is ctx with summary as the Summary of the activities it
// schedules (the options already on ctx kept): the Web UI's timeline shows
// it in place of the activity type, so the timeline reads as the flow's
// steps. The summary is user metadata of the ActivityTaskScheduled event;
// replay does not compare it, so adding one needs no GetVersion.
func Summarized(ctx workflow.Context, summary string) workflow.Context {
	o := workflow.GetActivityOptions(ctx)
	o.Summary = summary
	return workflow.WithActivityOptions(ctx, o)
}

// summarized is opts with summary as their Summary, for the helpers that
// take options rather than a context (CallOnHost, download.call).
func summarized(opts workflow.ActivityOptions, summary string) workflow.ActivityOptions {
	opts.Summary = summary
	return opts
}

// abbrev shortens a long opaque ID (a Glacier archive or job ID) for a
// summary.
func abbrev(id string) string {
	if len(id) <= 16 {
		return id
	}
	return id[:16] + "…"
}
