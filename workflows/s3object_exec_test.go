package workflows

import (
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestS3ObjectExecRedownloadsReplacedCopy: the command finds its local copy
// gone or not the one downloaded (DestinationReplaced: a reboot, a replaced
// disk); the run downloads the object once more and processes that copy
// instead of dead-lettering the object.
func TestS3ObjectExecRedownloadsReplacedCopy(t *testing.T) {
	e := newS3ObjEnv(t, activities.S3ObjectCheck{State: activities.ObjectPresent, ETag: "abc"})
	e.process = func(n int32) error {
		if n == 1 {
			return temporal.NewNonRetryableApplicationError("destination /tmp/vigil-s3obj-1 is not the file prepared for this run",
				activities.ErrTypeDestinationReplaced, nil)
		}
		return nil
	}
	res, err := runS3Object(t, e, testPipeline(flowdata.ProcessorExec))
	if err != nil || res.Outcome != OutcomeProcessed {
		t.Fatalf("res %+v err %v", res, err)
	}
	if e.count("download") != 2 || e.count("process") != 2 || e.count("remove") != 2 || len(e.slack) != 0 {
		t.Fatalf("calls %v, slack %v: want the copy downloaded, run and removed twice, no alert", e.calls, e.slack)
	}
}
