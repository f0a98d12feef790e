package sqsemu

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// queue is one standard queue. All fields are guarded by Service.mu.
type queue struct {
	name     string
	arn      string
	created  time.Time
	modified time.Time
	attrs    map[string]string // settable attributes that were set, normalised
	redrive  *redrivePolicy    // parsed RedrivePolicy; nil when none
	tags     map[string]string
	msgs     []*message // in send order
	byID     map[string]*message
	notify   chan struct{} // closed and replaced on every change (wakes long polls)
}

// message is one message in a queue.
type message struct {
	id           string
	body         string
	md5Body      string
	attrs        map[string]attributeValue
	md5Attrs     string
	sysAttrs     map[string]attributeValue
	md5SysAttrs  string
	sent         time.Time
	visibleAt    time.Time // not receivable before; delay or visibility timeout
	receiveCount int
	firstReceive time.Time
	handle       string // receipt handle of the latest receive; "" before the first
	dlqSource    string // ARN of the queue it was redriven from
}

// visible reports whether m can be received at now.
func (m *message) visible(now time.Time) bool { return !m.visibleAt.After(now) }

// inflight reports whether m has been received and its visibility timeout
// has not expired.
func (m *message) inflight(now time.Time) bool { return m.receiveCount > 0 && m.visibleAt.After(now) }

// delayed reports whether m was never received and is still delayed.
func (m *message) delayed(now time.Time) bool { return m.receiveCount == 0 && m.visibleAt.After(now) }

func newQueue(name, arn string, now time.Time) *queue {
	return &queue{
		name:     name,
		arn:      arn,
		created:  now,
		modified: now,
		attrs:    map[string]string{},
		tags:     map[string]string{},
		byID:     map[string]*message{},
		notify:   make(chan struct{}),
	}
}

// signal wakes every long poll waiting on q.
func (q *queue) signal() {
	close(q.notify)
	q.notify = make(chan struct{})
}

// intAttr is the value of an integer attribute, or its default.
func (q *queue) intAttr(name string) int {
	v, ok := q.attrs[name]
	if !ok {
		v = queueAttrSpecs[name].def
	}
	n, _ := strconv.Atoi(v)
	return n
}

func (q *queue) add(m *message) {
	q.msgs = append(q.msgs, m)
	q.byID[m.id] = m
}

func (q *queue) removeAt(i int) {
	delete(q.byID, q.msgs[i].id)
	q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
}

func (q *queue) remove(m *message) {
	for i, x := range q.msgs {
		if x == m {
			q.removeAt(i)
			return
		}
	}
}

func (q *queue) purge() {
	q.msgs = nil
	q.byID = map[string]*message{}
}

// expire drops messages older than the retention period.
func (q *queue) expire(now time.Time) {
	limit := now.Add(-time.Duration(q.intAttr("MessageRetentionPeriod")) * time.Second)
	kept := q.msgs[:0]
	for _, m := range q.msgs {
		if m.sent.After(limit) {
			kept = append(kept, m)
		} else {
			delete(q.byID, m.id)
		}
	}
	clear(q.msgs[len(kept):])
	q.msgs = kept
}

// counts returns the approximate numbers of visible, in-flight and
// delayed messages.
func (q *queue) counts(now time.Time) (visible, inflight, delayed int) {
	for _, m := range q.msgs {
		switch {
		case m.visible(now):
			visible++
		case m.inflight(now):
			inflight++
		case m.delayed(now):
			delayed++
		}
	}
	return visible, inflight, delayed
}

// nextVisibleAt is the earliest future time at which a message becomes
// visible, or the zero time when none will without a change.
func (q *queue) nextVisibleAt(now time.Time) time.Time {
	var next time.Time
	for _, m := range q.msgs {
		if m.visibleAt.After(now) && (next.IsZero() || m.visibleAt.Before(next)) {
			next = m.visibleAt
		}
	}
	return next
}

// newHandle returns a fresh receipt handle for message id of queue name.
// Handles are opaque to clients but encode the queue and message so stale
// and foreign handles can be told apart.
func (s *Service) newHandle(queueName, id string) string {
	s.seq++
	raw := queueName + "\x00" + id + "\x00" + strconv.FormatUint(s.seq, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// parseHandle decodes a receipt handle into its queue name and message id.
func parseHandle(h string) (queueName, id string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// messageForHandle resolves a receipt handle on q. It returns
// (nil, nil) when the handle is well-formed but its message is gone
// (deleted or expired), and ReceiptHandleIsInvalid when the handle is
// malformed, belongs to another queue, or is not the message's latest
// handle (a stale handle of a message received again since).
func (q *queue) messageForHandle(h string) (*message, error) {
	if h == "" {
		return nil, errMissingParameter("ReceiptHandle")
	}
	name, id, ok := parseHandle(h)
	if !ok || name != q.name {
		return nil, errReceiptHandleIsInvalid(h)
	}
	m := q.byID[id]
	if m == nil {
		return nil, nil
	}
	if m.handle != h {
		return nil, errReceiptHandleIsInvalid(h)
	}
	return m, nil
}
