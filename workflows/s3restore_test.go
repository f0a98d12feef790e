package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func TestS3Restore(t *testing.T) {
	expiry := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		restore    flowdata.S3RestoreState
		heads      []flowdata.S3RestoreState
		signalAt   time.Duration
		dest       string
		wantErr    string
		wantWaited time.Duration
		wantHeads  int
	}{
		{name: "notification", restore: flowdata.S3RestoreState{Ongoing: true, Size: 42}, signalAt: time.Hour, dest: "file:///tmp/x",
			wantWaited: time.Hour},
		{name: "poll fallback", restore: flowdata.S3RestoreState{Ongoing: true, Size: 42},
			heads: []flowdata.S3RestoreState{{Ongoing: true}, {Restored: true, Expiry: expiry, Size: 42}}, dest: "s3://copies/x",
			wantWaited: 3*time.Hour + 15*time.Minute, wantHeads: 2},
		{name: "already restored", restore: flowdata.S3RestoreState{Restored: true, Expiry: expiry, Size: 42}},
		{name: "not archived", restore: flowdata.S3RestoreState{Restored: true, NotArchived: true}},
		{name: "deadline", restore: flowdata.S3RestoreState{Ongoing: true}, heads: []flowdata.S3RestoreState{{Ongoing: true}}, wantErr: "deadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newBatchEnv(t)
			(&activities.S3Restore{}).Register(env)
			(&activities.Host{Name: "h1"}).Register(env)
			var ra *activities.S3Restore
			var s3a *activities.S3
			env.OnActivity(ra.RestoreObject, mock.Anything, mock.Anything).Return(tc.restore, nil).Once()
			heads := 0
			env.OnActivity(ra.HeadRestore, mock.Anything, mock.Anything).Return(func(context.Context, activities.HeadRestoreInput) (flowdata.S3RestoreState, error) {
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
					env.SignalWorkflow(S3RestoreSignal, flowdata.S3RestoreState{Bucket: "other", Key: "k"})
					env.SignalWorkflow(S3RestoreSignal, flowdata.S3RestoreState{Bucket: "b", Key: "k", Restored: true, Expiry: expiry})
				}, tc.signalAt)
			}
			env.ExecuteWorkflow(S3RestoreWorkflow, S3RestoreInput{Bucket: "b", Key: "k", Destination: tc.dest, Deadline: flowdata.Duration(6 * time.Hour)})
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
			// A file destination is delivered on the host the run picked.
			want := strings.Replace(tc.dest, "file:///", "file://h1/", 1)
			if res.Waited.D() != tc.wantWaited || heads != tc.wantHeads || delivered != want || res.Location != want {
				t.Errorf("result %+v, heads %d, delivered %q", res, heads, delivered)
			}
			if tc.name != "not archived" && !res.Expiry.Equal(expiry) {
				t.Errorf("expiry = %v, want %v", res.Expiry, expiry)
			}
		})
	}
}

// TestS3RestoreVersions: in a versioned bucket the ObjectRestore:Completed
// of another version of the key does not end the wait; the run's own
// version's does, and so does a notification without a version ID (an
// unversioned bucket, or a router that sends none).
func TestS3RestoreVersions(t *testing.T) {
	expiry := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		version    string
		signals    []string // version IDs, one signal an hour
		wantWaited time.Duration
	}{
		{name: "other version ignored", version: "v2", signals: []string{"v1", "v2"}, wantWaited: 2 * time.Hour},
		{name: "own version", version: "v2", signals: []string{"v2"}, wantWaited: time.Hour},
		{name: "notification without version", version: "v2", signals: []string{""}, wantWaited: time.Hour},
		{name: "input without version", signals: []string{"v1"}, wantWaited: time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newBatchEnv(t)
			(&activities.S3Restore{}).Register(env)
			(&activities.Host{Name: "h1"}).Register(env)
			var ra *activities.S3Restore
			var s3a *activities.S3
			env.OnActivity(ra.RestoreObject, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RestoreInput) (flowdata.S3RestoreState, error) {
				if in.VersionID != tc.version {
					t.Errorf("RestoreObject of version %q, want %q", in.VersionID, tc.version)
				}
				return flowdata.S3RestoreState{Ongoing: true, Size: 42}, nil
			}).Once()
			// Polls (if any fall in the wait) still see the restore running.
			env.OnActivity(ra.HeadRestore, mock.Anything, mock.Anything).Return(flowdata.S3RestoreState{Ongoing: true, Size: 42}, nil).Maybe()
			var delivered activities.DeliverObjectInput
			env.OnActivity(s3a.DeliverObject, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DeliverObjectInput) (activities.FinishResult, error) {
				delivered = in
				return activities.FinishResult{Location: in.Dest, Bytes: in.Size}, nil
			}).Once()
			for i, v := range tc.signals {
				env.RegisterDelayedCallback(func() {
					env.SignalWorkflow(S3RestoreSignal, flowdata.S3RestoreState{Bucket: "b", Key: "k", VersionID: v, Restored: true, Expiry: expiry, Source: "notification"})
				}, time.Duration(i+1)*time.Hour)
			}
			env.ExecuteWorkflow(S3RestoreWorkflow, S3RestoreInput{Bucket: "b", Key: "k", VersionID: tc.version, Destination: "file:///tmp/x",
				Deadline: flowdata.Duration(6 * time.Hour)})
			var res S3RestoreResult
			if err := env.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			if res.Waited.D() != tc.wantWaited || !res.Expiry.Equal(expiry) {
				t.Errorf("result %+v, want waited %s and expiry %s", res, tc.wantWaited, expiry)
			}
			if delivered.VersionID != tc.version || delivered.Size != 42 {
				t.Errorf("delivered %+v, want version %q of 42 bytes", delivered, tc.version)
			}
		})
	}
}
