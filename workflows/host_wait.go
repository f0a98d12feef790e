package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// DefaultHostWait is how long a run waits for the host it is pinned to
// when its input sets no host-wait limit.
const DefaultHostWait = 24 * time.Hour

// hostRecheckMax caps the schedule-to-start timeout of one attempt while a
// run waits for its host: the wait re-schedules the activity with doubling
// timeouts up to this, so a wait of flowdata.MaxHostWait costs about 175
// attempts of eventsPerHostRecheck events, not the ~1,000 attempts (and
// 5,000 events) of hostRecheckMaxV1's 10 minutes, and an unbounded wait
// can no longer reach Temporal's limits. A host that comes back takes the
// queued activity at once whatever the timeout.
const hostRecheckMax = time.Hour

// hostRecheckMaxV1 is the cap of waits that began before hostWaitMaxChange.
const hostRecheckMaxV1 = 10 * time.Minute

// eventsPerHostRecheck is the history cost of one attempt that no worker
// of the host took: activity scheduled and timed out, a workflow task's
// three events (TestHostRecheckEventsMeasured checks it against a
// recorded history), and a status update's search-attribute upsert.
const eventsPerHostRecheck = 6

// hostWaitMaxChange gates flowdata.MaxHostWait (a longer limit is
// clamped to it) and hostRecheckMax: waits begun before it go on with
// their limit and hostRecheckMaxV1.
const hostWaitMaxChange = "host-wait-max"

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
	// recheckMax caps toStart (hostRecheckMax, or hostRecheckMaxV1 for
	// waits begun before hostWaitMaxChange).
	recheckMax time.Duration
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
		w.recheckMax = hostRecheckMaxV1
		if w.version != workflow.DefaultVersion && workflow.GetVersion(ctx, hostWaitMaxChange, workflow.DefaultVersion, 1) >= 1 {
			w.limit, w.recheckMax = min(w.limit, flowdata.MaxHostWait), hostRecheckMax
		}
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
	w.toStart = min(max(2*w.toStart, HostWaitTimeout), max(w.recheckMax, HostWaitTimeout), giveUp.Sub(now))
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
