package workerapp

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/workflows"
)

// backupNames are the backup flow's registered names and their literal
// values, the contract with running workflows and recorded histories.
var backupNames = map[string]string{
	workflows.BackupName: "BackupWorkflow", workflows.RestoreName: "RestoreWorkflow",
	activities.BackupUploadName: "BackupUpload", activities.BackupVerifyName: "BackupVerify",
	activities.BackupPublishName: "BackupPublish", activities.BackupRetentionName: "BackupRetention",
	activities.BackupAbortUploadsName: "BackupAbortUploads", activities.BackupDeleteName: "BackupDelete",
	activities.BackupResolveName: "BackupResolve", activities.RestoreStreamName: "RestoreStream",
}

func init() {
	for name := range backupNames {
		pinnedElsewhere[name] = true
	}
}

// TestBackupRegisteredNames pins the backup flow's names and checks the
// worker registers each one exactly once.
func TestBackupRegisteredNames(t *testing.T) {
	for got, want := range backupNames {
		if got != want {
			t.Errorf("name constant %q changed, want %q", got, want)
		}
	}
	rec := &nameRecorder{}
	RegisterFlows(rec, router.New(nil, router.Options{}), &Deps{AWS: &awsconf.Clients{}, Logger: slog.Default()})
	all := append(slices.Clone(rec.workflows), rec.activities...)
	for name := range backupNames {
		if n := len(slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s != name })); n != 1 {
			t.Errorf("%s registered %d times, want once", name, n)
		}
	}
}
