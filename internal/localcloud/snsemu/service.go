// Package snsemu emulates Amazon SNS for vigil's local cloud. It speaks the
// AWS Query protocol as aws-sdk-go-v2/service/sns sends it (POST / with a
// form-encoded Action=...&Version=2010-03-31, XML responses and errors) and
// delivers published messages to subscribed SQS queues, raw or in the
// standard SNS JSON envelope.
//
// Only the sqs protocol is supported for subscriptions. State is kept in
// memory and is safe for concurrent use. Signatures are not checked and the
// envelope's Signature is a placeholder.
package snsemu

import (
	"bytes"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// QueueSender delivers a message body to the SQS queue with the given ARN;
// attrs (may be nil) become String message attributes. The SQS emulator
// implements it.
type QueueSender interface {
	SendToARN(arn, body string, attrs map[string]string) error
}

// Options configure the SNS emulator.
type Options struct {
	// Region goes into topic ARNs; default us-east-1.
	Region string
	// AccountID goes into topic ARNs; default 000000000000.
	AccountID string
	// Logger receives request and delivery logs; nil discards.
	Logger *slog.Logger
	// Now is the clock for envelope timestamps; default time.Now.
	Now func() time.Time
	// Queues receives deliveries to sqs subscriptions; nil makes every
	// delivery fail (and be logged).
	Queues QueueSender
	// Endpoint is the base URL used in the envelope's SigningCertURL and
	// UnsubscribeURL; default http://localhost:4566.
	Endpoint string
}

// Service is the SNS emulator. It implements the local cloud's service
// interface (Name, Match, ServeHTTP) and an in-process API (CreateTopic,
// Subscribe, Publish, TopicARN) for fixtures and the other emulators.
type Service struct {
	region   string
	account  string
	log      *slog.Logger
	now      func() time.Time
	queues   QueueSender
	endpoint string

	mu     sync.Mutex
	topics map[string]*topic        // by ARN
	subs   map[string]*subscription // by ARN
}

// New returns an SNS emulator without topics.
func New(opts Options) *Service {
	s := &Service{
		region:   opts.Region,
		account:  opts.AccountID,
		log:      opts.Logger,
		now:      opts.Now,
		queues:   opts.Queues,
		endpoint: strings.TrimRight(opts.Endpoint, "/"),
		topics:   map[string]*topic{},
		subs:     map[string]*subscription{},
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
	if s.endpoint == "" {
		s.endpoint = "http://localhost:4566"
	}
	return s
}

// Name is "sns".
func (s *Service) Name() string { return "sns" }

// APIVersion is the Version parameter of SNS requests.
const APIVersion = "2010-03-31"

// maxBodyBytes bounds a request body (a 256 KiB message, form-encoded).
const maxBodyBytes = 2 << 20

// actions are the SNS API actions; requests for those the emulator does
// not implement are answered with an error rather than left to another
// service.
var actions = map[string]bool{}

func init() {
	for _, a := range strings.Fields(`AddPermission CheckIfPhoneNumberIsOptedOut ConfirmSubscription
		CreatePlatformApplication CreatePlatformEndpoint CreateSMSSandboxPhoneNumber CreateTopic DeleteEndpoint
		DeletePlatformApplication DeleteSMSSandboxPhoneNumber DeleteTopic GetDataProtectionPolicy
		GetEndpointAttributes GetPlatformApplicationAttributes GetSMSAttributes GetSMSSandboxAccountStatus
		GetSubscriptionAttributes GetTopicAttributes ListEndpointsByPlatformApplication ListOriginationNumbers
		ListPhoneNumbersOptedOut ListPlatformApplications ListSMSSandboxPhoneNumbers ListSubscriptions
		ListSubscriptionsByTopic ListTagsForResource ListTopics OptInPhoneNumber Publish PublishBatch
		PutDataProtectionPolicy RemovePermission SetEndpointAttributes SetPlatformApplicationAttributes
		SetSMSAttributes SetSubscriptionAttributes SetTopicAttributes Subscribe TagResource Unsubscribe
		UntagResource VerifySMSSandboxPhoneNumber`) {
		actions[a] = true
	}
}

// isForm reports whether r carries a form-encoded body.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// Match reports whether r is an SNS Query request: a form POST to / whose
// Action is an SNS action. The body is buffered and put back, so the
// handler (this one or another service's) still reads all of it.
func (s *Service) Match(r *http.Request) bool {
	if r.Method != http.MethodPost || r.URL.Path != "/" || !isForm(r) {
		return false
	}
	form := r.URL.Query()
	if form.Get("Action") == "" && r.Body != nil {
		buf, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
		if err != nil {
			return false
		}
		form, err = url.ParseQuery(string(buf))
		if err != nil {
			return false
		}
	}
	v := form.Get("Version")
	return actions[form.Get("Action")] && (v == "" || v == APIVersion)
}

// handler serves one action from its parameters.
type handler func(s *Service, p params) (any, error)

var handlers = map[string]handler{
	"CreateTopic":               (*Service).createTopic,
	"DeleteTopic":               (*Service).deleteTopic,
	"ListTopics":                (*Service).listTopics,
	"GetTopicAttributes":        (*Service).getTopicAttributes,
	"SetTopicAttributes":        (*Service).setTopicAttributes,
	"Subscribe":                 (*Service).subscribe,
	"Unsubscribe":               (*Service).unsubscribe,
	"ListSubscriptions":         (*Service).listSubscriptions,
	"ListSubscriptionsByTopic":  (*Service).listSubscriptionsByTopic,
	"GetSubscriptionAttributes": (*Service).getSubscriptionAttributes,
	"SetSubscriptionAttributes": (*Service).setSubscriptionAttributes,
	"Publish":                   (*Service).publish,
	"TagResource":               (*Service).tagResource,
	"UntagResource":             (*Service).untagResource,
	"ListTagsForResource":       (*Service).listTagsForResource,
}

// ServeHTTP serves one SNS Query request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := uuid.NewString()
	w.Header().Set("X-Amzn-RequestId", requestID)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, requestID, errInvalidParameter("Request body: %v", err))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, requestID, errInvalidParameter("Malformed form body: %v", err))
		return
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	action := form.Get("Action")
	h, ok := handlers[action]
	if !ok {
		e := &apiError{status: http.StatusBadRequest, code: "InvalidAction",
			message: "The action " + action + " is not valid for this endpoint or not supported by the local SNS emulator."}
		s.log.Debug("sns request", "action", action, "error", e.code)
		writeError(w, requestID, e)
		return
	}
	out, err := h(s, params(form))
	if err != nil {
		e := asAPIError(err)
		s.log.Debug("sns request", "action", action, "error", e.code, "message", e.message)
		writeError(w, requestID, e)
		return
	}
	s.log.Debug("sns request", "action", action)
	writeResult(w, requestID, action, out)
}

// TopicARN returns the ARN a topic called name has (or would have).
func (s *Service) TopicARN(name string) string {
	return "arn:aws:sns:" + s.region + ":" + s.account + ":" + name
}
