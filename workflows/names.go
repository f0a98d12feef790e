// Package workflows holds vigil's deterministic workflow code and the names
// (task queue, queries, signals, search attributes) that the worker and the
// starter CLI share.
package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// TaskQueue is the default task queue the worker polls and the starter uses.
const TaskQueue = "vigil"

// StatusQuery is the name of the query every vigil workflow answers with a
// Status value; `starter status` and `starter wait` render it.
const StatusQuery = "status"

// Search attribute names registered by the dev server and set by every flow.
const (
	// SearchAttrFlow names the flow a run belongs to (e.g. "glacier", "batch").
	SearchAttrFlow = "VigilFlow"
	// SearchAttrTarget names what the run acts on (vault, bucket, project...).
	SearchAttrTarget = "VigilTarget"
	// SearchAttrArchive holds a Glacier retrieval's full archive id (its
	// workflow ID holds only a prefix and a digest of it).
	SearchAttrArchive = "VigilArchiveID"
	// SearchAttrInternal is set on vigil's own bookkeeping workflows (to
	// InternalSchedWatch, InternalRouterQueues, InternalS3Bindings) and
	// on no flow run: the query "VigilInternal IS NULL" hides them.
	SearchAttrInternal = "VigilInternal"
)

// VigilInternal values: which bookkeeping a workflow does.
const (
	InternalSchedWatch   = "schedwatch"
	InternalRouterQueues = "router-queues"
	InternalS3Bindings   = "s3-bindings"
)

// FlowKey is the typed key of the VigilFlow search attribute.
var FlowKey = temporal.NewSearchAttributeKeyKeyword(SearchAttrFlow)

// TargetKey is the typed key of the VigilTarget search attribute.
var TargetKey = temporal.NewSearchAttributeKeyKeyword(SearchAttrTarget)

// ArchiveKey is the typed key of the VigilArchiveID search attribute.
var ArchiveKey = temporal.NewSearchAttributeKeyKeyword(SearchAttrArchive)

// InternalKey is the typed key of the VigilInternal search attribute.
var InternalKey = temporal.NewSearchAttributeKeyKeyword(SearchAttrInternal)

// SearchAttributes lists every custom search attribute vigil needs, by name,
// all of Keyword type. The dev server registers them at start; `starter
// setup` (or an operator) registers them on a production cluster.
var SearchAttributes = []string{SearchAttrFlow, SearchAttrTarget, SearchAttrArchive, SearchAttrInternal}

// Registered workflow type names. Starters, schedules, continue-as-new and
// recorded histories refer to a workflow by this name, so renaming a Go
// function never renames a workflow type. The values are the names earlier
// releases registered (the Go function names of the time): never change one.
const (
	BatchJobName        = "BatchJobWorkflow"
	GlacierRetrieveName = "GlacierRetrieveWorkflow"
	RouterQueuesName    = "RouterQueuesWorkflow"
	S3RestoreName       = "S3RestoreWorkflow"
	ScheduleWatchName   = "ScheduleWatchWorkflow"
	SelfCheckName       = "SelfCheckWorkflow"
)

// Registry is where workflows are registered: a worker, or a test
// environment.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers each workflow function under its name (a map from
// the *Name constants above to functions), with its versioning behaviour
// (Versioning).
func Register(r Registry, fns map[string]any) {
	for name, fn := range fns {
		r.RegisterWorkflowWithOptions(fn, registerOptions(name))
	}
}

// Application error types of whole runs (the activities' own types are in
// activities/errors.go).
const (
	// ErrTypeJobFailed: a batch job failed for good (its last attempt's
	// error is the cause).
	ErrTypeJobFailed = "JobFailed"
	// ErrTypeDeadLettered: an S3 object failed for good and was moved to
	// its pipeline's dead-letter location.
	ErrTypeDeadLettered = "DeadLettered"
)
