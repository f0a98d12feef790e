package snsemu

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// maxMessageBytes is SNS's limit on a message plus its attributes.
const maxMessageBytes = 262144

// signingCertPath is the certificate path the envelope points at.
const signingCertPath = "/SimpleNotificationService-6aad65c2f9911b05cd53efda11f913f9.pem"

// publication is one validated Publish.
type publication struct {
	topicARN  string
	subject   string
	message   string
	structure string // "" or "json"
	attrs     map[string]messageAttribute
}

// delivery is a subscription as seen when a message is published.
type delivery struct {
	subARN   string
	queueARN string
	raw      bool
}

// validate applies SNS's checks on a message; it returns the per-protocol
// messages of a MessageStructure=json publish (nil otherwise).
func (pub publication) validate() (map[string]string, error) {
	if pub.message == "" {
		return nil, errInvalidParameter("Empty message")
	}
	size := len(pub.message)
	for name, a := range pub.attrs {
		size += len(name) + len(a.DataType) + len(a.Value)
	}
	if size > maxMessageBytes {
		return nil, errInvalidParameter("Message too long")
	}
	if len(pub.subject) > 100 {
		return nil, errInvalidParameter("Subject")
	}
	for _, r := range pub.subject {
		if r < 0x20 || r > 0x7e {
			return nil, errInvalidParameter("Subject")
		}
	}
	switch pub.structure {
	case "":
		return nil, nil
	case "json":
		var perProtocol map[string]string
		if err := json.Unmarshal([]byte(pub.message), &perProtocol); err != nil {
			return nil, errInvalidParameter("Message Structure - JSON message body failed to parse")
		}
		if _, ok := perProtocol["default"]; !ok {
			return nil, errInvalidParameter("Message Structure - No default entry in JSON message body")
		}
		return perProtocol, nil
	default:
		return nil, errInvalidParameter("MessageStructure")
	}
}

// publishMessage validates a publication and delivers it to every
// subscription of its topic. Delivery failures are logged, as SNS would
// retry and then drop them; they do not fail the publish.
func (s *Service) publishMessage(pub publication) (string, error) {
	perProtocol, err := pub.validate()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	t, err := s.topicLocked(pub.topicARN, "TopicArn")
	var targets []delivery
	if err == nil {
		for _, arn := range t.subs {
			sub := s.subs[arn]
			targets = append(targets, delivery{subARN: sub.arn, queueARN: sub.endpoint, raw: sub.raw()})
		}
	}
	s.mu.Unlock()
	if err != nil {
		return "", err
	}

	id := uuid.NewString()
	message := pub.message
	if perProtocol != nil {
		message = perProtocol["default"]
		if m, ok := perProtocol["sqs"]; ok {
			message = m
		}
	}
	timestamp := s.now().UTC().Format("2006-01-02T15:04:05.000Z")
	delivered := 0
	for _, d := range targets {
		body, attrs := message, rawAttributes(pub.attrs)
		if !d.raw {
			body = s.envelope(id, pub.topicARN, pub.subject, message, timestamp, d.subARN, pub.attrs)
			attrs = nil
		}
		if err := s.send(d.queueARN, body, attrs); err != nil {
			s.log.Warn("sns delivery failed", "topic", pub.topicARN, "subscription", d.subARN,
				"queue", d.queueARN, "messageId", id, "error", err)
			continue
		}
		delivered++
	}
	s.log.Info("sns message published", "topic", pub.topicARN, "messageId", id,
		"subscriptions", len(targets), "delivered", delivered)
	return id, nil
}

func (s *Service) send(queueARN, body string, attrs map[string]string) error {
	if s.queues == nil {
		return errInvalidParameter("no SQS emulator to deliver to")
	}
	return s.queues.SendToARN(queueARN, body, attrs)
}

