package workflows

import (
	"fmt"
	"math/bits"

	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Archives of any size. Glacier archives reach 40 TiB: at 64 MiB a range
// that is 655,360 activities, far beyond what one workflow history holds
// (Temporal warns at 10,240 events and stops at 51,200) and a list of
// parts far beyond one payload (2 MiB). An output of more than
// glacierBatchRanges ranges is therefore downloaded by child workflows,
// one per batch of glacierBatchRanges ranges, one after the other; each
// returns a BatchSummary of a few hundred bytes (plus its S3 parts' ETags),
// and the finish verifies and publishes from those summaries.

// glacierBatchRanges is the number of ranges of one batch: a power of two,
// so that a batch of power-of-two MiB ranges is a node of the output's tree
// hash. A batch's history holds about 3-6 events per range.
const glacierBatchRanges = 1024

// S3 multipart limits.
const (
	s3MinPart  = 5 << 20
	s3MaxPart  = 5 << 30
	s3MaxParts = 10000
)

// ChunkSizeFor returns the range size of a retrieval of size bytes to dest:
// chunk when given (0 means choose), checked against S3's multipart limits
// for an s3:// destination (parts of 5 MiB to 5 GiB, at most 10,000 of
// them); when not given, DefaultGlacierChunkSize for a file and for S3 the
// smallest power-of-two MiB (at least 8 MiB) that keeps within 10,000
// parts. Ranges are power-of-two MiB so that Glacier sends a tree hash for
// each; an S3 destination of more than 10,000 × 4 GiB (39 TiB) is refused.
func ChunkSizeFor(dest string, size, chunk int64) (int64, error) {
	loc, err := location.Parse(dest)
	if err != nil {
		return 0, err
	}
	if loc.Scheme != location.S3 {
		if chunk <= 0 {
			chunk = DefaultGlacierChunkSize
		}
		return chunk, nil
	}
	if chunk <= 0 {
		chunk = max(8<<20, int64(1)<<bits.Len64(uint64(max((size+s3MaxParts-1)/s3MaxParts, 1)-1)))
		if chunk > 4<<30 {
			return 0, fmt.Errorf("an output of %d bytes does not fit S3's 10,000 parts in verified ranges of at most 4 GiB; deliver it to a file, or retrieve it in --byte-range parts", size)
		}
	}
	switch {
	case chunk < s3MinPart:
		return 0, fmt.Errorf("chunk size %d MiB is below S3's 5 MiB minimum part size; use 8 MiB or more", chunk>>20)
	case chunk > s3MaxPart:
		return 0, fmt.Errorf("chunk size %d MiB is above S3's 5 GiB maximum part size", chunk>>20)
	case size > 0 && rangeCount(size, chunk) > s3MaxParts:
		return 0, fmt.Errorf("%d bytes in %d MiB chunks is %d parts, more than S3's %d; use a larger --chunk-size (or none)",
			size, chunk>>20, rangeCount(size, chunk), s3MaxParts)
	}
	return chunk, nil
}

// GlacierBatchInput is one batch of a large retrieval.
type GlacierBatchInput struct {
	Fetch rangeFetch `json:"fetch"`
	// First range index and Count of ranges.
	First int `json:"first"`
	Count int `json:"count"`
}

// batchFailuresChange is the workflow.GetVersion change ID of a batch
// passing its activities' failed attempts on to its retrieval (version 1,
// forwardFailures). Batches recorded before it left them unread.
const batchFailuresChange = "glacier-batch-failures"

// GlacierBatchWorkflow downloads ranges First to First+Count-1 of a job's
// output into the prepared destination and returns their summary.
func GlacierBatchWorkflow(ctx workflow.Context, in GlacierBatchInput) (activities.BatchSummary, error) {
	st := &Tracker{ctx: ctx, st: Status{Flow: GlacierFlow, Phase: PhaseDownloading, Started: workflow.Now(ctx)}}
	_ = workflow.SetQueryHandler(ctx, StatusQuery, func() (Status, error) { return st.st, nil })
	var fw *forwarder
	if workflow.GetVersion(ctx, batchFailuresChange, workflow.DefaultVersion, 1) >= 1 {
		fw = forwardFailures(ctx, st)
	}
	parts := make([]activities.RangePart, in.Count)
	if err := in.Fetch.run(ctx, st, parts, in.First); err != nil {
		return activities.BatchSummary{}, err
	}
	if fw != nil {
		fw.drain(ctx)
	}
	return activities.SummarizeBatch(int64(in.First)*in.Fetch.Chunk, parts), nil
}

// forwardFailures receives the ActivityFailingSignal and
// ActivityRecoveredSignal that the worker's activities.ClassifyInterceptor
// sends a batch (the run of its range downloads) for each failed attempt
// that will be retried and each retry that then succeeded: the batch's
// status shows the failure until it recovers, and a bounded few are
// signalled on to the retrieval, whose Tracker shows them in the status
// `starter status` reads and posts the one "keeps failing" warning of the
// run (watchFailures), however many batches see the activity fail.
//
// Every attempt forwarded would be about 4 events in the retrieval's
// history each, which cannot continue as new while batches run: a 40 TiB
// retrieval (640 batches) at a 1.7 % transient failure rate would pass
// Temporal's 51,200 events. A batch therefore forwards (forwardRule) per
// activity type only its first failed attempt (the retrieval shows a
// retry) and its first attempt at or past FailingAlertAttempts (the
// retrieval warns), and a recovery only of an activity whose failure it
// forwarded, once. Bound: at most 2 failures and 2 recoveries, 4 signals,
// per activity type per batch; a batch runs one (DownloadRange), so at
// most 4 signals (about 16 retrieval events) per batch.
//
// The last range's recovery arrives with its completion: drain forwards
// what is left before the batch returns, or it would be lost.
func forwardFailures(ctx workflow.Context, st *Tracker) *forwarder {
	fw := &forwarder{st: st, parent: workflow.GetInfo(ctx).ParentWorkflowExecution,
		failing:   workflow.GetSignalChannel(ctx, activities.ActivityFailingSignal),
		recovered: workflow.GetSignalChannel(ctx, activities.ActivityRecoveredSignal)}
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var f activities.ActivityFailure
			var signal string
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(fw.failing, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &f); signal = activities.ActivityFailingSignal })
			sel.AddReceive(fw.recovered, func(c workflow.ReceiveChannel, _ bool) {
				c.Receive(ctx, &f)
				signal = activities.ActivityRecoveredSignal
			})
			sel.Select(ctx)
			fw.handle(ctx, signal, f)
		}
	})
	return fw
}

