package workflows

import (
	"errors"
	"maps"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// GlacierResume is what a Glacier retrieval that continues as new in its
// wait carries: the initiated job (never initiated again), the prepared
// destination and the counts so far.
type GlacierResume struct {
	flowdata.WaitResume
	// Job is the awaited job's latest known state.
	Job         flowdata.GlacierJobState `json:"job"`
	Initiations int                      `json:"initiations"`
	Downloading flowdata.Duration        `json:"downloading,omitempty"`
	// Prepared is the file destination prepared before the wait, if any.
	Prepared *activities.Prepared `json:"prepared,omitempty"`
	Early    bool                 `json:"early,omitempty"`
}

// S3RestoreResume is what an S3 restore that continues as new in its wait
// carries: the restore is already requested.
type S3RestoreResume struct {
	flowdata.WaitResume
	// State is the restore's latest known state.
	State flowdata.S3RestoreState `json:"state"`
}

// waitCarry is what a wait continuing as new hands back to its flow.
type waitCarry struct {
	bounded bool
	// polls and next: the flow's total polls and the interval to the next.
	polls int
	next  time.Duration
}

// resumeFrom starts a carry from a resumed run's state (r may be zero).
func resumeFrom(ctx workflow.Context, r flowdata.WaitResume) waitCarry {
	return waitCarry{bounded: waitBounded(ctx), polls: r.Polls, next: r.Next.D()}
}

// first is the first interval of a wait: the carried one when resumed.
func (c waitCarry) first(plan time.Duration) time.Duration {
	if c.next > 0 {
		return c.next
	}
	return plan
}

// resumeState is the state a run continuing as new hands on: when the
// first run started, the runs and polls so far, the next interval and
// the status the status query shows.
func resumeState(st *Tracker, started time.Time, runs int, c waitCarry) flowdata.WaitResume {
	s := st.Status()
	return flowdata.WaitResume{Started: started, Runs: runs + 1, Polls: c.polls, Next: flowdata.Duration(c.next),
		Status: flowdata.WaitStatus{LastPoll: s.LastPoll, LastError: s.LastError, Message: s.Message,
			BytesDone: s.BytesDone, BytesTotal: s.BytesTotal, Details: maps.Clone(s.Details)}}
}

// restoreStatus shows a continued run's carried status again, so the
// status query answers as it did before the boundary.
func restoreStatus(st *Tracker, r flowdata.WaitResume) {
	st.Update(func(s *Status) {
		s.Started, s.LastPoll, s.LastError, s.Message = r.Started, r.Status.LastPoll, r.Status.LastError, r.Status.Message
		s.BytesDone, s.BytesTotal = r.Status.BytesDone, r.Status.BytesTotal
		if s.Details == nil {
			s.Details = map[string]string{}
		}
		// Copying one map into another gives the same map whatever the
		// order of iteration.
		maps.Copy(s.Details, r.Status.Details) //workflowcheck:ignore
	})
}

// continuesAsNew tells whether err ends the run to continue it as new.
func continuesAsNew(err error) bool {
	var can *workflow.ContinueAsNewError
	return errors.As(err, &can)
}
