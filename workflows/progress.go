package workflows

import "github.com/vigilops/vigil/activities"

// heartbeatPhases maps each activity whose heartbeat details are an
// activities.UploadProgress to the phase its run is in while it runs.
//
// Why progress lives in heartbeats and not in the status query alone: a
// backup's upload or a restore's download is one long activity, and a
// workflow sees nothing of an activity until it ends. The activity's
// heartbeat details are kept by the server on the pending activity
// (DescribeWorkflowExecution), at no history cost; a progress signal from
// the activity would add an event per update to the run's history. So the
// status a reader shows is the query's answer with the pending transfer's
// last heartbeat merged in (MergeHeartbeat), as `starter status` and
// `starter wait` do. activities/backup_progress.go says when heartbeats are
// sent.
var heartbeatPhases = map[string]string{
	activities.BackupUploadName:  PhaseUploading,
	activities.BackupVerifyName:  PhaseVerifying,
	activities.RestoreStreamName: PhaseRestoring,
}

// HeartbeatsProgress reports whether activityType heartbeats an
// activities.UploadProgress that MergeHeartbeat understands.
func HeartbeatsProgress(activityType string) bool {
	_, ok := heartbeatPhases[activityType]
	return ok
}

// MergeHeartbeat returns s with the progress p that a pending activity of
// activityType heartbeated: bytes done (and expected, when known) replace
// the status's while the run is in that activity's phase. Any other
// activity, or a run in another phase, leaves s as it is.
func (s Status) MergeHeartbeat(activityType string, p activities.UploadProgress) Status {
	if phase, ok := heartbeatPhases[activityType]; !ok || s.Phase != phase {
		return s
	}
	s.BytesDone = p.Done
	if p.Total > 0 {
		s.BytesTotal = p.Total
	}
	return s
}
