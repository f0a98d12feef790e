package workflows

// GlacierBatchName is the registered type of GlacierBatchWorkflow, the
// child workflow that downloads one batch of a large retrieval's ranges.
const GlacierBatchName = "GlacierBatchWorkflow"
