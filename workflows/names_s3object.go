package workflows

// Registered workflow type names of S3 reprocessing (see names.go: never
// change a value).
const (
	S3ObjectName   = "S3ObjectWorkflow"
	S3SweepName    = "S3SweepWorkflow"
	S3BindingsName = "S3BindingsWorkflow"
)

// VigilFlow values of S3 reprocessing runs.
const (
	S3ObjectFlow = "s3-object"
	S3SweepFlow  = "s3-sweep"
)
