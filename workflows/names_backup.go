package workflows

// Registered workflow type names of the backup flow (see names.go: never
// change one).
const (
	BackupName  = "BackupWorkflow"
	RestoreName = "RestoreWorkflow"
)

// VigilFlow values of the backup flow's runs.
const (
	BackupFlow  = "backup"
	RestoreFlow = "restore"
)

// Phases of the backup flow (besides the common ones).
const (
	PhaseVerifying  = "verifying"
	PhasePublishing = "publishing"
	PhasePruning    = "pruning"
	PhaseResolving  = "resolving"
	PhaseRestoring  = "restoring"
)
