package rollout

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/client"
)

// Options are what every routing change takes.
type Options struct {
	// Identity is recorded by the server as the change's author.
	Identity string
	// IgnoreMissingTaskQueues lets the new build be current or ramping
	// although it does not poll every task queue the current build polls
	// (for example a host queue whose host runs no worker of the new build
	// yet): runs scheduling work there would wait for it.
	IgnoreMissingTaskQueues bool
}

// Change reports a routing change: the build(s) new runs went to before
// and go to now.
type Change struct {
	// Action is "set-current", "ramp", "stop-ramp" or "rollback".
	Action string `json:"action"`
	// PreviousCurrent and Current are the current builds before and after.
	PreviousCurrent string `json:"previousCurrent,omitempty"`
	Current         string `json:"current,omitempty"`
	// PreviousRamping and Ramping are the ramping builds before and after,
	// with their percentages.
	PreviousRamping        string  `json:"previousRamping,omitempty"`
	PreviousRampPercentage float32 `json:"previousRampPercentage,omitempty"`
	Ramping                string  `json:"ramping,omitempty"`
	RampPercentage         float32 `json:"rampPercentage,omitempty"`
}

// SetCurrent sends every new run (and every auto-upgrade run's next task)
// to buildID. Runs pinned to other builds stay on them.
func SetCurrent(ctx context.Context, c client.Client, deployment, buildID string, o Options) (Change, error) {
	st, err := describeRouting(ctx, c, deployment)
	if err != nil {
		return Change{}, err
	}
	ch := Change{Action: "set-current", PreviousCurrent: st.current, PreviousRamping: st.ramping, PreviousRampPercentage: st.rampPct}
	_, err = c.WorkerDeploymentClient().GetHandle(deployment).SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{
		BuildID: buildID, Identity: o.Identity, IgnoreMissingTaskQueues: o.IgnoreMissingTaskQueues})
	if err != nil {
		return ch, fmt.Errorf("making build %s current: %w", buildID, err)
	}
	ch.Current = buildID
	if st.ramping != buildID {
		// Making the ramping build current ends its ramp; another ramp
		// goes on.
		ch.Ramping, ch.RampPercentage = st.ramping, st.rampPct
	}
	return ch, nil
}

// Ramp sends percent % of new runs to buildID, the rest to the current
// build; buildID "" (or percent 0 with buildID "") stops the ramp.
func Ramp(ctx context.Context, c client.Client, deployment, buildID string, percent float32, o Options) (Change, error) {
	if percent < 0 || percent > 100 {
		return Change{}, fmt.Errorf("ramp percentage %v: want 0 to 100", percent)
	}
	st, err := describeRouting(ctx, c, deployment)
	if err != nil {
		return Change{}, err
	}
	ch := Change{Action: "ramp", PreviousCurrent: st.current, Current: st.current, PreviousRamping: st.ramping, PreviousRampPercentage: st.rampPct,
		Ramping: buildID, RampPercentage: percent}
	if buildID == "" {
		ch.Action, ch.RampPercentage, percent = "stop-ramp", 0, 0
	}
	_, err = c.WorkerDeploymentClient().GetHandle(deployment).SetRampingVersion(ctx, client.WorkerDeploymentSetRampingVersionOptions{
		BuildID: buildID, Percentage: percent, Identity: o.Identity, IgnoreMissingTaskQueues: o.IgnoreMissingTaskQueues})
	if err != nil {
		if buildID == "" {
			return ch, fmt.Errorf("stopping the ramp: %w", err)
		}
		return ch, fmt.Errorf("ramping build %s to %v%%: %w", buildID, percent, err)
	}
	return ch, nil
}

// ErrNoRollbackTarget: no build to roll back to (none was current before
// the current one, and none was named).
var ErrNoRollbackTarget = errors.New("no earlier build to roll back to; name one")

// Rollback undoes the last rollout step. With a ramp under way and no
// build named, it stops the ramp (the current build keeps all new runs).
// Otherwise it makes to current (default: the build that was current
// before the current one, i.e. the one rolled away from), and
// stops any ramp of another build. Runs pinned to the abandoned build stay
// there and finish on it.
func Rollback(ctx context.Context, c client.Client, namespace, deployment, to string, o Options) (Change, error) {
	st, err := Describe(ctx, c, namespace, deployment)
	if err != nil {
		return Change{}, err
	}
	if r := st.Ramping(); r != nil && to == "" {
		ch, err := Ramp(ctx, c, deployment, "", 0, o)
		ch.Action = "rollback"
		return ch, err
	}
	if to == "" {
		to = previousBuild(st)
		if to == "" {
			return Change{}, ErrNoRollbackTarget
		}
	}
	if st.Find(to) == nil {
		return Change{}, fmt.Errorf("deployment %s has no build %q", deployment, to)
	}
	ch, err := SetCurrent(ctx, c, deployment, to, o)
	ch.Action = "rollback"
	if err != nil || ch.Ramping == "" {
		return ch, err
	}
	stop, err := Ramp(ctx, c, deployment, "", 0, o)
	ch.Ramping, ch.RampPercentage = stop.Ramping, stop.RampPercentage
	return ch, err
}

// previousBuild is the build that was current most recently, other than
// the current one ("" when there is none). A build that only ever ramped
// is never a rollback target.
func previousBuild(st Status) string {
	var best *Build
	for i := range st.Builds {
		b := &st.Builds[i]
		if b.Current || b.Ramping || b.LastCurrentTime == nil {
			continue
		}
		if best == nil || b.LastCurrentTime.After(*best.LastCurrentTime) {
			best = b
		}
	}
	if best == nil {
		return ""
	}
	return best.BuildID
}

// routing is the deployment's routing config.
type routing struct {
	current, ramping string
	rampPct          float32
}

func describeRouting(ctx context.Context, c client.Client, deployment string) (routing, error) {
	d, err := c.WorkerDeploymentClient().GetHandle(deployment).Describe(ctx, client.WorkerDeploymentDescribeOptions{})
	if err != nil {
		return routing{}, err
	}
	var r routing
	if v := d.Info.RoutingConfig.CurrentVersion; v != nil {
		r.current = v.BuildID
	}
	if v := d.Info.RoutingConfig.RampingVersion; v != nil {
		r.ramping, r.rampPct = v.BuildID, d.Info.RoutingConfig.RampingVersionPercentage
	}
	return r, nil
}
