package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
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

	// version of the run's behaviour (retrievalVersion); the fields below
	// are used from version 1 on.
	version workflow.Version
	// host holds a file destination ("" for S3): every step touching the
	// file runs on its task queue.
	host string
	// chunk is the range size in use.
	chunk int64
	// batches, for an output of more than glacierBatchRanges ranges, are
	// the batches delivered by child workflows (TreeHash set once done);
	// parts is then unused.
	batches []activities.BatchSummary
	// children counts the batch workflows started (it names them).
	children int
	// early is set while a file destination prepared before the wait
	// (prepareEarly) waits for the output's size.
	early bool
}

// splitRanges cuts size bytes into chunk-sized ranges.
func splitRanges(size, chunk int64) []flowdata.ByteRange {
	var out []flowdata.ByteRange
	for off := int64(0); off < size; off += chunk {
		out = append(out, flowdata.ByteRange{Start: off, End: min(off+chunk, size) - 1})
	}
	return out
}

// rangeCount is the number of chunk-sized ranges of size bytes.
func rangeCount(size, chunk int64) int { return int((size + chunk - 1) / chunk) }

// nthRange is range i of size bytes cut in chunks.
func nthRange(i int, size, chunk int64) flowdata.ByteRange {
	start := int64(i) * chunk
	return flowdata.ByteRange{Start: start, End: min(start+chunk, size) - 1}
}

// maxLostRounds bounds how often ranges lost to a host restart are
// downloaded again before the retrieval fails.
const maxLostRounds = 3

// call runs one activity: on the destination's host when it has one
// (waiting for that host if it is gone), otherwise on the shared queue.
func (d *download) call(ctx workflow.Context, st *Tracker, opts workflow.ActivityOptions, name string, result any, args ...any) error {
	if d.host != "" {
		return CallOnHost(ctx, st, d.host, opts, name, result, args...)
	}
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), name, args...).Get(ctx, result)
}

// prepare picks the host of a file destination (version 1), sizes the
// ranges and prepares the destination.
func (d *download) prepare(ctx workflow.Context, st *Tracker, in GlacierRetrieveInput, js flowdata.GlacierJobState) error {
	dest, chunk := in.Destination, in.ChunkSize
	if d.version >= 1 {
		var err error
		if dest, err = d.pickHost(ctx, st, dest); err != nil {
			return err
		}
		if chunk, err = ChunkSizeFor(dest, js.OutputSize, in.ChunkSize); err != nil {
			return temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeBadInput, nil)
		}
	}
	if d.early {
		// Prepared before the wait: the ranges grow the partial file.
		d.early = false
		d.prep.Size = js.OutputSize
	} else {
		var prep activities.Prepared
		if err := d.call(ctx, st, summarized(ShortCallOptions(), "prepare "+redactSource(dest)), activities.PrepareDestinationName, &prep, activities.PrepareInput{Dest: dest, Size: js.OutputSize,
			Owner: workflow.GetInfo(ctx).WorkflowExecution.ID}); err != nil {
			return err
		}
		d.prep = &prep
	}
	d.size, d.treeHash, d.chunk = js.OutputSize, js.TreeHash, chunk
	n := rangeCount(js.OutputSize, chunk)
	d.parts, d.batches = nil, nil
	if d.version >= 1 && n > glacierBatchRanges {
		d.batches = make([]activities.BatchSummary, (n+glacierBatchRanges-1)/glacierBatchRanges)
	} else {
		d.parts = make([]activities.RangePart, n)
	}
	return nil
}

