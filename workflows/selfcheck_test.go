package workflows

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/activities"
)

func TestSelfCheckWorkflow(t *testing.T) {
	var sc *activities.SelfCheck
	cases := []struct {
		name      string
		res       activities.ProbeResult
		err       error
		wantPhase string
	}{
		{"ok", activities.ProbeResult{Buckets: 2, Queues: 1}, nil, PhaseDone},
		{"denied", activities.ProbeResult{}, temporal.NewNonRetryableApplicationError("no", activities.ErrTypeAccessDenied, nil), PhaseFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			sc.Register(env)
			env.OnActivity(sc.Probe, mock.Anything, mock.Anything).Return(tc.res, tc.err)
			env.ExecuteWorkflow(SelfCheckWorkflow)
			if !env.IsWorkflowCompleted() {
				t.Fatal("workflow did not complete")
			}
			var got activities.ProbeResult
			err := env.GetWorkflowResult(&got)
			if tc.err == nil && (err != nil || got != tc.res) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.res)
			}
			var appErr *temporal.ApplicationError
			if tc.err != nil && (!errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeAccessDenied) {
				t.Fatalf("want AccessDenied application error, got %v", err)
			}
			v, err := env.QueryWorkflow(StatusQuery)
			if err != nil {
				t.Fatal(err)
			}
			var st Status
			if err := v.Get(&st); err != nil {
				t.Fatal(err)
			}
			if st.Phase != tc.wantPhase || st.Flow != SelfCheckFlow {
				t.Errorf("status = %+v, want phase %s", st, tc.wantPhase)
			}
		})
	}
}
