package s3lite

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// s3Namespace is the XML namespace of S3 documents.
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// notificationConfiguration is a bucket's notification configuration, as
// PutBucketNotificationConfiguration sends it (also its JSON state form).
type notificationConfiguration struct {
	XMLName     xml.Name       `xml:"NotificationConfiguration" json:"-"`
	Xmlns       string         `xml:"xmlns,attr,omitempty" json:"-"`
	EventBridge *struct{}      `xml:"EventBridgeConfiguration" json:"eventBridge,omitempty"`
	Lambdas     []lambdaConfig `xml:"CloudFunctionConfiguration" json:"lambdas,omitempty"`
	Queues      []queueConfig  `xml:"QueueConfiguration" json:"queues,omitempty"`
	Topics      []topicConfig  `xml:"TopicConfiguration" json:"topics,omitempty"`
}

// rule is what every kind of configuration has.
type rule struct {
	ID     string     `xml:"Id,omitempty" json:"id"`
	Events []string   `xml:"Event" json:"events"`
	Filter *keyFilter `xml:"Filter,omitempty" json:"filter,omitempty"`
}

type queueConfig struct {
	rule
	Queue string `xml:"Queue" json:"queue"`
}

type topicConfig struct {
	rule
	Topic string `xml:"Topic" json:"topic"`
}

type lambdaConfig struct {
	rule
	CloudFunction string `xml:"CloudFunction" json:"cloudFunction"`
}

type keyFilter struct {
	S3Key struct {
		Rules []filterRule `xml:"FilterRule" json:"rules"`
	} `xml:"S3Key" json:"s3Key"`
}

type filterRule struct {
	Name  string `xml:"Name" json:"name"`
	Value string `xml:"Value" json:"value"`
}

// Destination kinds.
const (
	destQueue = "SQS"
	destTopic = "SNS"
)

// target is one destination an event goes to.
type target struct {
	kind string
	arn  string
	id   string // configuration Id
}

// rules lists the deliverable configurations with their targets.
func (c *notificationConfiguration) rules() ([]rule, []target) {
	if c == nil {
		return nil, nil
	}
	var rules []rule
	var targets []target
	for _, q := range c.Queues {
		rules, targets = append(rules, q.rule), append(targets, target{destQueue, q.Queue, q.ID})
	}
	for _, t := range c.Topics {
		rules, targets = append(rules, t.rule), append(targets, target{destTopic, t.Topic, t.ID})
	}
	return rules, targets
}

// targets lists the destinations of the configurations that want the
// event (name without "s3:") on key.
func (c *notificationConfiguration) targets(name, key string) []target {
	rules, targets := c.rules()
	var out []target
	for i, r := range rules {
		if r.matches(name, key) {
			out = append(out, targets[i])
		}
	}
	return out
}

// matches reports whether the rule wants the event on key: an event
// pattern equal to it or a "prefix:*" wildcard, and the key filters.
func (r rule) matches(name, key string) bool {
	full := "s3:" + name
	if !slices.ContainsFunc(r.Events, func(p string) bool {
		return p == full || strings.HasSuffix(p, ":*") && strings.HasPrefix(full, strings.TrimSuffix(p, "*"))
	}) {
		return false
	}
	if r.Filter == nil {
		return true
	}
	for _, f := range r.Filter.S3Key.Rules {
		switch strings.ToLower(f.Name) {
		case "prefix":
			if !strings.HasPrefix(key, f.Value) {
				return false
			}
		case "suffix":
			if !strings.HasSuffix(key, f.Value) {
				return false
			}
		}
	}
	return true
}

// notificationEvents are the event types a configuration may name.
var notificationEvents = []string{"s3:ReducedRedundancyLostObject",
	"s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
	"s3:ObjectCreated:CompleteMultipartUpload",
	"s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
	"s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
	"s3:Replication:*", "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
	"s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
	"s3:LifecycleTransition", "s3:IntelligentTiering", "s3:ObjectAcl:Put",
	"s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
	"s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
	"s3:ObjectAnnotation:*", "s3:ObjectAnnotation:Put", "s3:ObjectAnnotation:Delete", "s3:ObjectRetention:Put"}

