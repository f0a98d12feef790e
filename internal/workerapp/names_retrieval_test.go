package workerapp

import (
	"slices"
	"testing"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/workflows"
)

func init() {
	pinnedElsewhere[workflows.GlacierBatchName] = true
	pinnedElsewhere[activities.WorkerHostName] = true
}

// TestRetrievalNames pins the names the retrieval flows added after the
// first release: the child workflow of large Glacier retrievals.
func TestRetrievalNames(t *testing.T) {
	if workflows.GlacierBatchName != "GlacierBatchWorkflow" || activities.WorkerHostName != "WorkerHost" {
		t.Fatalf("names changed: %q, %q; running retrievals schedule the old names", workflows.GlacierBatchName, activities.WorkerHostName)
	}
	rec := &nameRecorder{}
	retrievalFlow(rec, router.New(nil, router.Options{}), &Deps{AWS: &awsconf.Clients{}})
	if !slices.Contains(rec.workflows, workflows.GlacierBatchName) {
		t.Errorf("registered workflows %v lack %s", rec.workflows, workflows.GlacierBatchName)
	}
}
