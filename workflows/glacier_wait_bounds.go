package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// waitBoundsChange is the workflow.GetVersion change ID of the wait
// bounds the retrieval flows (Glacier, S3 restore) enforce themselves
// (version 1, boundWait): the starter and the catalog refuse inputs out of
// bounds, but a run started another way (the Web UI, another SDK, a
// schedule written by hand) used to poll as often and wait as long as its
// input said. Runs recorded before keep their input's values.
const waitBoundsChange = "retrieval-wait-bounds"

// PollFloor is the floor boundWait raises a fixed poll interval to:
// flowdata.MinPollInterval. It is a variable only so that tests that run
// workers in their own process against emulators (internal/e2e) can
// shorten it before their workers start; a timer's duration is not
// checked on replay, so a change never affects a running workflow.
var PollFloor = flowdata.MinPollInterval

// boundWait returns a fixed poll interval raised to PollFloor (0,
// adaptive, stays 0) and a deadline cut to
// flowdata.MaxWaitDeadline (0, the flow's default, stays 0), so that no
// wait writes more history than those bounds allow (see flowdata/wait.go).
func boundWait(ctx workflow.Context, poll, deadline flowdata.Duration) (flowdata.Duration, flowdata.Duration) {
	if workflow.GetVersion(ctx, waitBoundsChange, workflow.DefaultVersion, 1) < 1 {
		return poll, deadline
	}
	if poll > 0 && poll.D() < PollFloor {
		workflow.GetLogger(ctx).Warn("poll interval below the floor: polling at the floor", "pollInterval", poll, "floor", flowdata.Duration(PollFloor))
		poll = flowdata.Duration(PollFloor)
	}
	if deadline.D() > flowdata.MaxWaitDeadline {
		workflow.GetLogger(ctx).Warn("deadline past the maximum: cut to it", "deadline", deadline, "max", flowdata.Duration(flowdata.MaxWaitDeadline))
		deadline = flowdata.Duration(flowdata.MaxWaitDeadline)
	}
	return poll, deadline
}
