package s3lite

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// QueueSender delivers a message body to the SQS queue with the given ARN;
// the SQS emulator implements it.
type QueueSender interface {
	SendToARN(arn, body string, attrs map[string]string) error
}

// TopicPublisher publishes a message to the SNS topic with the given ARN;
// the SNS emulator implements it.
type TopicPublisher interface {
	Publish(topicARN, subject, message string) (string, error)
}

// notificationSubject is the SNS subject of every S3 notification.
const notificationSubject = "Amazon S3 Notification"

// Identities in event records: S3 names the bucket owner and the caller.
const (
	ownerID     = "LOCALCLOUDOWNER"
	principalID = "AWS:LOCALCLOUDUSER"
)

// event is one thing that happened to an object.
type event struct {
	name    string // without "s3:", e.g. ObjectCreated:Put
	key     string
	size    *int64
	etag    string
	req     requestInfo
	glacier *glacierEventData
}

// eventRecord is one element of an S3 event message's Records.
type eventRecord struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      identity          `json:"userIdentity"`
	RequestParameters requestParameters `json:"requestParameters"`
	ResponseElements  responseElements  `json:"responseElements"`
	S3                s3Entity          `json:"s3"`
	GlacierEventData  *glacierEventData `json:"glacierEventData,omitempty"`
}

type identity struct {
	PrincipalID string `json:"principalId"`
}

type requestParameters struct {
	SourceIPAddress string `json:"sourceIPAddress"`
}

type responseElements struct {
	RequestID string `json:"x-amz-request-id"`
	HostID    string `json:"x-amz-id-2"`
}

type s3Entity struct {
	SchemaVersion   string       `json:"s3SchemaVersion"`
	ConfigurationID string       `json:"configurationId"`
	Bucket          bucketEntity `json:"bucket"`
	Object          objectEntity `json:"object"`
}

type bucketEntity struct {
	Name          string   `json:"name"`
	OwnerIdentity identity `json:"ownerIdentity"`
	ARN           string   `json:"arn"`
}

type objectEntity struct {
	Key       string `json:"key"`
	Size      *int64 `json:"size,omitempty"`
	ETag      string `json:"eTag,omitempty"`
	Sequencer string `json:"sequencer"`
}

type glacierEventData struct {
	RestoreEventData restoreEventData `json:"restoreEventData"`
}

type restoreEventData struct {
	ExpiryTime   string `json:"lifecycleRestorationExpiryTime"`
	StorageClass string `json:"lifecycleRestoreStorageClass"`
}

// eventTime formats t as event records do: ISO 8601, milliseconds, UTC.
func eventTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func hexETag(hash []byte) string { return hex.EncodeToString(hash) }

// encodeKey URL-encodes an object key the way event records carry it:
// form encoding (space as '+', '(' as %28) with '/' left as is.
func encodeKey(key string) string {
	var b strings.Builder
	for _, c := range []byte(key) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '*', c == '/':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// emitObject emits an event about an object as it is stored now (size and
// ETag from the store).
func (s *Service) emitObject(bucket, key, name string, req requestInfo) {
	s.mu.Lock()
	wanted := len(s.notifs[bucket].targets(name, key)) > 0
	s.mu.Unlock()
	if !wanted { // spare the store a HEAD when nobody listens
		return
	}
	ev := event{name: name, key: key, req: req}
	if _, size, etag, ok := s.storageClass(bucket, key); ok {
		ev.size, ev.etag = &size, etag
	}
	s.emit(bucket, ev)
}

// emit sends ev to every destination of the bucket's notification
// configuration that wants it. Failures are logged, never returned.
func (s *Service) emit(bucket string, ev event) {
	s.mu.Lock()
	targets := s.notifs[bucket].targets(ev.name, ev.key)
	if len(targets) == 0 {
		s.mu.Unlock()
		return
	}
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	copies, delay, hold := 1, time.Duration(0), false
	if strings.HasPrefix(ev.name, "ObjectCreated:") {
		var drop bool
		if drop, copies, delay, hold = s.faultPlan(bucket, ev.key); drop {
			s.log.Debug("S3 event dropped (simulated loss)", "bucket", bucket, "key", ev.key, "event", ev.name)
			return
		}
	}
	now := time.Now()
	for _, t := range targets {
		rec := eventRecord{
			EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: s.opts.Region,
			EventTime: eventTime(now), EventName: ev.name,
			UserIdentity:      identity{PrincipalID: principalID},
			RequestParameters: requestParameters{SourceIPAddress: ev.req.sourceIP},
			ResponseElements:  responseElements{RequestID: ev.req.requestID, HostID: ev.req.hostID},
			S3: s3Entity{SchemaVersion: "1.0", ConfigurationID: t.id,
				Bucket: bucketEntity{Name: bucket, OwnerIdentity: identity{PrincipalID: ownerID}, ARN: "arn:aws:s3:::" + bucket},
				Object: objectEntity{Key: encodeKey(ev.key), Size: ev.size, ETag: ev.etag, Sequencer: fmt.Sprintf("%018X", seq)}},
			GlacierEventData: ev.glacier,
		}
		body, err := json.Marshal(map[string][]eventRecord{"Records": {rec}})
		if err != nil {
			s.log.Error("S3 event", "error", err)
			continue
		}
		for range copies {
			s.holdOrSend(hold, func() {
				s.later(delay, func() {
					if err := s.deliver(t, string(body)); err != nil {
						s.log.Warn("S3 event not delivered", "bucket", bucket, "key", ev.key, "event", ev.name, "destination", t.arn, "error", err)
					}
				})
			})
		}
	}
}

// deliver sends a message body to a queue or a topic.
func (s *Service) deliver(t target, body string) error {
	switch {
	case t.kind == destQueue && s.opts.Queues != nil:
		return s.opts.Queues.SendToARN(t.arn, body, nil)
	case t.kind == destTopic && s.opts.Topics != nil:
		_, err := s.opts.Topics.Publish(t.arn, notificationSubject, body)
		return err
	}
	return fmt.Errorf("no %s emulator to deliver to", t.kind)
}
