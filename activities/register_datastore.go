package activities

// Registered names of the Datastore activities.
const (
	StartDatastoreExportName     = "StartDatastoreExport"
	StartDatastoreImportName     = "StartDatastoreImport"
	GetDatastoreOperationName    = "GetDatastoreOperation"
	CancelDatastoreOperationName = "CancelDatastoreOperation"
	ReportDatastoreName          = "ReportDatastore"
)

// Register registers the Datastore activities under their names.
func (a *Datastore) Register(r Registry) {
	register(r, map[string]any{
		StartDatastoreExportName:     a.StartExport,
		StartDatastoreImportName:     a.StartImport,
		GetDatastoreOperationName:    a.GetOperation,
		CancelDatastoreOperationName: a.CancelOperation,
		ReportDatastoreName:          a.ReportDatastore,
	})
}
