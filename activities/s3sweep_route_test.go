package activities

import (
	"testing"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestS3ObjectStartOptionsRoutesToThePipelinesQueue: a pipeline that names
// a task queue gets its runs there, whoever starts them (router, sweep,
// starter); one that names none gets the caller's.
func TestS3ObjectStartOptionsRoutesToThePipelinesQueue(t *testing.T) {
	in := flowdata.S3ObjectInput{Object: flowdata.S3ObjectRef{Bucket: "b", Key: "k", ETag: "e"}, Pipeline: flowdata.Pipeline{Name: "p"}}
	if got := S3ObjectStartOptions("vigil", in, enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL).TaskQueue; got != "vigil" {
		t.Errorf("no pipeline queue: %q, want vigil", got)
	}
	in.Pipeline.TaskQueue = "vigil-heavy"
	if got := S3ObjectStartOptions("vigil", in, enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL).TaskQueue; got != "vigil-heavy" {
		t.Errorf("pipeline queue: %q, want vigil-heavy", got)
	}
}
