package workerapp

import (
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/workflows"
)

// backupFlow is the backup to S3 and the restore from it.
func backupFlow(w worker.Registry, _ *router.Router, d *Deps) {
	workflows.Register(w, map[string]any{
		workflows.BackupName:  workflows.BackupWorkflow,
		workflows.RestoreName: workflows.RestoreWorkflow,
	})
	(&activities.Backup{S3: d.AWS.S3, Env: d.secretEnv(), HTTP: d.httpClient()}).Register(w)
}
