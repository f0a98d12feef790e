package workflows

import "go.temporal.io/sdk/workflow"

// Versioning is the Worker Versioning behaviour of each registered workflow
// type (ARCHITECTURE.md "Rollouts and Worker Versioning"). It only matters
// to a worker started with a deployment name (worker --deployment-name);
// an unversioned worker ignores it, and nothing a workflow does depends on
// it.
//
//   - Pinned: the runs that wait for hours or days (a Glacier job, an S3
//     restore, a Datastore operation) or move much data (backup, restore),
//     and the batch job: each run stays on the build that started it, so a
//     new build never replays a half-done run, and the old build drains.
//   - AutoUpgrade: the short per-object runs and the self-check, and the
//     long-lived internal workflows (router queues, S3 bindings, schedule
//     watchers, sweeps): they hold no long wait of their own and move to the
//     current build at their next workflow task, so also when they continue
//     as new. Pinning them would keep every old build busy until their next
//     continue-as-new, which can be months away.
var Versioning = map[string]workflow.VersioningBehavior{
	GlacierRetrieveName: workflow.VersioningBehaviorPinned,
	GlacierBatchName:    workflow.VersioningBehaviorPinned,
	S3RestoreName:       workflow.VersioningBehaviorPinned,
	BackupName:          workflow.VersioningBehaviorPinned,
	RestoreName:         workflow.VersioningBehaviorPinned,
	DatastoreExportName: workflow.VersioningBehaviorPinned,
	DatastoreImportName: workflow.VersioningBehaviorPinned,
	BatchJobName:        workflow.VersioningBehaviorPinned,

	S3ObjectName:      workflow.VersioningBehaviorAutoUpgrade,
	SelfCheckName:     workflow.VersioningBehaviorAutoUpgrade,
	S3SweepName:       workflow.VersioningBehaviorAutoUpgrade,
	S3BindingsName:    workflow.VersioningBehaviorAutoUpgrade,
	RouterQueuesName:  workflow.VersioningBehaviorAutoUpgrade,
	ScheduleWatchName: workflow.VersioningBehaviorAutoUpgrade,
}

// registerOptions are the options a workflow type is registered with: its
// name and its versioning behaviour (unspecified for a name missing from
// Versioning, which a versioned worker refuses at registration).
func registerOptions(name string) workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: name, VersioningBehavior: Versioning[name]}
}
