package workflows

import (
	"testing"

	"github.com/vigilops/vigil/activities"
)

// TestMergeHeartbeat: a transfer's heartbeat replaces bytes only while
// the run is in that transfer's phase, and only for transfer activities.
func TestMergeHeartbeat(t *testing.T) {
	up := Status{Phase: PhaseUploading}
	p := activities.UploadProgress{Done: 5, Total: 40}
	if got := up.MergeHeartbeat(activities.BackupUploadName, p); got.BytesDone != 5 || got.BytesTotal != 40 {
		t.Errorf("upload heartbeat while uploading: %+v", got)
	}
	if got := up.MergeHeartbeat(activities.RestoreStreamName, p); got.BytesDone != 0 {
		t.Errorf("a restore heartbeat merged into an uploading status: %+v", got)
	}
	verifying := Status{Phase: PhaseVerifying, BytesDone: 40, BytesTotal: 40}
	if got := verifying.MergeHeartbeat(activities.BackupUploadName, p); got.BytesDone != 40 {
		t.Errorf("an upload heartbeat merged after the upload: %+v", got)
	}
	if got := verifying.MergeHeartbeat(activities.BackupVerifyName, activities.UploadProgress{Done: 7}); got.BytesDone != 7 || got.BytesTotal != 40 {
		t.Errorf("verify heartbeat without a total: %+v", got)
	}
	if HeartbeatsProgress(activities.GetDatastoreOperationName) {
		t.Error("a poll activity counted as a transfer")
	}
}
