package activities

// Registered names of the backup and restore activities (see register.go).
const (
	BackupUploadName       = "BackupUpload"
	BackupVerifyName       = "BackupVerify"
	BackupPublishName      = "BackupPublish"
	BackupRetentionName    = "BackupRetention"
	BackupAbortUploadsName = "BackupAbortUploads"
	BackupDeleteName       = "BackupDelete"
	BackupResolveName      = "BackupResolve"
	RestoreStreamName      = "RestoreStream"
)

// Register registers the Backup activities under their names.
func (a *Backup) Register(r Registry) {
	register(r, map[string]any{
		BackupUploadName: a.Upload, BackupVerifyName: a.Verify, BackupPublishName: a.Publish,
		BackupRetentionName: a.Retention, BackupAbortUploadsName: a.AbortUploads, BackupDeleteName: a.Delete,
		BackupResolveName: a.Resolve, RestoreStreamName: a.Restore,
	})
}
