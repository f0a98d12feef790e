package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestS3RestoreVerifyReachesDelivery: the run's verify level is in the
// delivery activity's input (no other command changes).
func TestS3RestoreVerifyReachesDelivery(t *testing.T) {
	for _, verify := range []string{"", flowdata.VerifyFull} {
		env := newBatchEnv(t)
		(&activities.S3Restore{}).Register(env)
		(&activities.Host{Name: "h1"}).Register(env)
		var ra *activities.S3Restore
		var s3a *activities.S3
		env.OnActivity(ra.RestoreObject, mock.Anything, mock.Anything).Return(flowdata.S3RestoreState{Restored: true, Size: 42}, nil).Once()
		got := "unset"
		env.OnActivity(s3a.DeliverObject, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DeliverObjectInput) (activities.FinishResult, error) {
			got = in.Verify
			return activities.FinishResult{Location: in.Dest, Bytes: in.Size}, nil
		}).Once()
		env.ExecuteWorkflow(S3RestoreWorkflow, S3RestoreInput{Bucket: "b", Key: "k", Destination: "file:///tmp/x", Verify: verify})
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		if got != verify {
			t.Errorf("verify %q: the delivery got %q", verify, got)
		}
	}
}
