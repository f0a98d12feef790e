package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// cleanUp removes what a failed or cancelled delivery left behind (the
// partial file on its host, the open multipart upload), in a context that
// survives the run's cancellation, and returns the run's error with what
// was removed: a cancellation stays a cancellation (its details say it),
// a failure keeps its type and its message, followed by the clean-up. A host that does not come back within
// HostWaitTimeout is not waited for: the error then says what is left.
func cleanUp(ctx workflow.Context, st *Tracker, host string, prep activities.Prepared, cause error) error {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	opts := ShortCallOptions()
	opts.RetryPolicy.MaximumAttempts = 5
	opts.Summary = "clean up " + redactSource(prep.Dest.String())
	var ctxOn workflow.Context
	if host != "" {
		ctxOn = OnHost(dctx, host, opts)
	} else {
		ctxOn = workflow.WithActivityOptions(dctx, opts)
	}
	var ar activities.AbortResult
	note := ""
	if err := workflow.ExecuteActivity(ctxOn, activities.AbortDestinationName, prep).Get(dctx, &ar); err != nil {
		note = "clean-up of " + prep.Dest.String() + " failed, remove it by hand: " + err.Error()
		if IsHostAbsent(err) {
			note = "host " + host + " is gone: its partial file of " + prep.Dest.String() + " is left"
		}
	} else {
		note = "clean-up: " + ar.String()
	}
	workflow.GetLogger(ctx).Info("delivery cleaned up after the run ended early", "note", note)
	st.Update(func(s *Status) { s.Message = note })
	if temporal.IsCanceledError(cause) || errors.Is(ctx.Err(), workflow.ErrCanceled) {
		return temporal.NewCanceledError(note)
	}
	errType := "RetrievalFailed"
	var appErr *temporal.ApplicationError
	if errors.As(cause, &appErr) {
		errType = appErr.Type()
	}
	// The cause leads: "Glacier InitiateJob: archive … not found in vault
	// v; clean-up: …", not a generic "delivery failed" (#19).
	return temporal.NewNonRetryableApplicationError(errorText(cause)+"; "+note, errType, cause)
}
