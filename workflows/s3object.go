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

// Outcomes of an S3Object run.
const (
	OutcomeProcessed          = "processed"
	OutcomeAlreadyProcessed   = "already processed"
	OutcomeAlreadyDeadLetter  = "already dead-lettered"
	OutcomeSuperseded         = "superseded"
	OutcomeGone               = "gone"
	OutcomeDeadLettered       = "dead-lettered"
	s3ObjectProcessingPhase   = PhaseRunning
	s3ObjectArchivingPhase    = PhaseUploading
	s3ObjectDeadLetterMessage = "processing failed for good; moved to the dead-letter location"
)

// S3ObjectResult reports a run.
type S3ObjectResult struct {
	// Outcome is one of the Outcome* constants.
	Outcome string `json:"outcome"`
	// Location is where the object is now (archive or dead letter).
	Location string `json:"location,omitempty"`
	// Summary is the processor's one-line summary.
	Summary string `json:"summary,omitempty"`
	// SourceKept: archived, but the source key was not deleted because a
	// newer version replaced it after the copy (that version has its own
	// run).
	SourceKept bool `json:"sourceKept,omitempty"`
}

// S3ObjectWorkflow takes one object version through its pipeline: check it
// still has the run's ETag, process it, archive it (copy, verify, delete
// the source). When the processor fails for good (retries exhausted, or a
// permanent error), the object moves to the dead-letter location with the
// error in its metadata, Slack gets an alert, and the run fails. Its ID is
// flowdata.S3ObjectWorkflowID; see activities.S3ObjectStartOptions for the
// ID policies that make the processor run once per version.
func S3ObjectWorkflow(ctx workflow.Context, in flowdata.S3ObjectInput) (S3ObjectResult, error) {
	o, p := in.Object, in.Pipeline
	st := NewTracker(ctx, S3ObjectFlow, o.Bucket+"/"+o.Key)
	st.Update(func(s *Status) {
		s.Details = map[string]string{"etag": o.ETag, "pipeline": p.Name, "source": in.Source}
	})
	short := workflow.WithActivityOptions(ctx, ShortCallOptions())
	var chk activities.S3ObjectCheck
	if err := workflow.ExecuteActivity(Summarized(short, "check "+objectURL(o)), activities.CheckObjectName, activities.S3ObjectCheckInput{
		Object: o, Archive: p.Archive, DeadLetter: p.DeadLetter}).Get(ctx, &chk); err != nil {
		if s3ObjectFailureVersion(ctx) >= 1 {
			return deadLetter(ctx, st, o, p, stepError("check", err))
		}
		st.Fail(err)
		return S3ObjectResult{}, err
	}
	done := func(outcome, loc string) (S3ObjectResult, error) {
		st.Update(func(s *Status) { s.Message = outcome })
		st.SetPhase(PhaseDone)
		return S3ObjectResult{Outcome: outcome, Location: loc}, nil
	}
	switch chk.State {
	case activities.ObjectSuperseded:
		return done(OutcomeSuperseded, "")
	case activities.ObjectProcessed:
		return done(OutcomeAlreadyProcessed, chk.Location)
	case activities.ObjectDeadLettered:
		return done(OutcomeAlreadyDeadLetter, chk.Location)
	case activities.ObjectGone:
		return done(OutcomeGone, "")
	}
	if o.ETag == "" {
		o.ETag = chk.ETag
	}
	o.Size = chk.Size
	st.Update(func(s *Status) { s.BytesTotal = chk.Size })

	st.SetPhase(s3ObjectProcessingPhase)
	out, err := runProcessor(ctx, st, o, p)
	if isObjectChanged(err) {
		return done(OutcomeSuperseded, "")
	}
	if err != nil {
		return deadLetter(ctx, st, o, p, err)
	}
	st.SetPhase(s3ObjectArchivingPhase)
	b, k := p.Archive.Resolve(o.Bucket, o.Key, flowdata.DefaultArchivePrefix)
	var mv activities.MoveObjectResult
	if err := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, moveOptions()), "archive "+objectURL(o)+" → s3://"+b+"/"+k), activities.MoveObjectName,
		activities.MoveObjectInput{Object: o, DestBucket: b, DestKey: k}).Get(ctx, &mv); err != nil {
		if isObjectChanged(err) {
			// Replaced after processing: this version is done, the new
			// one has its own run.
			return done(OutcomeSuperseded, "")
		}
		if s3ObjectFailureVersion(ctx) >= 1 {
			// MoveObject removed a copy it could not verify: the object
			// goes to the dead letter like a failed processing.
			return deadLetter(ctx, st, o, p, stepError("archive", err))
		}
		st.Fail(err)
		return S3ObjectResult{Outcome: OutcomeProcessed, Summary: out.Summary}, err
	}
	st.Update(func(s *Status) {
		s.Message = "archived to " + mv.Location
		if mv.SourceKept {
			s.Message += "; source kept: a newer version replaced it after the copy"
		}
	})
	st.SetPhase(PhaseDone)
	return S3ObjectResult{Outcome: OutcomeProcessed, Location: mv.Location, Summary: out.Summary, SourceKept: mv.SourceKept}, nil
}

