// Package slacksink is a stand-in for Slack incoming webhooks in vigil's
// local cloud. Every POST under /_slack/ is validated as Slack does,
// answered "ok", logged and kept; GET /_slack/messages lists what was
// received and DELETE /_slack/messages forgets it. Tests read the messages
// in process (Messages, Wait).
package slacksink

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PathPrefix starts every path the sink serves.
const PathPrefix = "/_slack/"

// MessagesPath lists (GET) or clears (DELETE) the received messages.
const MessagesPath = PathPrefix + "messages"

// maxKept bounds how many messages are kept; the oldest are dropped.
const maxKept = 1000

// maxBodyBytes bounds a webhook body.
const maxBodyBytes = 1 << 20

// Options configure the sink.
type Options struct {
	// Logger receives one line per message; nil discards.
	Logger *slog.Logger
	// Now stamps received messages; default time.Now.
	Now func() time.Time
}

// Service is the Slack webhook sink. It implements the local cloud's
// service interface (Name, Match, ServeHTTP).
type Service struct {
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	messages []Message
	first    int           // sequence number of messages[0]
	added    chan struct{} // closed and replaced when a message arrives
}

// New returns an empty sink.
func New(opts Options) *Service {
	s := &Service{log: opts.Logger, now: opts.Now, added: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Name is "slack".
func (s *Service) Name() string { return "slack" }

// Match reports whether the path is under /_slack/.
func (s *Service) Match(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, PathPrefix) }

// ServeHTTP accepts webhook posts and serves the message list.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == MessagesPath && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Messages())
	case r.URL.Path == MessagesPath && r.Method == http.MethodDelete:
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost:
		s.receive(w, r)
	default:
		reply(w, http.StatusMethodNotAllowed, "invalid_method")
	}
}

// reply answers like Slack: a short plain-text status word.
func reply(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// payloadOf extracts the JSON payload of a webhook post: the body, or the
// "payload" field of a form post (Slack accepts both).
func payloadOf(r *http.Request, body []byte) []byte {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Has("payload") {
			return []byte(form.Get("payload"))
		}
	}
	return body
}

func (s *Service) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		reply(w, http.StatusRequestEntityTooLarge, "invalid_payload")
		return
	}
	raw := payloadOf(r, body)
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil || !json.Valid(raw) {
		s.log.Warn("slack webhook: invalid payload", "path", r.URL.Path, "error", err)
		reply(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	if !p.hasContent() {
		s.log.Warn("slack webhook: no text", "path", r.URL.Path)
		reply(w, http.StatusBadRequest, "no_text")
		return
	}
	m := Message{Path: r.URL.Path, Received: s.now(), Payload: json.RawMessage(append([]byte(nil), raw...))}
	s.add(m)
	attrs := []any{"path", m.Path, "text", p.Text, "attachments", len(p.Attachments), "blocks", len(p.Blocks)}
	for i, a := range p.Attachments {
		attrs = append(attrs, slog.Group("attachment"+strconv.Itoa(i), "color", a.Color, "title", a.Title, "text", a.Text))
	}
	s.log.Info("slack message", attrs...)
	reply(w, http.StatusOK, "ok")
}

func (s *Service) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	if drop := len(s.messages) - maxKept; drop > 0 {
		s.messages = append([]Message(nil), s.messages[drop:]...)
		s.first += drop
	}
	close(s.added)
	s.added = make(chan struct{})
}

// Messages returns the received messages, oldest first.
func (s *Service) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message{}, s.messages...)
}

// Reset forgets every received message.
func (s *Service) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.first += len(s.messages)
	s.messages = nil
}

// Wait returns the first kept message for which match returns true,
// waiting for new messages until one matches or ctx ends (then it returns
// ctx's error). A nil match accepts any message.
func (s *Service) Wait(ctx context.Context, match func(Message) bool) (Message, error) {
	next := 0 // sequence number of the first message not yet looked at
	for {
		s.mu.Lock()
		msgs, first, added := s.messages, s.first, s.added
		s.mu.Unlock()
		for _, m := range msgs[max(next-first, 0):] {
			if match == nil || match(m) {
				return m, nil
			}
		}
		next = first + len(msgs)
		select {
		case <-added:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}