// forwarder is a batch's forwarding of attempt signals (forwardFailures).
type forwarder struct {
	st                 *Tracker
	parent             *workflow.Execution
	failing, recovered workflow.ReceiveChannel
	rule               forwardRule
	sending            int // signals to the retrieval not yet delivered
}

// handle shows one received signal in the batch's status and forwards it
// when the rule says so.
func (fw *forwarder) handle(ctx workflow.Context, signal string, f activities.ActivityFailure) {
	var fwd bool
	if signal == activities.ActivityFailingSignal {
		fw.st.showFailure(f)
		fwd = fw.rule.failure(f)
	} else {
		fw.st.recoverFailure(f)
		fwd = fw.rule.recovery(f)
	}
	if !fwd || fw.parent == nil {
		return
	}
	fw.sending++
	defer func() { fw.sending-- }()
	if err := workflow.SignalExternalWorkflow(ctx, fw.parent.ID, fw.parent.RunID, signal, f).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("cannot pass an activity's attempt on to the retrieval", "signal", signal, "error", err)
	}
}

// drain forwards the signals received and not handled yet and waits for
// the ones being delivered.
func (fw *forwarder) drain(ctx workflow.Context) {
	for {
		if workflow.Await(ctx, func() bool { return fw.sending == 0 }) != nil {
			return
		}
		var f activities.ActivityFailure
		switch {
		case fw.failing.ReceiveAsync(&f):
			fw.handle(ctx, activities.ActivityFailingSignal, f)
		case fw.recovered.ReceiveAsync(&f):
			fw.handle(ctx, activities.ActivityRecoveredSignal, f)
		default:
			return
		}
	}
}

// forwardRule decides which of a batch's activity attempts reach its
// retrieval (forwardFailures).
type forwardRule struct {
	first, alerted map[string]bool // activity types whose first, alerting failure went
	pending        map[string]bool // activity type + ID whose failure went, no recovery yet
}

// failure reports whether a failed attempt is forwarded: the first of its
// activity type, or the first at or past FailingAlertAttempts.
func (r *forwardRule) failure(f activities.ActivityFailure) bool {
	if r.first == nil {
		r.first, r.alerted, r.pending = map[string]bool{}, map[string]bool{}, map[string]bool{}
	}
	fwd := false
	if !r.first[f.Activity] {
		r.first[f.Activity], fwd = true, true
	}
	if f.Attempt >= FailingAlertAttempts && !r.alerted[f.Activity] {
		r.alerted[f.Activity], fwd = true, true
	}
	if fwd {
		r.pending[f.Activity+"/"+f.ActivityID] = true
	}
	return fwd
}

// recovery reports whether a recovered retry is forwarded: once, for an
// activity whose failure was.
func (r *forwardRule) recovery(f activities.ActivityFailure) bool {
	k := f.Activity + "/" + f.ActivityID
	if !r.pending[k] {
		return false
	}
	delete(r.pending, k)
	return true
}

// fetchBatches downloads the batches not delivered yet, one child workflow
// each, one after the other (each runs in.Parallel ranges at once). A
// cancelled run waits for the batch to stop.
func (d *download) fetchBatches(ctx workflow.Context, st *Tracker, in GlacierRetrieveInput, job flowdata.GlacierJob, js flowdata.GlacierJobState) error {
	var done int64
	for _, b := range d.batches {
		done += b.Bytes
	}
	st.Update(func(s *Status) { s.BytesTotal, s.BytesDone = js.OutputSize, done })
	total := rangeCount(js.OutputSize, d.chunk)
	fetch := rangeFetch{Job: job, Prepared: *d.prep, Host: d.host, Size: js.OutputSize, Chunk: d.chunk, Parallel: in.Parallel,
		Fsync: in.Fsync, Version: d.version}
	for n := range d.batches {
		if d.batches[n].TreeHash != "" {
			continue
		}
		d.children++
		first := n * glacierBatchRanges
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:          fmt.Sprintf("%s/ranges/%d", workflow.GetInfo(ctx).WorkflowExecution.ID, d.children),
			WaitForCancellation: true,
			StaticSummary:       fmt.Sprintf("download ranges %d-%d of %d", first+1, min(first+glacierBatchRanges, total), total),
		})
		var b activities.BatchSummary
		if err := workflow.ExecuteChildWorkflow(cctx, GlacierBatchName, GlacierBatchInput{Fetch: fetch, First: first,
			Count: min(glacierBatchRanges, total-first)}).Get(ctx, &b); err != nil {
			return err
		}
		d.batches[n] = b
		st.Update(func(s *Status) {
			s.BytesDone += b.Bytes
			s.Message = fmt.Sprintf("batch %d of %d delivered", n+1, len(d.batches))
		})
	}
	return nil
}
