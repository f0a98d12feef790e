package workerapp

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/workflows"
)

// QueueCheckInterval is how often the worker looks for notification queues
// created after it started.
const QueueCheckInterval = 5 * time.Second

// queueWatcher adds queues to the router as they appear: queues recorded in
// Temporal by setup commands (RouterQueuesWorkflow), and configured queue
// names that did not exist yet when the worker started.
type queueWatcher struct {
	c       client.Client
	sqs     sqsQueueAPI
	rt      *router.Router
	pending []string
	logger  *slog.Logger
}

func (q *queueWatcher) run(ctx context.Context) {
	tick := time.NewTicker(QueueCheckInterval)
	defer tick.Stop()
	for {
		q.check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (q *queueWatcher) check(ctx context.Context) {
	var still []string
	for _, name := range q.pending {
		out, err := q.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			still = append(still, name)
			continue
		}
		q.add(aws.ToString(out.QueueUrl))
	}
	q.pending = still
	v, err := q.c.QueryWorkflow(ctx, workflows.RouterQueuesWorkflowID, "", workflows.QueuesQuery)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) || ctx.Err() != nil {
		return
	}
	if err != nil {
		q.logger.Debug("cannot read recorded notification queues", "error", err)
		return
	}
	var urls []string
	if err := v.Get(&urls); err != nil {
		return
	}
	for _, u := range urls {
		q.add(u)
	}
}

func (q *queueWatcher) add(url string) {
	for _, have := range q.rt.Queues() {
		if have == url {
			return
		}
	}
	q.logger.Info("consuming notification queue", "queue", url)
	q.rt.AddQueue(url)
}
