package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/spec"
)

func TestS3Restore(t *testing.T) {
	expiry := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		restore    spec.S3RestoreState
		heads      []spec.S3RestoreState
		signalAt   time.Duration
		dest       string
		wantErr    string
		wantWaited time.Duration
		wantHeads  int
	}{
		{name: "notification", restore: spec.S3RestoreState{Ongoing: true, Size: 42}, signalAt: time.Hour, dest: "file:///tmp/x",
			wantWaited: time.Hour},
		{name: "poll fallback", restore: spec.S3RestoreState{Ongoing: true, Size: 42},
			heads: []spec.S3RestoreState{{Ongoing: true}, {Restored: true, Expiry: expiry, Size: 42}}, dest: "s3://copies/x",
			wantWaited: 3*time.Hour + 15*time.Minute, wantHeads: 2},
		{name: "already restored", restore: spec.S3RestoreState{Restored: true, Expiry: expiry, Size: 42}},
		{name: "not archived", restore: spec.S3RestoreState{Restored: true, NotArchived: true}},
		{name: "deadline", restore: spec.S3RestoreState{Ongoing: true}, heads: []spec.S3RestoreState{{Ongoing: true}}, wantErr: "deadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newBatchEnv(t)
			env.RegisterActivity(&activities.S3Restore{})
			var ra *activities.S3Restore
			var s3a *activities.S3
			env.OnActivity(ra.RestoreObject, mock.Anything, mock.Anything).Return(tc.restore, nil).Once()
			heads := 0
			env.OnActivity(ra.HeadRestore, mock.Anything, mock.Anything).Return(func(context.Context, activities.HeadRestoreInput) (spec.S3RestoreState, error) {
				h := tc.heads[min(heads, len(tc.heads)-1)]
				heads++
				return h, nil
			}).Maybe()
			delivered := ""
			env.OnActivity(s3a.DeliverObject, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DeliverObjectInput) (activities.FinishResult, error) {
				delivered = in.Dest
				return activities.FinishResult{Location: in.Dest, Bytes: in.Size}, nil
			}).Maybe()
			if tc.signalAt > 0 {
				env.RegisterDelayedCallback(func() {
					env.SignalWorkflow(S3RestoreSignal, spec.S3RestoreState{Bucket: "other", Key: "k"})
					env.SignalWorkflow(S3RestoreSignal, spec.S3RestoreState{Bucket: "b", Key: "k", Restored: true, Expiry: expiry})
				}, tc.signalAt)
			}
			env.ExecuteWorkflow(S3RestoreWorkflow, S3RestoreInput{Bucket: "b", Key: "k", Destination: tc.dest, Deadline: spec.Duration(6 * time.Hour)})
			var res S3RestoreResult
			err := env.GetWorkflowResult(&res)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want %q error, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Waited.D() != tc.wantWaited || heads != tc.wantHeads || delivered != tc.dest || res.Location != tc.dest {
				t.Errorf("result %+v, heads %d, delivered %q", res, heads, delivered)
			}
			if tc.name != "not archived" && !res.Expiry.Equal(expiry) {
				t.Errorf("expiry = %v, want %v", res.Expiry, expiry)
			}
		})
	}
}
