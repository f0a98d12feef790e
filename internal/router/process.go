package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vigilops/vigil/internal/metrics"
)

const (
	// maxLoggedBody is how much of a rejected message's body is logged.
	maxLoggedBody = 512
	// deleteTimeout bounds a DeleteMessage call, which runs even while the
	// router is stopping.
	deleteTimeout = 10 * time.Second
)

// MessageInfo describes the SQS message a notification arrived in.
type MessageInfo struct {
	// QueueURL is the queue the message was received from.
	QueueURL string
	// MessageID is SQS's message id.
	MessageID string
	// ReceiveCount is SQS's ApproximateReceiveCount: 1 on the first
	// delivery (0 if the queue did not report it).
	ReceiveCount int
	// SentAt is when the message was sent to the queue (zero if unknown).
	SentAt time.Time
	// FirstReceivedAt is when the message was first received (zero if
	// unknown).
	FirstReceivedAt time.Time
	// Body is the message body as received.
	Body string
}

// outcome is what became of a received message.
type outcome int

const (
	outcomeHandled outcome = iota
	outcomeFailed
	outcomeDropped
	outcomeMalformed
)

// process parses one message, calls its handlers and deletes it as the
// package documentation describes.
func (r *Router) process(ctx context.Context, queueURL string, m types.Message) {
	info := newMessageInfo(queueURL, m)
	log := r.log.With("queue", queueURL, "message_id", info.MessageID, "receive_count", info.ReceiveCount)

	n, err := Parse(info.Body)
	if err != nil {
		log.Warn("cannot parse SQS message; leaving it on the queue for its dead-letter queue",
			"error", err, "body", truncate(info.Body, maxLoggedBody))
		r.finish(outcomeMalformed, "unknown", info)
		return
	}
	log = log.With("notification", n)

	hs := r.handlersFor(n.Kind)
	if len(hs) == 0 {
		if n.Kind == KindS3TestEvent {
			log.Info("acknowledging s3:TestEvent")
		} else {
			log.Warn("no handler registered for this kind of notification; deleting it")
		}
		r.delete(ctx, log, queueURL, m)
		r.finish(outcomeDropped, string(n.Kind), info)
		return
	}

	var errs []error
	for _, h := range hs {
		errs = append(errs, callHandler(ctx, h, n, info))
	}
	if err := errors.Join(errs...); err != nil {
		log.Warn("notification handler failed; the message will be delivered again", "error", err)
		r.finish(outcomeFailed, string(n.Kind), info)
		return
	}
	log.Debug("notification handled")
	r.delete(ctx, log, queueURL, m)
	r.finish(outcomeHandled, string(n.Kind), info)
}

// finish counts the outcome once the message's processing is complete.
func (r *Router) finish(o outcome, kind string, info MessageInfo) {
	switch o {
	case outcomeHandled:
		r.stats.handled.Add(1)
		metrics.Notifications.WithLabelValues(kind, metrics.OutcomeHandled).Inc()
	case outcomeFailed:
		r.stats.failed.Add(1)
		metrics.Notifications.WithLabelValues(kind, metrics.OutcomeFailed).Inc()
	case outcomeDropped:
		r.stats.dropped.Add(1)
		metrics.Notifications.WithLabelValues(kind, metrics.OutcomeDropped).Inc()
	case outcomeMalformed:
		r.stats.malformed.Add(1)
		metrics.Notifications.WithLabelValues(kind, metrics.OutcomeMalformed).Inc()
	}
	if r.observe != nil {
		r.observe(o, info)
	}
}

// delete deletes a message whose work is done. It runs even when ctx is
// cancelled, because a message left behind would be handled again.
func (r *Router) delete(ctx context.Context, log *slog.Logger, queueURL string, m types.Message) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	_, err := r.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl:      aws.String(queueURL),
		ReceiptHandle: m.ReceiptHandle,
	})
	if err != nil {
		r.stats.deleteErrors.Add(1)
		log.Warn("deleting SQS message failed; it will be delivered again", "error", err)
	}
}

// callHandler calls h, turning a panic into an error.
func callHandler(ctx context.Context, h Handler, n Notification, info MessageInfo) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, n, info)
}

func newMessageInfo(queueURL string, m types.Message) MessageInfo {
	attr := func(name types.MessageSystemAttributeName) int64 {
		v, _ := strconv.ParseInt(m.Attributes[string(name)], 10, 64)
		return v
	}
	millis := func(name types.MessageSystemAttributeName) time.Time {
		if v := attr(name); v > 0 {
			return time.UnixMilli(v)
		}
		return time.Time{}
	}
	return MessageInfo{
		QueueURL:        queueURL,
		MessageID:       aws.ToString(m.MessageId),
		ReceiveCount:    int(attr(types.MessageSystemAttributeNameApproximateReceiveCount)),
		SentAt:          millis(types.MessageSystemAttributeNameSentTimestamp),
		FirstReceivedAt: millis(types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp),
		Body:            aws.ToString(m.Body),
	}
}

// truncate shortens s to at most n bytes, cut at a character boundary, and
// says how long it was.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}
