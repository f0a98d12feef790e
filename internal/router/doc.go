// Package router is the worker's notification router: it long-polls SQS
// queues, recognises the AWS notifications vigil's flows wait for and hands
// them to handlers that the flows register. A handler typically signals a
// waiting workflow or signals-with-start one; the router itself knows nothing
// about Temporal.
//
// # Recognised messages
//
// [Parse] accepts an SQS message body that is either an SNS envelope (SNS to
// SQS without raw delivery: Type "Notification" with the payload in the
// Message string) or the payload itself (raw delivery, or S3 writing straight
// to SQS). Payloads are Glacier job completions ([KindGlacierJob]), S3 event
// records ([KindS3Event]) and the s3:TestEvent that S3 sends when a
// notification configuration is saved ([KindS3TestEvent]).
//
// # Delivery semantics
//
// SQS delivers at least once, so handlers must be idempotent; vigil's
// handlers are, because workflow IDs are derived from what a notification is
// about (DESIGN.md §2, "Identity and idempotency").
//
//   - A message is deleted only after every handler registered for its kind
//     returned nil.
//   - If a handler returns an error (or panics), the message is left on the
//     queue: it becomes visible again after its visibility timeout and, after
//     the queue's maxReceiveCount, SQS moves it to the dead-letter queue.
//   - An s3:TestEvent, or a notification of a kind no handler is registered
//     for, is logged and deleted: it is well-formed and nobody needs it.
//   - A message that [Parse] rejects (not JSON, or JSON of a shape the router
//     does not know, such as an SNS SubscriptionConfirmation) is logged with
//     its MessageId, receive count and the start of its body, and is left on
//     the queue, so that it ends up in the dead-letter queue.
//
// Why unparseable messages are left for the DLQ rather than deleted: on a
// queue that vigil reads, such a message means a misconfiguration (a wrong
// subscription, raw delivery switched on or off halfway, a foreign producer)
// or an AWS format that this version does not understand yet. It may well be
// the completion a workflow is waiting for, and deleting it would destroy the
// only copy together with the evidence. Leaving it costs a few re-receives
// (one log line each) before SQS's redrive moves it to the DLQ, where depth
// alarms catch it and an operator can inspect it and redrive it after
// fixing the cause. Queues that vigil consumes should therefore have a
// redrive policy; without one a rejected message keeps coming back until the
// queue's retention period ends.
//
// # Polling
//
// [Router.Run] runs one goroutine per queue, each long-polling with
// ReceiveMessage (WaitTimeSeconds, up to MaxMessages per call) and handling
// the batch in order. Receive errors are logged and retried after a bounded
// exponential back-off that resets on the next successful receive. Queues can
// be added while Run is running ([Router.AddQueue]); Run returns once its
// context is cancelled and every queue goroutine has ended.
package router
