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

// datastoreNames are the Datastore flow's registered names, as literals:
// the contract with running workflows and recorded histories.
var datastoreNames = map[string]string{
	workflows.DatastoreExportName:           "DatastoreExportWorkflow",
	workflows.DatastoreImportName:           "DatastoreImportWorkflow",
	activities.StartDatastoreExportName:     "StartDatastoreExport",
	activities.StartDatastoreImportName:     "StartDatastoreImport",
	activities.GetDatastoreOperationName:    "GetDatastoreOperation",
	activities.CancelDatastoreOperationName: "CancelDatastoreOperation",
	activities.ReportDatastoreName:          "ReportDatastore",
}

func init() {
	for name := range datastoreNames {
		pinnedElsewhere[name] = true
	}
}

func TestDatastoreRegisteredNames(t *testing.T) {
	for name, literal := range datastoreNames {
		if name != literal {
			t.Errorf("name constant %q changed, want %q", name, literal)
		}
	}
	rec := &nameRecorder{}
	RegisterFlows(rec, router.New(nil, router.Options{}), &Deps{AWS: &awsconf.Clients{}, Logger: slog.Default(), Getenv: func(string) string { return "" }})
	for _, n := range []string{workflows.DatastoreExportName, workflows.DatastoreImportName} {
		if !slices.Contains(rec.workflows, n) {
			t.Errorf("workflow %s not registered", n)
		}
	}
	for _, n := range []string{activities.StartDatastoreExportName, activities.StartDatastoreImportName, activities.GetDatastoreOperationName,
		activities.CancelDatastoreOperationName, activities.ReportDatastoreName} {
		if !slices.Contains(rec.activities, n) {
			t.Errorf("activity %s not registered", n)
		}
	}
}
