package workflows

import (
	"time"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// Defaults of flowdata.DatastorePollPolicy.
const (
	datastorePollInitial = 5 * time.Second
	datastorePollMax     = time.Minute
	datastorePollFastFor = time.Minute
)

// datastorePolicy reads a flowdata.DatastorePollPolicy with defaults.
type datastorePolicy = flowdata.DatastorePollPolicy

// pollInitial is the policy's initial interval.
func pollInitial(p datastorePolicy) time.Duration {
	if p.Initial > 0 {
		return p.Initial.D()
	}
	return min(datastorePollInitial, pollMax(p))
}

func pollMax(p datastorePolicy) time.Duration {
	if p.Max > 0 {
		return p.Max.D()
	}
	return datastorePollMax
}

// nextPoll is the interval after a poll: Initial during the first FastFor
// (most exports of small databases end there); 3 × Initial (capped at Max)
// once the operation is FINALIZING, as its end is near but FINALIZING can
// last minutes on large exports; otherwise the previous interval times
// 1.5, capped at Max. See BENCHMARKS.md "Datastore export" for the
// latency and call counts this gives.
func nextPoll(p datastorePolicy, prev, elapsed time.Duration, state string) time.Duration {
	fast := datastorePollFastFor
	if p.FastFor > 0 {
		fast = p.FastFor.D()
	}
	initial := pollInitial(p)
	switch {
	case elapsed < fast:
		return initial
	case state == flowdata.DatastoreFinalizing:
		return min(3*initial, pollMax(p))
	}
	return min(max(prev*3/2, initial), pollMax(p))
}