// check validates a rule and gives it an Id if it has none.
func (r *rule) check(dest string) error {
	if r.ID == "" {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		r.ID = base64.RawStdEncoding.EncodeToString(b)
	}
	if dest == "" {
		return errInvalidArgument("A destination ARN is required in configuration %s", r.ID)
	}
	if len(r.Events) == 0 {
		return errInvalidArgument("At least one event is required in configuration %s", r.ID)
	}
	for _, e := range r.Events {
		if !slices.Contains(notificationEvents, e) {
			return errInvalidArgument("The event is not supported for notifications: %s", e)
		}
	}
	if r.Filter == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, f := range r.Filter.S3Key.Rules {
		name := strings.ToLower(f.Name)
		if name != "prefix" && name != "suffix" || seen[name] {
			return errInvalidArgument("filter rule name must be either prefix or suffix, each at most once")
		}
		seen[name] = true
	}
	return nil
}

// check validates the configuration and fills in missing Ids.
func (c *notificationConfiguration) check() error {
	ids := map[string]bool{}
	var rs []*rule
	var dests []string
	for i := range c.Queues {
		rs, dests = append(rs, &c.Queues[i].rule), append(dests, c.Queues[i].Queue)
	}
	for i := range c.Topics {
		rs, dests = append(rs, &c.Topics[i].rule), append(dests, c.Topics[i].Topic)
	}
	for i := range c.Lambdas {
		rs, dests = append(rs, &c.Lambdas[i].rule), append(dests, c.Lambdas[i].CloudFunction)
	}
	for i, r := range rs {
		if err := r.check(dests[i]); err != nil {
			return err
		}
		if ids[r.ID] {
			return errInvalidArgument("Configuration Id %s is not unique", r.ID)
		}
		ids[r.ID] = true
	}
	return nil
}

// serveNotification serves Get/PutBucketNotificationConfiguration.
func (s *Service) serveNotification(w http.ResponseWriter, r *http.Request, bucket string) {
	if err := s.bucketExists(bucket); err != nil {
		writeError(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		c := s.notifs[bucket]
		out := notificationConfiguration{Xmlns: s3Namespace}
		if c != nil {
			out = *c
			out.Xmlns = s3Namespace
		}
		s.mu.Unlock()
		writeXML(w, out)
	case http.MethodPut:
		if err := s.putNotification(r, bucket); err != nil {
			writeError(w, r, err)
			return
		}
		setRequestID(w)
		w.WriteHeader(http.StatusOK)
	default:
		writeError(w, r, newError(http.StatusMethodNotAllowed, "MethodNotAllowed",
			"The specified method is not allowed against this resource."))
	}
}

// putNotification replaces the bucket's configuration, after sending a
// test event to each new destination (unless the request skips
// destination validation): one that fails refuses the configuration.
func (s *Service) putNotification(r *http.Request, bucket string) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	var c notificationConfiguration
	if err := xml.Unmarshal(body, &c); err != nil {
		return errMalformedXML(err)
	}
	if err := c.check(); err != nil {
		return err
	}
	s.mu.Lock()
	_, old := s.notifs[bucket].rules()
	s.mu.Unlock()
	skip, _ := strconv.ParseBool(r.Header.Get("X-Amz-Skip-Destination-Validation"))
	_, targets := c.rules()
	var failed []string
	for _, t := range targets {
		if slices.ContainsFunc(old, func(o target) bool { return o.kind == t.kind && o.arn == t.arn }) {
			continue
		}
		if err := s.deliver(t, testEvent(bucket)); err != nil && !skip {
			s.log.Warn("S3 test event not delivered", "bucket", bucket, "destination", t.arn, "error", err)
			failed = append(failed, t.arn)
		}
	}
	if len(failed) > 0 {
		return errInvalidArgument("Unable to validate the following destination configurations: %s", strings.Join(failed, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(c.Queues)+len(c.Topics)+len(c.Lambdas) == 0 && c.EventBridge == nil {
		delete(s.notifs, bucket)
	} else {
		s.notifs[bucket] = &c
	}
	s.saveLocked()
	return nil
}

// testEvent is the s3:TestEvent S3 sends to a new destination.
func testEvent(bucket string) string {
	now := time.Now()
	b, _ := json.Marshal(struct {
		Service   string
		Event     string
		Time      string
		Bucket    string
		RequestID string `json:"RequestId"`
		HostID    string `json:"HostId"`
	}{"Amazon S3", "s3:TestEvent", eventTime(now), bucket, fmt.Sprintf("%016X", now.UnixNano()), "localcloud"})
	return string(b)
}

// forgetBucket drops the state of a deleted bucket.
func (s *Service) forgetBucket(bucket string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.notifs, bucket)
	for ref, st := range s.restores {
		if st.Bucket == bucket {
			s.dropRestoreLocked(ref)
		}
	}
	s.saveLocked()
}
