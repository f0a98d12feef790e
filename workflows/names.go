// Package workflows holds vigil's deterministic workflow code and the names
// (task queue, queries, signals, search attributes) that the worker and the
// starter CLI share.
package workflows

import "go.temporal.io/sdk/temporal"

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
)

// FlowKey is the typed key of the VigilFlow search attribute.
var FlowKey = temporal.NewSearchAttributeKeyKeyword(SearchAttrFlow)

// TargetKey is the typed key of the VigilTarget search attribute.
var TargetKey = temporal.NewSearchAttributeKeyKeyword(SearchAttrTarget)

// SearchAttributes lists every custom search attribute vigil needs, by name,
// all of Keyword type. The dev server registers them at start; `starter
// setup` (or an operator) registers them on a production cluster.
var SearchAttributes = []string{SearchAttrFlow, SearchAttrTarget}
