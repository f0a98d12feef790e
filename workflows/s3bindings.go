package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// S3BindingsWorkflowID is the singleton workflow holding every bucket/prefix
// → pipeline binding. `starter s3 setup-events` signals-with-start it,
// `starter s3 unbind` signals it, and every worker's router queries it (with
// a short cache), so a binding reaches all workers without a restart.
const S3BindingsWorkflowID = "vigil/s3-bindings"

// Names of the bindings signals and query.
const (
	BindSignal    = "bind"
	UnbindSignal  = "unbind"
	BindingsQuery = "bindings"
)

// S3Unbind names the binding to remove.
type S3Unbind struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
}

// s3BindingsPerRun bounds history; the workflow then continues as new.
const s3BindingsPerRun = 500

// S3BindingsWorkflow keeps the bindings (one per bucket and prefix; a new
// bind replaces the old one); it never ends on its own.
func S3BindingsWorkflow(ctx workflow.Context, bindings []flowdata.S3Binding) error {
	if err := workflow.SetQueryHandler(ctx, BindingsQuery, func() ([]flowdata.S3Binding, error) { return bindings, nil }); err != nil {
		return err
	}
	markInternal(ctx, InternalS3Bindings)
	bind := workflow.GetSignalChannel(ctx, BindSignal)
	unbind := workflow.GetSignalChannel(ctx, UnbindSignal)
	apply := func(b *flowdata.S3Binding, u *S3Unbind) {
		if b != nil {
			u = &S3Unbind{Bucket: b.Bucket, Prefix: b.Prefix}
		}
		bindings = slices.DeleteFunc(bindings, func(x flowdata.S3Binding) bool { return x.Bucket == u.Bucket && x.Prefix == u.Prefix })
		if b != nil {
			bindings = append(bindings, *b)
		}
	}
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(bind, func(c workflow.ReceiveChannel, _ bool) {
		var b flowdata.S3Binding
		c.Receive(ctx, &b)
		apply(&b, nil)
	})
	sel.AddReceive(unbind, func(c workflow.ReceiveChannel, _ bool) {
		var u S3Unbind
		c.Receive(ctx, &u)
		apply(nil, &u)
	})
	for i := 0; i < s3BindingsPerRun; i++ {
		sel.Select(ctx)
	}
	for sel.HasPending() {
		sel.Select(ctx)
	}
	return workflow.NewContinueAsNewError(ctx, S3BindingsName, bindings)
}

// FindBinding returns the binding covering bucket/key with the longest
// prefix.
func FindBinding(bindings []flowdata.S3Binding, bucket, key string) (flowdata.S3Binding, bool) {
	best, ok := flowdata.S3Binding{}, false
	for _, b := range bindings {
		if b.Matches(bucket, key) && (!ok || len(b.Prefix) > len(best.Prefix)) {
			best, ok = b, true
		}
	}
	return best, ok
}
