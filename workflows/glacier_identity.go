package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// destinationIdentityChange is the workflow.GetVersion change ID of
// starting a file destination over when it was replaced (version 1): a
// range or the finish that finds the partial file gone or with another
// identity (a new worker on the same host with a fresh disk) fails with
// DestinationReplaced; the run then prepares the destination again and
// downloads every range again, instead of failing. The version is asked
// only when that happens, so histories that never saw the error replay
// unchanged.
const destinationIdentityChange = "glacier-destination-identity"

// finishHeartbeatTimeout is the heartbeat timeout of FinishDestination: it
// heartbeats while it re-reads the file, so a finish whose worker died is
// retried in a minute, whatever its start-to-close timeout.
const finishHeartbeatTimeout = time.Minute

// finishMinRate is the slowest re-read FinishDestination's start-to-close
// timeout allows for (--verify full, or an unaligned file's whole tree
// hash, reads every byte again): a fixed 30 minutes could never finish a
// file of more than about 90 GiB at 50 MiB/s.
const finishMinRate = 50 << 20 // bytes per second

// finishOptions are the activity options of FinishDestination for an
// output of size bytes: 30 minutes plus the time to read it at
// finishMinRate. A timeout is not part of the command replay compares, so
// the formula can change under running workflows.
func finishOptions(size int64) workflow.ActivityOptions {
	opts := ShortCallOptions()
	opts.StartToCloseTimeout = 30*time.Minute + time.Duration(size/finishMinRate)*time.Second
	opts.HeartbeatTimeout = finishHeartbeatTimeout
	return opts
}

// startOver handles a DestinationReplaced error of a round: from version
// 1 it prepares the destination again (a new partial file and identity, on
// the same host) and forgets every delivered range, and reports true; the
// caller then runs the round again. Earlier runs report false and fail.
func (d *download) startOver(ctx workflow.Context, st *Tracker, js flowdata.GlacierJobState, err error) (bool, error) {
	if !activities.IsDestinationReplaced(err) || d.prep == nil {
		return false, nil
	}
	if workflow.GetVersion(ctx, destinationIdentityChange, workflow.DefaultVersion, 1) < 1 {
		return false, nil
	}
	dest := d.prep.Dest.String()
	st.Update(func(s *Status) {
		s.Message = "the destination file was replaced (a new disk on its host?); downloading every range again"
	})
	var prep activities.Prepared
	if err := d.call(ctx, st, summarized(ShortCallOptions(), "prepare again "+redactSource(dest)), activities.PrepareDestinationName, &prep,
		activities.PrepareInput{Dest: dest, Size: js.OutputSize, Owner: workflow.GetInfo(ctx).WorkflowExecution.ID}); err != nil {
		return false, err
	}
	d.prep = &prep
	if d.batches != nil {
		d.batches = make([]activities.BatchSummary, len(d.batches))
	} else {
		d.parts = make([]activities.RangePart, len(d.parts))
	}
	st.Update(func(s *Status) { s.BytesDone = 0 })
	return true, nil
}
