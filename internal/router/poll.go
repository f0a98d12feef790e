package router

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vigilops/vigil/internal/metrics"
)

// minEmptyPoll: an empty long poll (WaitTimeSeconds ≥ 1) that comes back
// sooner than this means the endpoint does not long-poll; the router then
// pauses for ErrorBackoff so that an empty queue is never polled in a loop.
const minEmptyPoll = 500 * time.Millisecond

// receiveAttributes are the message system attributes copied to MessageInfo.
var receiveAttributes = []types.MessageSystemAttributeName{
	types.MessageSystemAttributeNameApproximateReceiveCount,
	types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp,
	types.MessageSystemAttributeNameSentTimestamp,
}

// poll receives from one queue and handles what arrives until ctx is done.
func (r *Router) poll(ctx context.Context, url string) {
	log := r.log.With("queue", url)
	log.Info("polling SQS queue")
	defer log.Info("stopped polling SQS queue")

	failures := 0
	for ctx.Err() == nil {
		start := time.Now()
		out, err := r.client.ReceiveMessage(ctx, r.receiveInput(url))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			r.stats.receiveErrors.Add(1)
			d := backoff(r.opts.ErrorBackoff, r.opts.MaxErrorBackoff, failures)
			log.Warn("receiving from SQS failed", "error", err, "failures", failures, "retry_in", d)
			r.sleep(ctx, d)
			continue
		}
		if failures > 0 {
			log.Info("receiving from SQS works again", "after_failures", failures)
			failures = 0
		}
		if len(out.Messages) == 0 {
			if time.Since(start) < minEmptyPoll {
				r.sleep(ctx, r.opts.ErrorBackoff)
			}
			continue
		}
		r.stats.received.Add(int64(len(out.Messages)))
		metrics.NotificationsReceived.WithLabelValues(url).Add(float64(len(out.Messages)))
		for i, m := range out.Messages {
			if ctx.Err() != nil {
				log.Info("stopping; leaving the rest of the batch on the queue", "left", len(out.Messages)-i)
				return
			}
			r.process(ctx, url, m)
		}
	}
}

func (r *Router) receiveInput(url string) *sqs.ReceiveMessageInput {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         r.opts.MaxMessages,
		WaitTimeSeconds:             r.opts.WaitTimeSeconds,
		MessageSystemAttributeNames: receiveAttributes,
	}
	if v := r.opts.VisibilityTimeout; v > 0 {
		in.VisibilityTimeout = int32((v + time.Second - 1) / time.Second)
	}
	return in
}

// backoff returns the pause after the n-th consecutive failure (n ≥ 1):
// base·2^(n-1), capped at limit, with jitter taking it down by up to half so
// that queues failing together do not retry in lockstep.
func backoff(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d/2 + rand.N(d/2+1)
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