// prepareEarly prepares a file destination (on its host) before the wait,
// when the output's size is not known yet; prepare completes it once the
// job is done. An S3 destination is still prepared after the wait: its
// multipart upload would otherwise stay open for hours, long enough for a
// bucket lifecycle rule to abort it, and it is not host-pinned, so its
// activities start eagerly anyway.
func (d *download) prepareEarly(ctx workflow.Context, st *Tracker, in GlacierRetrieveInput) error {
	if d.host == "" {
		return nil
	}
	var prep activities.Prepared
	if err := d.call(ctx, st, summarized(ShortCallOptions(), "prepare "+redactSource(in.Destination)), activities.PrepareDestinationName, &prep, activities.PrepareInput{Dest: in.Destination,
		Owner: workflow.GetInfo(ctx).WorkflowExecution.ID}); err != nil {
		return err
	}
	d.prep, d.early = &prep, true
	return nil
}

// pickHost resolves the host of a file destination: the one its URL names,
// or (file:///path) the worker that answers first. It returns the
// destination URL naming the host and reports the host in the status.
func (d *download) pickHost(ctx workflow.Context, st *Tracker, dest string) (string, error) {
	loc, err := location.Parse(dest)
	if err != nil {
		return "", temporal.NewNonRetryableApplicationError("destination: "+err.Error(), activities.ErrTypeBadInput, nil)
	}
	if loc.Scheme != location.File {
		return dest, nil
	}
	if d.host, err = PickHost(ctx, loc.Host); err != nil {
		return "", err
	}
	st.Update(func(s *Status) {
		if s.Details == nil {
			s.Details = map[string]string{}
		}
		s.Details["host"] = d.host
	})
	return loc.WithHost(d.host).String(), nil
}

