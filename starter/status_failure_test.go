package main

import (
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	workflowpb "go.temporal.io/api/workflow/v1"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/workflows"
)

// #19: `--wait` stayed at "restoring 0.0%" with no error while the
// restore's activity retried. The live status (status and wait) now
// shows a retrying pending activity's attempt and last failure, unless
// the run's own status already shows a later attempt.
func TestLiveStatusShowsRetryingActivity(t *testing.T) {
	pending := []*workflowpb.PendingActivityInfo{{
		ActivityType: &commonpb.ActivityType{Name: "RestoreStream"},
		Attempt:      7,
		LastFailure:  &failurepb.Failure{Message: "open /srv/r.bin: no space left on device"},
	}}
	st := workflows.Status{Phase: workflows.PhaseRestoring, BytesTotal: 100}
	got := mergeRetrying(st, pending)
	if got.Attempt != 7 || !strings.Contains(got.LastError, "RestoreStream attempt 6: open /srv/r.bin: no space left on device") {
		t.Fatalf("merged status: attempt %d, last error %q", got.Attempt, got.LastError)
	}
	if line := cli.ProgressLine(got, -1, cli.DefaultBarWidth); !strings.Contains(line, "attempt 7") || !strings.Contains(line, "no space left") {
		t.Errorf("wait's progress line %q shows neither the attempt nor the error", line)
	}
	// The run's own, later report stands.
	st.Attempt, st.LastError = 9, "RestoreStream attempt 8: newer"
	if got := mergeRetrying(st, pending); got.LastError != st.LastError {
		t.Errorf("an older pending failure replaced the run's newer one: %q", got.LastError)
	}
}
