package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// download is the state of a ranged download into a destination. It
// outlives a re-initiated job: ranges already delivered for the same output
// are not fetched again.
type download struct {
	prep     *activities.Prepared
	size     int64
	treeHash string
	// parts[i] is range i once delivered (Bytes > 0).
	parts []activities.RangePart
}

// splitRanges cuts size bytes into chunk-sized ranges.
func splitRanges(size, chunk int64) []flowdata.ByteRange {
	var out []flowdata.ByteRange
	for off := int64(0); off < size; off += chunk {
		out = append(out, flowdata.ByteRange{Start: off, End: min(off+chunk, size) - 1})
	}
	return out
}

// maxLostRounds bounds how often ranges lost to a host restart are
// downloaded again before the retrieval fails.
const maxLostRounds = 3

// run downloads the job output in parallel ranges (bounded), then verifies
// and publishes it. Ranges the finish finds lost (written before the
// worker host restarted, and not on disk) are downloaded again.
func (d *download) run(ctx workflow.Context, st *Tracker, in GlacierRetrieveInput, job flowdata.GlacierJob, js flowdata.GlacierJobState) (activities.FinishResult, error) {
	short := workflow.WithActivityOptions(ctx, ShortCallOptions())
	if d.prep == nil || d.size != js.OutputSize || d.treeHash != js.TreeHash {
		var prep activities.Prepared
		if err := workflow.ExecuteActivity(short, activities.PrepareDestinationName, activities.PrepareInput{Dest: in.Destination, Size: js.OutputSize,
			Owner: workflow.GetInfo(ctx).WorkflowExecution.ID}).Get(ctx, &prep); err != nil {
			return activities.FinishResult{}, err
		}
		d.prep, d.size, d.treeHash = &prep, js.OutputSize, js.TreeHash
		d.parts = make([]activities.RangePart, len(splitRanges(js.OutputSize, in.ChunkSize)))
	}
	st.SetPhase(PhaseDownloading)
	finishOpts := ShortCallOptions()
	finishOpts.StartToCloseTimeout = 30 * time.Minute
	for round := 1; ; round++ {
		if err := d.fetchMissing(ctx, st, in, job, js); err != nil {
			return activities.FinishResult{}, err
		}
		var fin activities.FinishResult
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, finishOpts), activities.FinishDestinationName,
			activities.FinishInput{Prepared: *d.prep, Parts: d.parts, TreeHash: js.TreeHash, Fsync: in.Fsync}).Get(ctx, &fin)
		var lost []int
		var appErr *temporal.ApplicationError
		if err == nil || round == maxLostRounds || !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeRangesLost ||
			appErr.Details(&lost) != nil {
			return fin, err
		}
		for _, i := range lost {
			if i >= 0 && i < len(d.parts) {
				d.parts[i] = activities.RangePart{}
			}
		}
		st.Update(func(s *Status) {
			s.Message = fmt.Sprintf("%d range(s) lost in a host restart; downloading them again", len(lost))
		})
	}
}

// fetchMissing downloads the ranges not delivered yet, in parallel
// (bounded by in.Parallel), stopping at the first failure.
func (d *download) fetchMissing(ctx workflow.Context, st *Tracker, in GlacierRetrieveInput, job flowdata.GlacierJob, js flowdata.GlacierJobState) error {
	ranges := splitRanges(js.OutputSize, in.ChunkSize)
	var done int64
	for _, p := range d.parts {
		done += p.Bytes
	}
	st.Update(func(s *Status) { s.BytesTotal, s.BytesDone = js.OutputSize, done })

	transfer := workflow.WithActivityOptions(ctx, TransferOptions())
	sel := workflow.NewSelector(ctx)
	var firstErr error
	pending, next := 0, 0
	launch := func() {
		for next < len(ranges) && pending < in.Parallel && firstErr == nil {
			i := next
			next++
			if d.parts[i].Bytes > 0 {
				continue
			}
			pending++
			f := workflow.ExecuteActivity(transfer, activities.DownloadRangeName, activities.DownloadRangeInput{Job: job, Index: i, Range: ranges[i], Prepared: *d.prep, Fsync: in.Fsync})
			sel.AddFuture(f, func(f workflow.Future) {
				pending--
				var part activities.RangePart
				if err := f.Get(ctx, &part); err != nil {
					if firstErr == nil {
						firstErr = err
					}
					return
				}
				d.parts[i] = part
				st.Update(func(s *Status) { s.BytesDone += part.Bytes })
			})
		}
	}
	launch()
	for pending > 0 {
		sel.Select(ctx)
		launch()
	}
	return firstErr
}
