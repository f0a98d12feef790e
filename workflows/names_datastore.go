package workflows

// Registered type names of the Datastore workflows.
const (
	DatastoreExportName = "DatastoreExportWorkflow"
	DatastoreImportName = "DatastoreImportWorkflow"
)

// VigilFlow values of the Datastore workflows (also their catalog names).
const (
	DatastoreExportFlow = "datastore-export"
	DatastoreImportFlow = "datastore-import"
)

// DatastoreOperationSignal carries a flowdata.DatastoreOp snapshot of the
// run's operation (from any watcher); it saves a poll. The run checks the
// operation name.
const DatastoreOperationSignal = "datastore-operation"
