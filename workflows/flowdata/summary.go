package flowdata

import (
	"fmt"

	"github.com/vigilops/vigil/internal/location"
)

// The StaticSummary methods give the one-line summary the Web UI shows for
// a run of the flow: what it acts on and where it delivers. Whatever
// starts a run (the starter CLI, schedules, the notification router, the
// sweeper, --dev) sets it as the run's StaticSummary. Every URL in it is
// location.Redact'ed: a summary is stored in clear, outside the codec.

// StaticSummary names the object, the pipeline and who started the run.
func (in S3ObjectInput) StaticSummary() string {
	s := fmt.Sprintf("S3 object s3://%s/%s → pipeline %s", in.Object.Bucket, in.Object.Key, in.Pipeline.Name)
	if in.Source != "" {
		s += " (" + in.Source + ")"
	}
	return s
}

// StaticSummary names the backup, its source and its target.
func (in BackupInput) StaticSummary() string {
	return fmt.Sprintf("backup %s of %s → %s", in.Name, location.Redact(in.Source), location.Redact(in.Target))
}

// StaticSummary names the backup restored and where to.
func (in RestoreInput) StaticSummary() string {
	from := in.From
	if in.At != "" {
		from += " at " + in.At
	}
	return fmt.Sprintf("restore %s → %s", location.Redact(from), location.Redact(in.To))
}

// StaticSummary names the project and the export's destination.
func (in DatastoreExportInput) StaticSummary() string {
	dest := in.OutputURLPrefix
	if dest == "" {
		dest = "gs://" + in.Bucket + "/datastore/"
	}
	return fmt.Sprintf("Datastore export of %s → %s", in.Project, location.Redact(dest))
}

// StaticSummary names the project and the export imported.
func (in DatastoreImportInput) StaticSummary() string {
	return fmt.Sprintf("Datastore import into %s from %s", in.Project, location.Redact(in.InputURL))
}
