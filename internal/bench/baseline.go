package main

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// Names of the baseline workflows and activity, registered next to vigil's
// real ones on the same worker.
const (
	bareWorkflowName   = "BenchBareWorkflow"
	signalWorkflowName = "BenchSignalWorkflow"
	markActivityName   = "BenchMark"
	goSignal           = "go"
)

var scheduledStartKey = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// markInput tells the marking activity what its run was started for: the
// schedule's nominal time (zero when not scheduled).
type markInput struct {
	Scheduled time.Time `json:"scheduled"`
}

// bareWorkflow is the least a scheduled job can do: one activity, given
// the nominal time from the TemporalScheduledStartTime search attribute.
func bareWorkflow(ctx workflow.Context) error {
	var in markInput
	if t, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartKey); ok {
		in.Scheduled = t
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	return workflow.ExecuteActivity(ctx, markActivityName, in).Get(ctx, nil)
}

// signalWorkflow waits for one signal, then runs one activity: the least a
// notification-driven flow can do.
func signalWorkflow(ctx workflow.Context) error {
	workflow.GetSignalChannel(ctx, goSignal).Receive(ctx, nil)
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	return workflow.ExecuteActivity(ctx, markActivityName, markInput{}).Get(ctx, nil)
}

// mark is when an activity started, for which workflow and nominal time.
type mark struct {
	WorkflowID string
	At         time.Time
	Scheduled  time.Time
	Vigil      bool
}

// recorder receives the marks of the baseline activity and of vigil's
// replaced job activity.
type recorder struct {
	mu    sync.Mutex
	marks []mark
	seen  chan struct{}
}

func newRecorder() *recorder { return &recorder{seen: make(chan struct{}, 1)} }

func (r *recorder) add(m mark) {
	r.mu.Lock()
	r.marks = append(r.marks, m)
	r.mu.Unlock()
	select {
	case r.seen <- struct{}{}:
	default:
	}
}

// snapshot copies the marks so far.
func (r *recorder) snapshot() []mark {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mark(nil), r.marks...)
}

func (r *recorder) markActivity(ctx context.Context, in markInput) error {
	r.add(mark{WorkflowID: activity.GetInfo(ctx).WorkflowExecution.ID, At: time.Now(), Scheduled: in.Scheduled})
	return nil
}

// putJobObject replaces vigil's s3-put job activity: a no-op job that
// records when it started and the nominal time vigil gave it.
func (r *recorder) putJobObject(ctx context.Context, in activities.S3PutJobInput) (activities.JobOutput, error) {
	m := mark{WorkflowID: in.Ctx.WorkflowID, At: time.Now(), Vigil: true}
	if in.Ctx.ScheduleID != "" {
		m.Scheduled = in.Ctx.ScheduledTime
	}
	r.add(m)
	return activities.JobOutput{Summary: "no-op"}, nil
}

// registerBaselines registers the baseline workflows and activity and
// replaces PutJobObject with the recorder's no-op.
func (r *recorder) register(w worker.Registry) {
	w.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: bareWorkflowName})
	w.RegisterWorkflowWithOptions(signalWorkflow, workflow.RegisterOptions{Name: signalWorkflowName})
	w.RegisterActivityWithOptions(r.markActivity, activity.RegisterOptions{Name: markActivityName})
	w.RegisterActivityWithOptions(r.putJobObject, activity.RegisterOptions{Name: activities.PutJobObjectName, DisableAlreadyRegisteredCheck: true})
}

// wait blocks until cond holds on the marks, or the deadline.
func (r *recorder) wait(ctx context.Context, within time.Duration, cond func([]mark) bool) bool {
	t := time.NewTimer(within)
	defer t.Stop()
	for {
		if cond(r.snapshot()) {
			return true
		}
		select {
		case <-r.seen:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// ms converts a duration to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
