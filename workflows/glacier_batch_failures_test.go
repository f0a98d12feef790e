package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/vigilops/vigil/activities"
)

// A large retrieval's ranges run in GlacierBatch children, and the
// worker's ClassifyInterceptor reports their failed attempts to the
// activity's own run: the child. The child shows them in its status and
// passes them on to the retrieval, whose status shows them and which
// posts the one "keeps failing" warning, to its own webhook, however many
// batches keep failing; only a batch's first failure of an activity and
// its first at the warning threshold go on (forwardFailures). Before, the
// child dropped them: the retrieval's
// status showed no attempt and no warning was posted.
func TestGlacierBatchFailuresReachTheRetrieval(t *testing.T) {
	// Three batches (the third of one range); ranges take 10 s, 4 at a
	// time (a range's heartbeat timeout is 20 s).
	f := &glacierFake{completeAt: 1, state: succeeded((2*glacierBatchRanges + 1) * mib), rangeDelay: 10 * time.Second}
	env := newGlacierEnv(t, f)
	env.SetWorkerOptions(withFailureAlerts(t))
	a := &alertEnv{}
	env.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.SlackMessage) error {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.slack = append(a.slack, m)
		return nil
	}).Maybe()
	in := glacierInput()
	in.ChunkSize, in.Parallel, in.AlertWebhookEnv = mib, 4, "TEAM_SLACK"
	id := GlacierWorkflowID(in.Vault, in.ArchiveID)
	// The job completes at the first poll (3 h); each full batch then
	// takes 42m40s: batch 1 from 3h, batch 2 from 3h42m40s.
	fail := func(child string, attempt int32) func() {
		return func() {
			if err := env.SignalWorkflowByID(id+"/ranges/"+child, activities.ActivityFailingSignal,
				activities.ActivityFailure{Activity: activities.DownloadRangeName, Attempt: attempt, Error: "input/output error"}); err != nil {
				t.Errorf("signal batch %s: %v", child, err)
			}
		}
	}
	env.RegisterDelayedCallback(fail("1", 5), 3*time.Hour+20*time.Minute)
	env.RegisterDelayedCallback(fail("1", 6), 3*time.Hour+30*time.Minute)
	env.RegisterDelayedCallback(fail("2", 5), 4*time.Hour)
	// Batch 1's attempt 6 stays in the batch: its first failure (attempt
	// 5, at the threshold too) already went to the retrieval.
	var parent1, child1 Status
	env.RegisterDelayedCallback(func() {
		parent1 = queryStatus(t, env)
		if v, err := env.QueryWorkflowByID(id+"/ranges/1", StatusQuery); err != nil || v.Get(&child1) != nil {
			t.Errorf("batch 1 status: %v", err)
		}
	}, 3*time.Hour+35*time.Minute)
	var parent, child Status
	env.RegisterDelayedCallback(func() {
		parent = queryStatus(t, env)
		if v, err := env.QueryWorkflowByID(id+"/ranges/2", StatusQuery); err != nil || v.Get(&child) != nil {
			t.Errorf("batch 2 status: %v", err)
		}
	}, 4*time.Hour+10*time.Minute)
	startGlacier(env, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if parent1.Attempt != 6 || child1.Attempt != 7 {
		t.Errorf("after batch 1's attempts 5 and 6: retrieval shows attempt %d, batch %d; want 6 (only the first forwarded) and 7", parent1.Attempt, child1.Attempt)
	}
	for name, st := range map[string]Status{"retrieval": parent, "batch 2": child} {
		if st.Attempt != 6 || !strings.Contains(st.LastError, "DownloadRange attempt 5: input/output error") ||
			!strings.Contains(st.CurrentDetails(), "**attempt**: 6") {
			t.Errorf("%s status while batch 2 fails: attempt %d, last error %q; want attempt 6 and the error", name, st.Attempt, st.LastError)
		}
	}
	// The fake job's output is long expired: its expiry warning is posted too.
	var failing []activities.SlackMessage
	for _, m := range a.slack {
		if strings.Contains(m.Title, "keeps failing") {
			failing = append(failing, m)
		}
	}
	if len(failing) != 1 {
		t.Fatalf("%d warnings for DownloadRange failing in two batches, want exactly 1 (%+v)", len(failing), a.slack)
	}
	if m := failing[0]; m.Color != activities.SlackWarning || m.WebhookEnv != "TEAM_SLACK" ||
		!strings.Contains(m.Text, "glacier "+id+": DownloadRange keeps failing (attempt 5)") {
		t.Errorf("warning %+v, want one from the retrieval %s to its TEAM_SLACK", m, id)
	}
}