// s3ObjectFailureChange is the workflow.GetVersion change ID of sending an
// object whose check or archive move failed for good to the dead letter
// (with the error, source removed, one alert) like a failed processing
// (version 1); runs before it failed with the object left in place and
// no alert.
const s3ObjectFailureChange = "s3object-failure-dead-letter"

// s3ObjectFailureVersion is the run's version of s3ObjectFailureChange.
func s3ObjectFailureVersion(ctx workflow.Context) workflow.Version {
	return workflow.GetVersion(ctx, s3ObjectFailureChange, workflow.DefaultVersion, 1)
}

// runProcessor runs the pipeline's processor with its retry policy. An exec
// processor downloads, runs and cleans up on one worker host: its exec.host,
// else whichever worker answers (named in the status), waiting for that
// host at most exec.hostWait.
func runProcessor(ctx workflow.Context, st *Tracker, o flowdata.S3ObjectRef, p flowdata.Pipeline) (activities.JobOutput, error) {
	var out activities.JobOutput
	opts := processorOptions(p)
	switch p.Processor.Kind {
	case flowdata.ProcessorNone:
		return activities.JobOutput{Summary: "archive only"}, nil
	case flowdata.ProcessorExec:
		ctx := WithHostWait(ctx, p.Processor.Exec.HostWait.D())
		host, err := pinnedHost(ctx, p.Processor.Exec.Host, "")
		if err == nil {
			host, err = PickHost(ctx, host)
		}
		if err != nil {
			return out, err
		}
		st.Update(func(s *Status) { s.Details["host"] = host })
		out, err = downloadAndRun(ctx, st, host, o, p, opts)
		if activities.IsDestinationReplaced(err) && workflow.GetVersion(ctx, s3ObjectRedownloadChange, workflow.DefaultVersion, 1) >= 1 {
			// The local copy was lost or cut short (a reboot, a replaced
			// disk): download it once more rather than dead-letter an
			// object nothing was wrong with.
			workflow.GetLogger(ctx).Warn("local copy replaced; downloading again", "host", host, "error", err)
			out, err = downloadAndRun(ctx, st, host, o, p, opts)
		}
		return out, err
	default:
		err := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, opts), "run "+p.Processor.Kind+" processor on "+objectURL(o)), activities.ProcessObjectName,
			activities.ProcessObjectInput{Object: o, Processor: p.Processor}).Get(ctx, &out)
		return out, err
	}
}

// s3ObjectRedownloadChange is the workflow.GetVersion change ID of
// downloading an exec processor's object once more when its command finds
// the local copy gone or not the one downloaded (DestinationReplaced,
// version 1); runs before it dead-lettered the object.
const s3ObjectRedownloadChange = "s3object-exec-redownload"

// downloadAndRun makes the exec processor's local copy on host, runs the
// command on it (with opts, the pipeline's retry policy) and removes the
// copy.
func downloadAndRun(ctx workflow.Context, st *Tracker, host string, o flowdata.S3ObjectRef, p flowdata.Pipeline, opts workflow.ActivityOptions) (activities.JobOutput, error) {
	var out activities.JobOutput
	var dl activities.DownloadResult
	if err := CallOnHost(ctx, st, host, summarized(TransferOptions(), "download "+objectURL(o)+" to "+host), activities.DownloadObjectName, &dl, activities.DownloadInput{Object: o}); err != nil {
		return out, err
	}
	defer func() {
		// Clean up even when the run is being cancelled.
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		if err := CallOnHost(dctx, nil, host, summarized(ShortCallOptions(), "remove local copy of "+objectURL(o)+" on "+host), activities.RemoveDownloadName, nil, dl.Path); err != nil {
			workflow.GetLogger(ctx).Warn("removing the local copy failed", "host", host, "path", dl.Path, "error", err)
		}
	}()
	opts.StartToCloseTimeout = orDefault(p.Processor.Exec.Timeout.D(), 10*time.Minute) + time.Minute
	opts.HeartbeatTimeout = 10 * activities.ExecHeartbeatInterval
	opts.Summary = "run exec processor on " + objectURL(o)
	err := CallOnHost(ctx, st, host, opts, activities.RunObjectCommandName, &out,
		activities.RunObjectCommandInput{Object: o, Path: dl.Path, Exec: *p.Processor.Exec, Size: dl.Bytes, Token: dl.Token})
	return out, err
}

