package workflows

// flowByType maps registered workflow types to their flow (the VigilFlow
// value), for log lines.
var flowByType = map[string]string{
	GlacierRetrieveName: GlacierFlow, GlacierBatchName: GlacierFlow,
	S3RestoreName: S3RestoreFlow, BatchJobName: BatchFlow,
	S3ObjectName: S3ObjectFlow, S3SweepName: S3SweepFlow,
	BackupName: BackupFlow, RestoreName: RestoreFlow,
	DatastoreExportName: DatastoreExportFlow, DatastoreImportName: DatastoreImportFlow,
	ScheduleWatchName: ScheduleWatchFlow, SelfCheckName: SelfCheckFlow,
}

// FlowOf is the flow of a workflow type; a type of no flow (the router's
// and bindings' bookkeeping workflows) is its own name.
func FlowOf(workflowType string) string {
	if f, ok := flowByType[workflowType]; ok {
		return f
	}
	return workflowType
}
