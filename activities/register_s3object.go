package activities

// Registered names of the S3 reprocessing activities (see register.go:
// never change a value).
const (
	CheckObjectName      = "S3ObjectCheck"
	ProcessObjectName    = "S3ObjectProcess"
	DownloadObjectName   = "S3ObjectDownload"
	RunObjectCommandName = "S3ObjectRunCommand"
	RemoveDownloadName   = "S3ObjectRemoveDownload"
	MoveObjectName       = "S3ObjectMove"
	SweepPagesName       = "S3SweepPages"
)

// Register registers the S3Object activities under their names.
func (a *S3Object) Register(r Registry) {
	register(r, map[string]any{
		CheckObjectName: a.CheckObject, ProcessObjectName: a.ProcessObject,
		DownloadObjectName: a.DownloadObject, RunObjectCommandName: a.RunObjectCommand,
		RemoveDownloadName: a.RemoveDownload, MoveObjectName: a.MoveObject, SweepPagesName: a.SweepPages,
	})
}
