package workflows

import (
	"errors"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// Host pinning. Besides the shared task queue, every worker polls a task
// queue of its own host, HostTaskQueue(taskQueue, host). An activity that
// touches one host's files (a file:// destination, an exec processor's temp
// file, a file or dir backup source) is sent to that host's queue, so all
// the steps of a run that share files run on the host that holds them, even
// with several workers on one task queue. A run that names no host picks one
// with PickHost: whichever worker takes the WorkerHost activity from the
// shared queue.

// hostQueueSep separates the shared task queue from the host name.
const hostQueueSep = "@"

// HostTaskQueue is the task queue of one host's worker.
func HostTaskQueue(taskQueue, host string) string { return taskQueue + hostQueueSep + host }

// HostWaitTimeout is how long a host-pinned activity waits in its host's
// queue before the run reports that it is waiting for the host (and goes on
// waiting: a run never delivers to another host than the one it chose).
// It is a variable only so that tests in this process can shorten it before
// their worker starts; it is recorded in each scheduled activity, so a
// change never affects the replay of a running workflow.
var HostWaitTimeout = time.Minute

// PickHost returns host when it is set; otherwise the host of the worker
// that picks up a WorkerHost activity from ctx's task queue.
func PickHost(ctx workflow.Context, host string) (string, error) {
	if host != "" {
		return host, nil
	}
	var picked string
	err := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, ShortCallOptions()), "pick a worker host"), activities.WorkerHostName).Get(ctx, &picked)
	return picked, err
}

// locationHostChange gates pinning to the host a file or dir URL names in
// the flows that used to read only their input's Host field (backup,
// restore, exec jobs and processors): such runs replay with DefaultVersion
// and keep the old choice.
const locationHostChange = "location-host-pins"

// pinnedHost is the host a run that touches loc (a file or dir location)
// or runs a command is pinned to: the host loc names (file://HOST/path),
// else explicit (the input's host field), else "" (PickHost picks one).
// A URL and a host field that name different hosts are BadInput.
func pinnedHost(ctx workflow.Context, urlHost, explicit string) (string, error) {
	if urlHost == "" {
		return explicit, nil
	}
	if workflow.GetVersion(ctx, locationHostChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return explicit, nil
	}
	if explicit != "" && explicit != urlHost {
		return "", activities.BadInput("the location names host %q but the run's host is %q: name one host", urlHost, explicit)
	}
	return urlHost, nil
}

// OnHost returns ctx with opts whose activities run on host's task queue.
// ScheduleToStartTimeout is set to HostWaitTimeout so that CallOnHost can
// tell a host that is gone from a slow activity.
func OnHost(ctx workflow.Context, host string, opts workflow.ActivityOptions) workflow.Context {
	return onHost(ctx, host, opts, HostWaitTimeout)
}

// onHost is OnHost with the schedule-to-start timeout of one attempt.
func onHost(ctx workflow.Context, host string, opts workflow.ActivityOptions, toStart time.Duration) workflow.Context {
	opts.TaskQueue = HostTaskQueue(workflow.GetInfo(ctx).TaskQueueName, host)
	opts.ScheduleToStartTimeout = toStart
	return workflow.WithActivityOptions(ctx, opts)
}

// CallOnHost runs one activity on host's task queue and waits for its
// result. While no worker of that host takes it, st says "waiting for host
// H since T, gives up at T+limit" and the activity is scheduled again: the
// run waits for the host rather than delivering elsewhere, for the limit
// WithHostWait set on ctx (DefaultHostWait unless set); then it fails with
// the non-retryable HostUnavailable. Runs that started waiting before the
// limit existed (no hostWaitChange marker) go on waiting. st may be nil.
func CallOnHost(ctx workflow.Context, st *Tracker, host string, opts workflow.ActivityOptions, name string, result any, args ...any) error {
	w := newHostWait(ctx, host)
	for {
		err := workflow.ExecuteActivity(onHost(ctx, host, opts, w.toStart), name, args...).Get(ctx, result)
		if !IsHostAbsent(err) {
			if st != nil && IsWaitingForHost(st.Status().Message, host) {
				st.Update(func(s *Status) { s.Message = "" })
			}
			return err
		}
		workflow.GetLogger(ctx).Warn("no worker of the host took the activity; waiting for it", "host", host, "activity", name)
		if err := w.absent(ctx, st); err != nil {
			return err
		}
	}
}

// IsHostAbsent tells whether err is a host-pinned activity that no worker
// of the host started within HostWaitTimeout.
func IsHostAbsent(err error) bool {
	var te *temporal.TimeoutError
	return errors.As(err, &te) && te.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START
}

func waitingForHost(host string) string { return "waiting for host " + host }

// IsWaitingForHost tells whether a status message is the one a run waiting
// for host shows.
func IsWaitingForHost(msg, host string) bool {
	return msg == waitingForHost(host) || strings.HasPrefix(msg, waitingForHost(host)+" since ")
}
