package workflows

import (
	"errors"
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

// OnHost returns ctx with opts whose activities run on host's task queue.
// ScheduleToStartTimeout is set to HostWaitTimeout so that CallOnHost can
// tell a host that is gone from a slow activity.
func OnHost(ctx workflow.Context, host string, opts workflow.ActivityOptions) workflow.Context {
	opts.TaskQueue = HostTaskQueue(workflow.GetInfo(ctx).TaskQueueName, host)
	opts.ScheduleToStartTimeout = HostWaitTimeout
	return workflow.WithActivityOptions(ctx, opts)
}

// CallOnHost runs one activity on host's task queue and waits for its
// result. While no worker of that host takes it, st says "waiting for host
// H" and the activity is scheduled again: the run waits for the host rather
// than delivering elsewhere. st may be nil.
func CallOnHost(ctx workflow.Context, st *Tracker, host string, opts workflow.ActivityOptions, name string, result any, args ...any) error {
	hctx := OnHost(ctx, host, opts)
	for {
		err := workflow.ExecuteActivity(hctx, name, args...).Get(ctx, result)
		if !IsHostAbsent(err) {
			if st != nil && st.Status().Message == waitingForHost(host) {
				st.Update(func(s *Status) { s.Message = "" })
			}
			return err
		}
		workflow.GetLogger(ctx).Warn("no worker of the host took the activity; waiting for it", "host", host, "activity", name)
		if st != nil {
			st.Update(func(s *Status) { s.Message = waitingForHost(host) })
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
