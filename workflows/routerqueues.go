package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"
)

// RouterQueuesWorkflowID is the singleton workflow that records the
// notification queues setup commands created, so running workers start
// consuming a new queue without a restart.
const RouterQueuesWorkflowID = "vigil/router-queues"

// Names of the router-queues signal and query.
const (
	AddQueueSignal = "add-queue"
	QueuesQuery    = "queues"
)

// routerQueuesPerRun bounds history; the workflow then continues as new.
const routerQueuesPerRun = 1000

// RouterQueuesWorkflow keeps the list of queue URLs; it never ends on its
// own. `starter ... setup` signals-with-start it; workers query it.
func RouterQueuesWorkflow(ctx workflow.Context, queues []string) error {
	if err := workflow.SetQueryHandler(ctx, QueuesQuery, func() ([]string, error) { return queues, nil }); err != nil {
		return err
	}
	markInternal(ctx, InternalRouterQueues)
	ch := workflow.GetSignalChannel(ctx, AddQueueSignal)
	for i := 0; i < routerQueuesPerRun; i++ {
		var url string
		ch.Receive(ctx, &url)
		if url != "" && !slices.Contains(queues, url) {
			queues = append(queues, url)
		}
	}
	// Drain what arrived meanwhile, then carry the list over.
	for {
		var url string
		if !ch.ReceiveAsync(&url) {
			break
		}
		if url != "" && !slices.Contains(queues, url) {
			queues = append(queues, url)
		}
	}
	return workflow.NewContinueAsNewError(ctx, RouterQueuesName, queues)
}
