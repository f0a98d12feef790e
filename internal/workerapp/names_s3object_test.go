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

// s3ObjectWorkflowNames and s3ObjectActivityNames are the literal
// registered names of S3 reprocessing: the contract with running
// workflows and recorded histories.
var (
	s3ObjectWorkflowNames = map[string]string{
		workflows.S3ObjectName: "S3ObjectWorkflow", workflows.S3SweepName: "S3SweepWorkflow", workflows.S3BindingsName: "S3BindingsWorkflow",
	}
	s3ObjectActivityNames = map[string]string{
		activities.CheckObjectName: "S3ObjectCheck", activities.ProcessObjectName: "S3ObjectProcess",
		activities.DownloadObjectName: "S3ObjectDownload", activities.RunObjectCommandName: "S3ObjectRunCommand",
		activities.RemoveDownloadName: "S3ObjectRemoveDownload", activities.MoveObjectName: "S3ObjectMove",
		activities.SweepPagesName: "S3SweepPages",
	}
)

func init() {
	for n := range s3ObjectWorkflowNames {
		pinnedElsewhere[n] = true
	}
	for n := range s3ObjectActivityNames {
		pinnedElsewhere[n] = true
	}
}

// TestS3ObjectRegisteredNames pins the S3 reprocessing names.
func TestS3ObjectRegisteredNames(t *testing.T) {
	for c, lit := range s3ObjectWorkflowNames {
		if c != lit {
			t.Errorf("workflow name constant %q changed, want %q", c, lit)
		}
	}
	for c, lit := range s3ObjectActivityNames {
		if c != lit {
			t.Errorf("activity name constant %q changed, want %q", c, lit)
		}
	}
	rec := &nameRecorder{}
	s3ObjectFlow(rec, router.New(nil, router.Options{}), &Deps{AWS: &awsconf.Clients{}, Logger: slog.Default()})
	if rec.implicit != 0 {
		t.Fatalf("%d registrations without an explicit name", rec.implicit)
	}
	for n := range s3ObjectWorkflowNames {
		if !slices.Contains(rec.workflows, n) {
			t.Errorf("workflow %s not registered", n)
		}
	}
	for n := range s3ObjectActivityNames {
		if !slices.Contains(rec.activities, n) {
			t.Errorf("activity %s not registered", n)
		}
	}
	if len(rec.workflows) != len(s3ObjectWorkflowNames) || len(rec.activities) != len(s3ObjectActivityNames) {
		t.Errorf("registered %v / %v", rec.workflows, rec.activities)
	}
}
