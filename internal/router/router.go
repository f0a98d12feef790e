package router

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQSAPI is the part of the SQS client the router uses; *sqs.Client
// implements it.
type SQSAPI interface {
	// ReceiveMessage is (*sqs.Client).ReceiveMessage.
	ReceiveMessage(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	// DeleteMessage is (*sqs.Client).DeleteMessage.
	DeleteMessage(ctx context.Context, params *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// Handler handles one notification. It returns nil once the notification has
// been acted on (e.g. the workflow was signalled); the message is then
// deleted. An error leaves the message on the queue to be delivered again.
// Handlers must be idempotent: SQS may deliver a message more than once.
type Handler func(ctx context.Context, n Notification, msg MessageInfo) error

// Options configure a Router. The zero value gives the defaults.
type Options struct {
	// Logger receives the router's logs; nil means slog.Default().
	Logger *slog.Logger
	// WaitTimeSeconds is the long-polling wait of each ReceiveMessage call,
	// 1 to 20; 0 (or out of range) means 20, SQS's maximum.
	WaitTimeSeconds int32
	// MaxMessages is the batch size of each ReceiveMessage call, 1 to 10;
	// 0 (or out of range) means 10.
	MaxMessages int32
	// VisibilityTimeout, if positive, overrides the queue's visibility
	// timeout for received messages (whole seconds, rounded up): a message
	// whose handler fails becomes visible again after it.
	VisibilityTimeout time.Duration
	// ErrorBackoff is the first pause after a failed ReceiveMessage; it
	// doubles with each further failure up to MaxErrorBackoff and resets on
	// success. 0 means 1 s.
	ErrorBackoff time.Duration
	// MaxErrorBackoff caps the pause between failing receives; 0 means 1 min.
	MaxErrorBackoff time.Duration
}

// ErrRunning is returned by Run when the router is already running.
var ErrRunning = errors.New("router: already running")

// Router long-polls SQS queues and dispatches the notifications it
// recognises to the handlers registered for their kind. Its methods are safe
// for concurrent use.
type Router struct {
	client SQSAPI
	opts   Options
	log    *slog.Logger
	stats  counters
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration)
	// observe, if set, is called after each message's processing; tests
	// set it before Run.
	observe func(outcome, MessageInfo)

	mu       sync.Mutex
	handlers map[Kind][]Handler
	queues   []string // in the order they were added
	running  bool
	runCtx   context.Context // the current Run's context, while running
	wg       sync.WaitGroup  // the current Run's queue goroutines
}

// New returns a Router that receives from and deletes on client (normally an
// *sqs.Client).
func New(client SQSAPI, opts Options) *Router {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.WaitTimeSeconds < 1 || opts.WaitTimeSeconds > 20 {
		opts.WaitTimeSeconds = 20
	}
	if opts.MaxMessages < 1 || opts.MaxMessages > 10 {
		opts.MaxMessages = 10
	}
	if opts.ErrorBackoff <= 0 {
		opts.ErrorBackoff = time.Second
	}
	if opts.MaxErrorBackoff <= 0 {
		opts.MaxErrorBackoff = time.Minute
	}
	opts.MaxErrorBackoff = max(opts.MaxErrorBackoff, opts.ErrorBackoff)
	return &Router{
		client:   client,
		opts:     opts,
		log:      opts.Logger,
		sleep:    sleepCtx,
		handlers: make(map[Kind][]Handler),
	}
}

// Register adds h as a handler for notifications of kind k. Several handlers
// may be registered for one kind (e.g. one flow for ObjectCreated and one for
// ObjectRestore events); each is called, in registration order, and the
// message is deleted only if all of them return nil. Handlers may be
// registered while the router runs.
func (r *Router) Register(k Kind, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[k] = append(r.handlers[k], h)
}

// AddQueue adds a queue to poll. While Run is running, polling starts at
// once; otherwise it starts with the next Run. Adding a queue that is
// already there does nothing.
func (r *Router) AddQueue(url string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addQueueLocked(url)
}

// Queues returns the queues added so far, in the order they were added.
func (r *Router) Queues() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.queues)
}

// Run adds queueURLs to the router's queues and polls every queue, each in
// its own goroutine, until ctx is cancelled; it then waits for the
// goroutines to finish and returns nil. A message being handled when ctx is
// cancelled is still deleted if its handlers succeed; the rest of its batch
// is left on the queue. Run returns ErrRunning if the router is already
// running; once Run has returned, it may be called again.
func (r *Router) Run(ctx context.Context, queueURLs ...string) error {
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return ErrRunning
	}
	for _, q := range queueURLs {
		r.addQueueLocked(q)
	}
	r.running, r.runCtx = true, ctx
	for _, q := range r.queues {
		r.startLocked(q)
	}
	r.mu.Unlock()

	<-ctx.Done()

	r.mu.Lock()
	r.running, r.runCtx = false, nil
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}

func (r *Router) addQueueLocked(url string) {
	if url == "" || slices.Contains(r.queues, url) {
		return
	}
	r.queues = append(r.queues, url)
	if r.running {
		r.startLocked(url)
	}
}

// startLocked starts polling url in the current Run.
func (r *Router) startLocked(url string) {
	ctx := r.runCtx
	r.wg.Go(func() { r.poll(ctx, url) })
}

func (r *Router) handlersFor(k Kind) []Handler {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.handlers[k])
}
