package workerapp

import (
	"context"

	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/workflows"
)

// datastoreFlow is the Datastore export and import with Slack reports.
// The admin client is dialled on first use: VIGIL_DATASTORE_ENDPOINT (an
// emulator, no credentials; --dev sets it) or the real API with
// Application Default Credentials.
func datastoreFlow(w worker.Registry, _ *router.Router, d *Deps) {
	workflows.Register(w, map[string]any{
		workflows.DatastoreExportName: workflows.DatastoreExportWorkflow,
		workflows.DatastoreImportName: workflows.DatastoreImportWorkflow,
	})
	(&activities.Datastore{
		Slack: &activities.Slack{Env: d.secretEnv(), Client: d.slackClient()},
		Dial: func(ctx context.Context) (activities.DatastoreAdminAPI, error) {
			return activities.DialDatastoreAdmin(context.WithoutCancel(ctx), d.Getenv(activities.DatastoreEndpointEnv))
		},
	}).Register(w)
}
