package sqsemu

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// minWake bounds how often a long poll wakes for a message whose
// visibility timeout or delay is about to end.
const minWake = 5 * time.Millisecond

// selection is what a ReceiveMessage asked to see besides the body.
type selection struct {
	allSystem bool
	system    map[string]bool
	allUser   bool
	user      []string // exact names, or prefixes ending in ".*"
}

func newSelection(in receiveRequest) selection {
	sel := selection{system: map[string]bool{}}
	for _, n := range append(in.AttributeNames, in.MessageSystemAttributeNames...) {
		if n == "All" {
			sel.allSystem = true
		}
		sel.system[n] = true
	}
	for _, n := range in.MessageAttributeNames {
		if n == "All" || n == ".*" {
			sel.allUser = true
		}
		sel.user = append(sel.user, n)
	}
	return sel
}

func (sel selection) wantsUser(name string) bool {
	if sel.allUser {
		return true
	}
	for _, n := range sel.user {
		if n == name || (strings.HasSuffix(n, ".*") && strings.HasPrefix(name, strings.TrimSuffix(n, "*"))) {
			return true
		}
	}
	return false
}

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// render builds the wire form of a received message.
func (s *Service) render(m *message, sel selection) wireMessage {
	out := wireMessage{MessageId: m.id, ReceiptHandle: m.handle, MD5OfBody: m.md5Body, Body: m.body}
	sys := map[string]string{}
	add := func(name, value string) {
		if sel.allSystem || sel.system[name] {
			sys[name] = value
		}
	}
	add("SenderId", s.account)
	add("SentTimestamp", millis(m.sent))
	add("ApproximateReceiveCount", strconv.Itoa(m.receiveCount))
	add("ApproximateFirstReceiveTimestamp", millis(m.firstReceive))
	if v, ok := m.sysAttrs["AWSTraceHeader"]; ok {
		add("AWSTraceHeader", deref(v.StringValue))
	}
	if m.dlqSource != "" {
		add("DeadLetterQueueSourceArn", m.dlqSource)
	}
	if len(sys) > 0 {
		out.Attributes = sys
	}
	user := map[string]attributeValue{}
	for name, v := range m.attrs {
		if sel.wantsUser(name) {
			user[name] = v
		}
	}
	if len(user) > 0 {
		out.MessageAttributes = user
		out.MD5OfMessageAttributes = md5OfAttributes(user)
	}
	return out
}

// receiveLocked takes up to limit visible messages from q, hiding each for
// vis. A message already received maxReceiveCount times moves to the
// dead-letter queue instead of being returned.
func (s *Service) receiveLocked(q *queue, now time.Time, limit int, vis time.Duration, sel selection) []wireMessage {
	q.expire(now)
	var dlq *queue
	if q.redrive != nil {
		if d := s.queueByARNLocked(q.redrive.DeadLetterTargetArn); d != q {
			dlq = d
		}
	}
	var out []wireMessage
	for i := 0; i < len(q.msgs) && len(out) < limit; {
		m := q.msgs[i]
		if !m.visible(now) {
			i++
			continue
		}
		if dlq != nil && m.receiveCount >= q.redrive.MaxReceiveCount {
			q.removeAt(i)
			s.log.Info("sqs message moved to dead-letter queue", "queue", q.name, "dlq", dlq.name,
				"messageId", m.id, "receiveCount", m.receiveCount)
			m.receiveCount, m.firstReceive, m.handle = 0, time.Time{}, ""
			m.visibleAt, m.dlqSource = now, q.arn
			dlq.add(m)
			dlq.signal()
			continue
		}
		m.receiveCount++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.visibleAt = now.Add(vis)
		m.handle = s.newHandle(q.name, m.id)
		out = append(out, s.render(m, sel))
		i++
	}
	return out
}

// intParam validates an optional integer parameter.
func intParam(v *int, name string, def, min, max int) (int, error) {
	if v == nil {
		return def, nil
	}
	if *v < min || *v > max {
		return 0, errInvalidParameterValue("Value %d for parameter %s is invalid. Reason: Must be between "+
			"%d and %d, if provided.", *v, name, min, max)
	}
	return *v, nil
}

// receiveMessage answers at once when messages are visible, otherwise
// waits up to WaitTimeSeconds (or the queue's ReceiveMessageWaitTimeSeconds)
// for a send, a visibility change or a timeout to make one visible. It
// returns early, empty, when the client goes away.
func (s *Service) receiveMessage(r *http.Request, body []byte) (any, error) {
	in, err := decode[receiveRequest](body)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(in.MaxNumberOfMessages, "MaxNumberOfMessages", 1, 1, 10)
	if err != nil {
		return nil, err
	}
	sel := newSelection(in)

	s.mu.Lock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	var wait, vis int
	if err == nil {
		wait, err = intParam(in.WaitTimeSeconds, "WaitTimeSeconds", q.intAttr("ReceiveMessageWaitTimeSeconds"), 0, 20)
	}
	if err == nil {
		vis, err = intParam(in.VisibilityTimeout, "VisibilityTimeout", q.intAttr("VisibilityTimeout"), 0, 43200)
	}
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	return s.poll(r, q, in.QueueUrl, limit, time.Duration(vis)*time.Second, time.Duration(wait)*time.Second, sel)
}

// poll is the receive loop; it is entered with s.mu held.
func (s *Service) poll(r *http.Request, q *queue, queueURL string, limit int, vis, wait time.Duration,
	sel selection) (any, error) {
	done := wait <= 0
	var deadline <-chan time.Time
	if !done {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		now := s.now()
		msgs := s.receiveLocked(q, now, limit, vis, sel)
		if len(msgs) > 0 || done {
			s.mu.Unlock()
			return receiveResponse{Messages: msgs}, nil
		}
		changed := q.notify
		var wake <-chan time.Time
		var wakeTimer *time.Timer
		if next := q.nextVisibleAt(now); !next.IsZero() {
			wakeTimer = time.NewTimer(max(next.Sub(now), minWake))
			wake = wakeTimer.C
		}
		hook := s.waitHook
		s.mu.Unlock()
		if hook != nil {
			hook()
		}

		select {
		case <-changed:
		case <-wake:
		case <-deadline:
			done = true
		case <-r.Context().Done():
			if wakeTimer != nil {
				wakeTimer.Stop()
			}
			return receiveResponse{}, nil
		}
		if wakeTimer != nil {
			wakeTimer.Stop()
		}

		s.mu.Lock()
		var err error
		if q, err = s.queueByURLLocked(queueURL); err != nil {
			s.mu.Unlock()
			return nil, err
		}
	}
}
