package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// absentHost plays a host no worker serves, in workflow time: each
// attempt of a host-pinned activity times out (schedule-to-start) after
// the timeout the run gave it, as the server would, and is counted.
type absentHost struct {
	interceptor.WorkerInterceptorBase
	attempts int
}

func (a *absentHost) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &absentHostIn{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, a: a}
}

type absentHostIn struct {
	interceptor.WorkflowInboundInterceptorBase
	a *absentHost
}

func (i *absentHostIn) Init(out interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&absentHostOut{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: out}, a: i.a})
}

type absentHostOut struct {
	interceptor.WorkflowOutboundInterceptorBase
	a *absentHost
}

func (o *absentHostOut) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	if activityType != activities.RestoreStreamName {
		return o.Next.ExecuteActivity(ctx, activityType, args...)
	}
	o.a.attempts++
	toStart := workflow.GetActivityOptions(ctx).ScheduleToStartTimeout
	f, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(c workflow.Context) {
		_ = workflow.Sleep(c, toStart)
		set.Set(nil, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil))
	})
	return f
}

// A wait for a host that never comes, asked for longer than MaxHostWait,
// ends at MaxHostWait with HostUnavailable and one alert, and its history
// (attempts × eventsPerHostRecheck, plus the run's own events) stays
// below 2,000 events. Seen failing before host-wait-max: the wait ran
// 9 days with attempts every 10 minutes (~1,300 attempts, ~7,800 events).
func TestHostWaitMaxBounded(t *testing.T) {
	r := newRestoreHostEnv(t)
	host := &absentHost{}
	r.env.SetWorkerOptions(summaryChecked(t, worker.Options{DeadlockDetectionTimeout: 30 * time.Second,
		Interceptors: []interceptor.WorkerInterceptor{host}}))
	start := r.env.Now()
	r.env.ExecuteWorkflow(RestoreWorkflow, flowdata.RestoreInput{From: "s3://backups/prod/cache/", To: "file://srv/r.bin",
		HostWait: flowdata.Duration(flowdata.MaxHostWait + 48*time.Hour)})
	var ae *temporal.ApplicationError
	if err := r.env.GetWorkflowError(); !errors.As(err, &ae) || ae.Type() != activities.ErrTypeHostUnavailable {
		t.Fatalf("err %v, want HostUnavailable", err)
	}
	if took := r.env.Now().Sub(start); took < flowdata.MaxHostWait || took > flowdata.MaxHostWait+hostRecheckMax {
		t.Errorf("failed after %s, want at MaxHostWait (%s)", took, flowdata.MaxHostWait)
	}
	if len(r.alerts) != 1 || !strings.Contains(r.alerts[0].Fields[0].Value, `host "srv"`) {
		t.Errorf("alerts %+v, want one naming host srv", r.alerts)
	}
	events := eventsPerHostRecheck*host.attempts + 60
	t.Logf("%d attempts, about %d events", host.attempts, events)
	if events >= 2000 {
		t.Errorf("%d attempts ≈ %d events: want fewer than 2000", host.attempts, events)
	}
}

// TestHostRecheckEventsMeasured checks eventsPerHostRecheck against a
// recorded history: the events from an attempt no worker took to the
// next command.
func TestHostRecheckEventsMeasured(t *testing.T) {
	hist := recordedHistory(t, "restore-v1-host-wait-limit.json")
	events := hist.GetEvents()
	first, last := -1, -1
	for i, e := range events {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == activities.RestoreStreamName && first < 0 {
			first = i
		}
		if first >= 0 && last < 0 && e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			last = i
		}
	}
	if first < 0 || last < 0 || events[first+1].GetEventType() != enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT {
		t.Fatalf("no timed-out attempt in the history")
	}
	if n := last - first + 1; n > eventsPerHostRecheck {
		t.Errorf("an attempt costs %d events, eventsPerHostRecheck says %d", n, eventsPerHostRecheck)
	}
}
