package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// DefaultHostWait is how long a run waits for the host it is pinned to
// when its input sets no host-wait limit.
const DefaultHostWait = 24 * time.Hour

// hostRecheckMax caps the schedule-to-start timeout of one attempt while a
// run waits for its host: the wait re-schedules the activity with doubling
// timeouts up to this, so a day's wait costs a few hundred history events,
// not thousands. A host that comes back takes the queued activity at once
// whatever the timeout.
const hostRecheckMax = 10 * time.Minute

// hostWaitChange gates the host-wait limit: runs that waited for a host
// before it existed have no marker and go on waiting without a limit.
const hostWaitChange = "host-wait-limit"

// hostWaitKey is the workflow.Context key of a run's host-wait limit.
type hostWaitKey struct{}

// WithHostWait returns ctx whose host-pinned activities (CallOnHost) wait
// at most limit for their host; limit <= 0 keeps DefaultHostWait.
func WithHostWait(ctx workflow.Context, limit time.Duration) workflow.Context {
	if limit <= 0 {
		return ctx
	}
	return workflow.WithValue(ctx, hostWaitKey{}, limit)
}

// HostWaitLimit is the host-wait limit of ctx (WithHostWait), or
// DefaultHostWait.
func HostWaitLimit(ctx workflow.Context) time.Duration {
	if d, ok := ctx.Value(hostWaitKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return DefaultHostWait
}

// hostWait is one wait of a run for its host: since when, until when, and
// the schedule-to-start timeout of the next attempt.
type hostWait struct {
	host    string
	since   time.Time
	limit   time.Duration
	toStart time.Duration
	version workflow.Version
	checked bool
}

// newHostWait starts a wait for host at the current workflow time.
func newHostWait(ctx workflow.Context, host string) *hostWait {
	return &hostWait{host: host, since: workflow.Now(ctx), limit: HostWaitLimit(ctx), toStart: HostWaitTimeout}
}

// absent records that no worker of the host took an attempt: st shows the
// wait and its limit, and the next attempt's timeout doubles (capped, and
// ending at the limit). Past the limit it returns HostUnavailable.
func (w *hostWait) absent(ctx workflow.Context, st *Tracker) error {
	if !w.checked {
		w.version = workflow.GetVersion(ctx, hostWaitChange, workflow.DefaultVersion, 1)
		w.checked = true
	}
	if w.version == workflow.DefaultVersion {
		setHostMessage(st, waitingForHost(w.host))
		return nil
	}
	now := workflow.Now(ctx)
	giveUp := w.since.Add(w.limit)
	if !now.Before(giveUp) {
		err := activities.HostUnavailable(w.host, w.since, w.limit)
		setHostMessage(st, "")
		return err
	}
	setHostMessage(st, w.message(giveUp))
	w.toStart = min(max(2*w.toStart, HostWaitTimeout), max(hostRecheckMax, HostWaitTimeout), giveUp.Sub(now))
	return nil
}

// message is the status line of the wait: since when, and when it ends.
func (w *hostWait) message(giveUp time.Time) string {
	return fmt.Sprintf("%s since %s, gives up at %s (host-wait %s)", waitingForHost(w.host),
		w.since.UTC().Format(activities.HostWaitTimeFormat), giveUp.UTC().Format(activities.HostWaitTimeFormat), w.limit)
}

// setHostMessage sets st's message (st may be nil).
func setHostMessage(st *Tracker, msg string) {
	if st != nil {
		st.Update(func(s *Status) { s.Message = msg })
	}
}
