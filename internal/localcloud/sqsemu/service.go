// Package sqsemu emulates Amazon SQS for vigil's local cloud. It speaks the
// AWS JSON 1.0 protocol exactly as aws-sdk-go-v2/service/sqs sends it
// (POST /, X-Amz-Target: AmazonSQS.<Op>) and answers errors in the
// query-compatible form, so the SDK yields its typed errors.
//
// Standard queues only: long polling, visibility timeouts, delays, message
// attributes with their MD5 digests, and redrive to a dead-letter queue.
// State is kept in memory and is safe for concurrent use. Time comes from an
// injectable clock so visibility timeouts can be tested.
package sqsemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// TargetPrefix starts the X-Amz-Target header of every SQS request.
const TargetPrefix = "AmazonSQS."

// maxRequestBytes bounds a request body (a full batch of 1 MiB messages
// plus JSON overhead fits).
const maxRequestBytes = 12 << 20

// Options configure the SQS emulator.
type Options struct {
	// Region goes into queue ARNs; default us-east-1.
	Region string
	// AccountID goes into queue URLs and ARNs; default 000000000000.
	AccountID string
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// Now is the clock for timestamps, delays and visibility timeouts;
	// default time.Now.
	Now func() time.Time
}

// Service is the SQS emulator. It implements the local cloud's service
// interface (Name, Match, ServeHTTP) and an in-process API for the other
// emulators (SendToARN, QueueARN, CreateQueue).
type Service struct {
	region  string
	account string
	log     *slog.Logger
	now     func() time.Time

	mu     sync.Mutex
	queues map[string]*queue // by name
	seq    uint64            // receipt handle counter

	// waitHook, when set (tests), runs each time a long poll starts waiting.
	waitHook func()
}

// New returns an empty SQS emulator.
func New(opts Options) *Service {
	s := &Service{
		region:  opts.Region,
		account: opts.AccountID,
		log:     opts.Logger,
		now:     opts.Now,
		queues:  map[string]*queue{},
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.account == "" {
		s.account = "000000000000"
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Name is "sqs".
func (s *Service) Name() string { return "sqs" }

// Match reports whether r is an SQS JSON request (X-Amz-Target AmazonSQS.*).
func (s *Service) Match(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
}

// opHandler serves one operation from the raw JSON request body.
type opHandler func(s *Service, r *http.Request, body []byte) (any, error)

var operations = map[string]opHandler{
	"CreateQueue":                  (*Service).createQueue,
	"GetQueueUrl":                  (*Service).getQueueURL,
	"GetQueueAttributes":           (*Service).getQueueAttributes,
	"SetQueueAttributes":           (*Service).setQueueAttributes,
	"ListQueues":                   (*Service).listQueues,
	"ListDeadLetterSourceQueues":   (*Service).listDeadLetterSourceQueues,
	"DeleteQueue":                  (*Service).deleteQueue,
	"PurgeQueue":                   (*Service).purgeQueue,
	"TagQueue":                     (*Service).tagQueue,
	"UntagQueue":                   (*Service).untagQueue,
	"ListQueueTags":                (*Service).listQueueTags,
	"SendMessage":                  (*Service).sendMessage,
	"SendMessageBatch":             (*Service).sendMessageBatch,
	"ReceiveMessage":               (*Service).receiveMessage,
	"DeleteMessage":                (*Service).deleteMessage,
	"DeleteMessageBatch":           (*Service).deleteMessageBatch,
	"ChangeMessageVisibility":      (*Service).changeMessageVisibility,
	"ChangeMessageVisibilityBatch": (*Service).changeMessageVisibilityBatch,
}

// ServeHTTP serves one SQS JSON 1.0 request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	w.Header().Set("X-Amzn-RequestId", uuid.NewString())
	h, ok := operations[op]
	if !ok || r.Method != http.MethodPost {
		e := errUnsupportedOperation("Operation %s (%s) is not supported by the local SQS emulator.", op, r.Method)
		s.log.Debug("sqs request", "op", op, "error", e.code())
		writeError(w, e)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		writeError(w, errSerialization(err))
		return
	}
	out, err := h(s, r, body)
	if err != nil {
		e := asAPIError(err)
		s.log.Debug("sqs request", "op", op, "error", e.code(), "message", e.message)
		writeError(w, e)
		return
	}
	s.log.Debug("sqs request", "op", op)
	if out == nil {
		out = struct{}{}
	}
	writeJSON(w, http.StatusOK, out)
}

// writeJSON writes v as an AWS JSON 1.0 body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"InternalFailure","message":"encoding response"}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decode parses a request body; an empty body is an empty object.
func decode[T any](body []byte) (T, error) {
	var v T
	if len(bytes.TrimSpace(body)) == 0 {
		return v, nil
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return v, errSerialization(err)
	}
	return v, nil
}

// QueueARN returns the ARN a queue called name has (or would have).
func (s *Service) QueueARN(name string) string {
	return "arn:aws:sqs:" + s.region + ":" + s.account + ":" + name
}

// queueURL builds a queue URL on the host the client used.
func (s *Service) queueURL(host, name string) string {
	if host == "" {
		host = "localhost"
	}
	return "http://" + host + "/" + s.account + "/" + name
}

// queueByURLLocked finds a queue from its URL, whatever the host: the last
// two path segments are the account and the queue name.
func (s *Service) queueByURLLocked(queueURL string) (*queue, error) {
	if queueURL == "" {
		return nil, errMissingParameter("QueueUrl")
	}
	path := queueURL
	if u, err := url.Parse(queueURL); err == nil && u.Path != "" {
		path = u.Path
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) < 2 || parts[len(parts)-2] != s.account {
		return nil, errQueueDoesNotExist()
	}
	q := s.queues[parts[len(parts)-1]]
	if q == nil {
		return nil, errQueueDoesNotExist()
	}
	return q, nil
}

// queueByARNLocked finds a queue from its ARN (region and account must be
// this emulator's).
func (s *Service) queueByARNLocked(arn string) *queue {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[3] != s.region || parts[4] != s.account {
		return nil
	}
	return s.queues[parts[5]]
}

// SendToARN enqueues a message on the queue with the given ARN, as SNS or
// S3 event notifications deliver it. attrs (may be nil) become String
// message attributes. A missing queue yields an error wrapping
// ErrQueueDoesNotExist.
func (s *Service) SendToARN(arn, body string, attrs map[string]string) error {
	in := sendRequest{MessageBody: &body}
	if len(attrs) > 0 {
		in.MessageAttributes = make(map[string]attributeValue, len(attrs))
		for k, v := range attrs {
			in.MessageAttributes[k] = attributeValue{DataType: "String", StringValue: &v}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queueByARNLocked(arn)
	if q == nil {
		return fmt.Errorf("%w: no queue with ARN %s", ErrQueueDoesNotExist, arn)
	}
	_, err := s.enqueueLocked(q, in, s.now())
	return err
}

// CreateQueue creates a queue in process (as the CreateQueue API does, so
// it is idempotent for equal attributes) and returns its ARN.
func (s *Service) CreateQueue(name string, attrs map[string]string) (arn string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.createQueueLocked(name, attrs, nil)
	if err != nil {
		return "", err
	}
	return q.arn, nil
}