// run downloads the job output in parallel ranges (bounded), then verifies
// and publishes it. Ranges the finish finds lost (written before the
// worker host restarted, and not on disk) are downloaded again.
func (d *download) run(ctx workflow.Context, st *Tracker, in GlacierRetrieveInput, job flowdata.GlacierJob, js flowdata.GlacierJobState) (activities.FinishResult, error) {
	if d.prep == nil || d.early || d.size != js.OutputSize || d.treeHash != js.TreeHash {
		if err := d.prepare(ctx, st, in, js); err != nil {
			return activities.FinishResult{}, err
		}
	}
	st.SetPhase(PhaseDownloading)
	finishOpts := finishOptions(js.OutputSize)
	for round := 1; ; round++ {
		var err error
		if d.batches != nil {
			err = d.fetchBatches(ctx, st, in, job, js)
		} else {
			err = d.fetchMissing(ctx, st, in, job, js)
		}
		if err != nil {
			if round == maxLostRounds {
				return activities.FinishResult{}, err
			}
			if again, serr := d.startOver(ctx, st, js, err); serr != nil {
				return activities.FinishResult{}, serr
			} else if !again {
				return activities.FinishResult{}, err
			}
			continue
		}
		// Prepared is read after the fetch: a start over replaces it.
		fi := activities.FinishInput{Prepared: *d.prep, TreeHash: js.TreeHash, Fsync: in.Fsync, Verify: in.Verify,
			Parts: d.parts, Batches: d.batches}
		var fin activities.FinishResult
		err = d.call(ctx, st, summarized(finishOpts, "finish "+redactSource(fi.Prepared.Dest.String())), activities.FinishDestinationName, &fin, fi)
		if err != nil && round < maxLostRounds {
			if again, serr := d.startOver(ctx, st, js, err); serr != nil {
				return fin, serr
			} else if again {
				continue
			}
		}
		var lost []int
		var appErr *temporal.ApplicationError
		if err == nil || round == maxLostRounds || !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeRangesLost ||
			appErr.Details(&lost) != nil {
			return fin, err
		}
		for _, i := range lost {
			switch {
			case d.batches != nil && i >= 0 && i < len(d.batches):
				d.batches[i] = activities.BatchSummary{}
			case i >= 0 && i < len(d.parts):
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
	var done int64
	for _, p := range d.parts {
		done += p.Bytes
	}
	st.Update(func(s *Status) { s.BytesTotal, s.BytesDone = js.OutputSize, done })
	chunk := in.ChunkSize
	if d.version >= 1 {
		chunk = d.chunk
	}
	return rangeFetch{Job: job, Prepared: *d.prep, Host: d.host, Size: js.OutputSize, Chunk: chunk, Parallel: in.Parallel,
		Fsync: in.Fsync, Version: d.version}.run(ctx, st, d.parts, 0)
}

// rangeFetch is a set of consecutive ranges to download into a prepared
// destination: all of a small output, or one batch of a large one.
type rangeFetch struct {
	Job      flowdata.GlacierJob `json:"job"`
	Prepared activities.Prepared `json:"prepared"`
	// Host of a file destination ("" for S3).
	Host     string `json:"host,omitempty"`
	Size     int64  `json:"size"`
	Chunk    int64  `json:"chunk"`
	Parallel int    `json:"parallel"`
	Fsync    bool   `json:"fsync,omitempty"`
	// Version of the run's behaviour (retrievalVersion).
	Version workflow.Version `json:"version"`
}

// rangeHostWaitChange is the workflow.GetVersion change ID of ending a
// range download's wait for its host when a range succeeds (version 1): a
// later absence then starts a new wait with its own limit. Runs recorded
// before it (DefaultVersion) count every absence from the first one.
const rangeHostWaitChange = "glacier-range-host-wait-reset"

// transferOptions of one range: from version 1 a cancelled run waits for
// its range downloads to stop before it removes what they wrote, and the
// shorter heartbeat timeout makes them notice sooner.
func (r rangeFetch) transferOptions() workflow.ActivityOptions {
	opts := TransferOptions()
	if r.Version >= 1 {
		opts.WaitForCancellation = true
		opts.HeartbeatTimeout = 20 * time.Second
	}
	return opts
}

// run downloads the ranges first, first+1, ... whose parts entry is empty
// (parts[i] is range first+i), in parallel (bounded), stopping at the first
// failure. A range that no worker of the destination host takes is queued
// again, and the status says the run waits for the host.
func (r rangeFetch) run(ctx workflow.Context, st *Tracker, parts []activities.RangePart, first int) error {
	tctx := workflow.WithActivityOptions(ctx, r.transferOptions())
	if r.Host != "" {
		tctx = OnHost(ctx, r.Host, r.transferOptions())
	}
	sel := workflow.NewSelector(ctx)
	var firstErr error
	pending, next := 0, 0
	var again []int
	var hw *hostWait // the wait for r.Host, from its first absence since a range succeeded
	launch := func() {
		for (next < len(parts) || len(again) > 0) && pending < r.Parallel && firstErr == nil {
			var i int
			if len(again) > 0 {
				i, again = again[0], again[1:]
			} else {
				i = next
				next++
			}
			if parts[i].Bytes > 0 {
				continue
			}
			pending++
			f := workflow.ExecuteActivity(Summarized(tctx, fmt.Sprintf("download range %d/%d", first+i+1, first+len(parts))), activities.DownloadRangeName, activities.DownloadRangeInput{Job: r.Job, Index: first + i,
				Range: nthRange(first+i, r.Size, r.Chunk), Prepared: r.Prepared, Fsync: r.Fsync})
			sel.AddFuture(f, func(f workflow.Future) {
				pending--
				var part activities.RangePart
				err := f.Get(ctx, &part)
				switch {
				case err != nil && r.Host != "" && IsHostAbsent(err):
					if hw == nil {
						hw = newHostWait(ctx, r.Host)
					}
					if herr := hw.absent(ctx, st); herr != nil && firstErr == nil {
						firstErr = herr
					} else if herr == nil {
						again = append(again, i)
					}
				case err != nil:
					if firstErr == nil {
						firstErr = err
					}
				default:
					parts[i] = part
					if hw != nil && workflow.GetVersion(ctx, rangeHostWaitChange, workflow.DefaultVersion, 1) >= 1 {
						hw = nil // the host is back: a later absence is a new wait
					}
					st.Update(func(s *Status) {
						s.BytesDone += part.Bytes
						if IsWaitingForHost(s.Message, r.Host) {
							s.Message = ""
						}
					})
				}
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