// rawAttributes converts message attributes for raw delivery to SQS.
// QueueSender carries string values only, so Binary attributes are left
// out and the others arrive as String attributes.
func rawAttributes(attrs map[string]messageAttribute) map[string]string {
	var out map[string]string
	for name, a := range attrs {
		if a.binary() {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = a.Value
	}
	return out
}

// jsonString encodes s as a JSON string without HTML escaping, as SNS
// writes it.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// envelope renders the JSON document SNS delivers to a queue without raw
// delivery, with SNS's key order and layout.
func (s *Service) envelope(id, topicARN, subject, message, timestamp, subARN string,
	attrs map[string]messageAttribute) string {
	type field struct{ key, value string }
	fields := []field{
		{"Type", jsonString("Notification")},
		{"MessageId", jsonString(id)},
		{"TopicArn", jsonString(topicARN)},
	}
	if subject != "" {
		fields = append(fields, field{"Subject", jsonString(subject)})
	}
	fields = append(fields,
		field{"Message", jsonString(message)},
		field{"Timestamp", jsonString(timestamp)},
		field{"SignatureVersion", jsonString("1")},
		field{"Signature", jsonString(signature(id, topicARN, subject, message, timestamp))},
		field{"SigningCertURL", jsonString(s.endpoint + signingCertPath)},
		field{"UnsubscribeURL", jsonString(s.endpoint + "/?Action=Unsubscribe&SubscriptionArn=" + subARN)},
	)
	if len(attrs) > 0 {
		var ma strings.Builder
		ma.WriteString("{")
		for i, name := range slices.Sorted(maps.Keys(attrs)) {
			if i > 0 {
				ma.WriteString(",")
			}
			a := attrs[name]
			ma.WriteString("\n    " + jsonString(name) + ` : {"Type":` + jsonString(a.DataType) +
				`,"Value":` + jsonString(a.Value) + "}")
		}
		ma.WriteString("\n  }")
		fields = append(fields, field{"MessageAttributes", ma.String()})
	}
	var b strings.Builder
	b.WriteString("{\n")
	for i, f := range fields {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("  " + jsonString(f.key) + " : " + f.value)
	}
	b.WriteString("\n}")
	return b.String()
}

// signature is a placeholder for the envelope's Signature: base64 of 256
// bytes (the size of an RSA-2048 signature) derived from the string SNS
// signs. Emulators do not sign; consumers must not verify it.
func signature(id, topicARN, subject, message, timestamp string) string {
	toSign := "Message\n" + message + "\nMessageId\n" + id + "\n"
	if subject != "" {
		toSign += "Subject\n" + subject + "\n"
	}
	toSign += "Timestamp\n" + timestamp + "\nTopicArn\n" + topicARN + "\nType\nNotification\n"
	var sig []byte
	sum := sha256.Sum256([]byte(toSign))
	for len(sig) < 256 {
		sig = append(sig, sum[:]...)
		sum = sha256.Sum256(sum[:])
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func (s *Service) publish(p params) (any, error) {
	if p.get("PhoneNumber") != "" {
		return nil, errInvalidParameter("PhoneNumber Reason: SMS is not supported by the local SNS emulator")
	}
	arn := p.get("TopicArn")
	if arn == "" {
		arn = p.get("TargetArn")
	}
	if arn == "" {
		return nil, errInvalidParameter("TopicArn or TargetArn Reason: no value for required parameter")
	}
	attrs, err := p.messageAttributes()
	if err != nil {
		return nil, err
	}
	id, err := s.publishMessage(publication{
		topicARN: arn, subject: p.get("Subject"), message: p.get("Message"),
		structure: p.get("MessageStructure"), attrs: attrs,
	})
	if err != nil {
		return nil, err
	}
	return &publishResult{MessageID: id}, nil
}

// Publish publishes a message to a topic in process, as the Publish API
// does (Glacier and S3 notifications use it), and returns its message id.
// An unknown topic yields an error wrapping ErrNotFound.
func (s *Service) Publish(topicARN, subject, message string) (messageID string, err error) {
	return s.publishMessage(publication{topicARN: topicARN, subject: subject, message: message})
}
