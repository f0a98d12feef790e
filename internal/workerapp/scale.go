package workerapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// ScaleConfig are the flags of a worker pool that serves part of the flows
// on a task queue of its own and can scale to zero (README "Scaling").
type ScaleConfig struct {
	// Flows are the flows this worker registers (FlowNames); empty is all.
	// A worker with a subset runs no notification router: notifications
	// are the full worker's, which starts runs on the queue their job or
	// pipeline names.
	Flows []string
	// ExitWhenIdle makes the worker drain and exit 0 once it has had no
	// task for this long; 0 runs until stopped.
	ExitWhenIdle time.Duration
	// DevQueue is the --dev task queue whose workers the embedded server
	// starts on demand (dev_scale.go); empty is off.
	DevQueue string
	// DevIdle is the --exit-when-idle of those workers.
	DevIdle time.Duration
}

// DefaultDevScaleIdle is how long a worker started on demand in --dev
// stays without a task.
const DefaultDevScaleIdle = 30 * time.Second

// flowsByName are the flows --flows can select. The shared activities and
// the self-check are always registered.
var flowsByName = map[string]Flow{
	workflows.BatchFlow:    batchFlow,
	"retrieval":            retrievalFlow,
	workflows.S3ObjectFlow: s3ObjectFlow,
	workflows.BackupFlow:   backupFlow,
	"datastore":            datastoreFlow,
}

// alwaysFlows are registered whatever --flows says.
var alwaysFlows = []Flow{commonActivities, selfCheckFlow}

// FlowNames lists the names --flows accepts.
func FlowNames() []string { return slices.Sorted(maps.Keys(flowsByName)) }

func addScaleFlags(fs *flag.FlagSet, s *ScaleConfig) {
	fs.Func("flows", "register only these flows, comma-separated ("+strings.Join(FlowNames(), ", ")+"); default all. "+
		"A worker with a subset runs no notification router", func(v string) error {
		return (*listFlag)(&s.Flows).Set(v)
	})
	fs.DurationVar(&s.ExitWhenIdle, "exit-when-idle", 0, "drain and exit 0 after this long without a task (a worker started on demand); 0 runs until stopped")
	fs.StringVar(&s.DevQueue, "dev-scale-queue", workflows.HeavyTaskQueue, "task queue whose workers the embedded server starts on demand, as subprocesses (--dev; empty: off)")
	fs.DurationVar(&s.DevIdle, "dev-scale-idle", DefaultDevScaleIdle, "--exit-when-idle of the workers started on demand (--dev)")
}

func (s ScaleConfig) validate(dev bool, taskQueue string) error {
	for _, f := range s.Flows {
		if _, ok := flowsByName[f]; !ok {
			return fmt.Errorf("--flows: unknown flow %q (want %s)", f, strings.Join(FlowNames(), ", "))
		}
	}
	if s.ExitWhenIdle < 0 {
		return errors.New("--exit-when-idle must not be negative")
	}
	if s.DevQueue != "" {
		if err := flowdata.ValidateTaskQueue("--dev-scale-queue", s.DevQueue); err != nil {
			return err
		}
		if dev && s.DevQueue == taskQueue {
			return fmt.Errorf("--dev-scale-queue %q is the worker's own --task-queue; name another queue (or \"\" for none)", s.DevQueue)
		}
	}
	if s.DevIdle <= 0 {
		return errors.New("--dev-scale-idle must be positive")
	}
	if dev && s.ExitWhenIdle > 0 {
		return errors.New("--exit-when-idle does not go with --dev (the local stack would stop with the worker)")
	}
	return nil
}

// runsRouter: only a worker of all flows that stays up consumes
// notifications.
func (s ScaleConfig) runsRouter() bool { return len(s.Flows) == 0 && s.ExitWhenIdle == 0 }

// selectedFlows are the flows a worker with this selection registers.
func selectedFlows(names []string) []Flow {
	if len(names) == 0 {
		return Flows
	}
	out := slices.Clone(alwaysFlows)
	for _, n := range FlowNames() {
		if slices.Contains(names, n) {
			out = append(out, flowsByName[n])
		}
	}
	return out
}

// startIdleExit returns a context that ends when the parent does or, with
// --exit-when-idle, when the worker has had no task for that long; the
// tracker goes into Deps so that its workers report their tasks.
func (s ScaleConfig) startIdleExit(ctx context.Context, d *Deps, logger *slog.Logger) (context.Context, context.CancelFunc) {
	if s.ExitWhenIdle <= 0 {
		return context.WithCancel(ctx)
	}
	d.idle = newIdleTracker()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		if d.idle.waitIdle(ctx, s.ExitWhenIdle) {
			logger.Info("no task for a while; draining and exiting", "exitWhenIdle", s.ExitWhenIdle)
			cancel()
		}
	}()
	return ctx, cancel
}

// applyScale sets, with --exit-when-idle, the idle tracker's tuner and the
// drain timeout on a worker's options. (A worker started on demand is
// versioned through VIGIL_DEPLOYMENT_NAME/VIGIL_BUILD_ID, which the
// versioning flags read: versioning.go.)
func (d *Deps) applyScale(o *worker.Options) {
	if d.idle == nil {
		return
	}
	t, err := d.idle.tuner()
	if err != nil {
		// Fixed-size suppliers fail only on a non-positive size.
		panic(err)
	}
	o.Tuner = t
	o.WorkerStopTimeout = drainTimeout
}
