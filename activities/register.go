package activities

import "go.temporal.io/sdk/activity"

// Registered activity names. Workflows schedule activities by these names
// and the worker registers each method under its name, so renaming a Go
// method never renames an activity that running workflows and recorded
// histories refer to. The values are the names earlier releases registered
// (the Go method names of the time): never change one; add a new name for
// an activity whose input or meaning changes.
const (
	RunCommandName         = "RunCommand"
	InitiateJobName        = "InitiateJob"
	DescribeJobName        = "DescribeJob"
	DownloadRangeName      = "DownloadRange"
	HTTPCallName           = "Call"
	PutJobObjectName       = "PutJobObject"
	DeliverObjectName      = "DeliverObject"
	RestoreObjectName      = "RestoreObject"
	HeadRestoreName        = "HeadRestore"
	ProbeName              = "Probe"
	PrepareDestinationName = "PrepareDestination"
	FinishDestinationName  = "FinishDestination"
	AbortDestinationName   = "AbortDestination"
	SlackNotifyName        = "Notify"
	SendJobMessageName     = "SendJobMessage"
	CheckScheduleName      = "CheckSchedule"
	WorkerHostName         = "WorkerHost"
)

// Registry is where activities are registered: a worker, or a test
// environment.
type Registry interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// register registers each function under its name.
func register(r Registry, fns map[string]any) {
	for name, fn := range fns {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

// Register registers the Exec activities under their names.
func (a *Exec) Register(r Registry) { register(r, map[string]any{RunCommandName: a.RunCommand}) }

// Register registers the Glacier activities under their names.
func (a *Glacier) Register(r Registry) {
	register(r, map[string]any{InitiateJobName: a.InitiateJob, DescribeJobName: a.DescribeJob, DownloadRangeName: a.DownloadRange})
}

// Register registers the HTTPJob activities under their names.
func (a *HTTPJob) Register(r Registry) { register(r, map[string]any{HTTPCallName: a.Call}) }

// Register registers the S3 activities under their names.
func (a *S3) Register(r Registry) {
	register(r, map[string]any{PutJobObjectName: a.PutJobObject, DeliverObjectName: a.DeliverObject})
}

// Register registers the S3Restore activities under their names.
func (a *S3Restore) Register(r Registry) {
	register(r, map[string]any{RestoreObjectName: a.RestoreObject, HeadRestoreName: a.HeadRestore})
}

// Register registers the SelfCheck activities under their names.
func (a *SelfCheck) Register(r Registry) { register(r, map[string]any{ProbeName: a.Probe}) }

// Register registers the Sinks activities under their names.
func (a *Sinks) Register(r Registry) {
	register(r, map[string]any{PrepareDestinationName: a.PrepareDestination,
		FinishDestinationName: a.FinishDestination, AbortDestinationName: a.AbortDestination})
}

// Register registers the Slack activities under their names.
func (a *Slack) Register(r Registry) { register(r, map[string]any{SlackNotifyName: a.Notify}) }

// Register registers the SQS activities under their names.
func (a *SQS) Register(r Registry) { register(r, map[string]any{SendJobMessageName: a.SendJobMessage}) }

// Register registers the Temporal activities under their names.
func (a *Temporal) Register(r Registry) {
	register(r, map[string]any{CheckScheduleName: a.CheckSchedule})
}