// processorOptions are the processor's activity options: the pipeline's
// retry policy, 15 minutes an attempt.
func processorOptions(p flowdata.Pipeline) workflow.ActivityOptions {
	r := effectiveRetry(p.Retry)
	return workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        r.InitialInterval.D(),
			BackoffCoefficient:     r.BackoffCoefficient,
			MaximumInterval:        r.MaximumInterval.D(),
			MaximumAttempts:        int32(r.MaximumAttempts),
			NonRetryableErrorTypes: []string{activities.ErrTypeProcessorRejected, activities.ErrTypeObjectChanged},
		},
	}
}

// moveOptions suit a server-side copy, a HEAD and a DELETE. The move
// heartbeats while S3 copies and after each part of a copy in parts, so a
// dead worker is noticed within HeartbeatTimeout; StartToCloseTimeout only
// bounds a copy that still makes progress (an object of hundreds of GiB
// copied in parts takes far longer than a single CopyObject).
func moveOptions() workflow.ActivityOptions {
	o := ShortCallOptions()
	o.StartToCloseTimeout = 4 * time.Hour
	o.HeartbeatTimeout = time.Minute
	return o
}

// deadLetter moves the object to the dead-letter location with the error
// in its metadata, alerts Slack, and fails the run.
func deadLetter(ctx workflow.Context, st *Tracker, o flowdata.S3ObjectRef, p flowdata.Pipeline, procErr error) (S3ObjectResult, error) {
	msg := errorText(procErr)
	b, k := p.DeadLetter.Resolve(o.Bucket, o.Key, flowdata.DefaultDeadLetterPrefix)
	var mv activities.MoveObjectResult
	moveErr := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, moveOptions()), "dead-letter "+objectURL(o)+" → s3://"+b+"/"+k), activities.MoveObjectName,
		activities.MoveObjectInput{Object: o, DestBucket: b, DestKey: k, Error: msg}).Get(ctx, &mv)
	if isObjectChanged(moveErr) {
		st.SetPhase(PhaseDone)
		return S3ObjectResult{Outcome: OutcomeSuperseded}, nil
	}
	where := mv.Location
	if moveErr != nil {
		where = "not moved: " + errorText(moveErr)
	}
	notify(ctx, activities.SlackMessage{
		WebhookEnv: p.NotifyOnFailure,
		Text:       fmt.Sprintf("vigil: s3://%s/%s failed pipeline %s", o.Bucket, o.Key, p.Name),
		Color:      activities.SlackDanger,
		Title:      fmt.Sprintf("Object s3://%s/%s failed pipeline %s", o.Bucket, o.Key, p.Name),
		Fields: []activities.SlackField{
			{Title: "Processor", Value: p.Processor.Kind, Short: true},
			{Title: "Dead letter", Value: where, Short: true},
			{Title: "Error", Value: msg},
		},
		Footer: "starter status " + workflow.GetInfo(ctx).WorkflowExecution.ID,
	})
	err := temporal.NewNonRetryableApplicationError(s3ObjectDeadLetterMessage+": "+msg, ErrTypeDeadLettered, procErr)
	if moveErr != nil {
		err = temporal.NewNonRetryableApplicationError("processing failed and the dead-letter move failed: "+errorText(moveErr), "DeadLetterFailed", procErr)
	}
	st.Fail(err)
	return S3ObjectResult{Outcome: OutcomeDeadLettered, Location: mv.Location}, err
}

// stepError is err, a failure of the run's step, with the step named in
// its message and its type kept.
func stepError(step string, err error) error {
	errType := "S3ObjectFailed"
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() != "" {
		errType = appErr.Type()
	}
	return temporal.NewNonRetryableApplicationError(step+": "+errorText(err), errType, err)
}

func isObjectChanged(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeObjectChanged
}

// objectURL names o in summaries.
func objectURL(o flowdata.S3ObjectRef) string { return "s3://" + o.Bucket + "/" + o.Key }
