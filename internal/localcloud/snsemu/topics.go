package snsemu

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// pageSize is how many topics or subscriptions a List action returns.
const pageSize = 100

// topic is one standard topic. Fields are guarded by Service.mu.
type topic struct {
	arn   string
	name  string
	attrs map[string]string // settable attributes that were set
	tags  map[string]string
	subs  []string // subscription ARNs in creation order
}

var topicNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// topicAttrNames are the settable topic attributes.
var topicAttrNames = map[string]bool{
	"DisplayName": true, "Policy": true, "DeliveryPolicy": true, "KmsMasterKeyId": true, "TracingConfig": true,
	"SignatureVersion": true, "ArchivePolicy": true, "FifoTopic": true, "ContentBasedDeduplication": true,
}

// checkTopicAttr validates one topic attribute.
func checkTopicAttr(name, value string) error {
	switch {
	case !topicAttrNames[name]:
		return errInvalidParameter("AttributeName")
	case name == "FifoTopic" && strings.EqualFold(value, "true"), name == "ContentBasedDeduplication":
		return errInvalidParameter("Attributes: FIFO topics are not supported by the local SNS emulator")
	case (name == "Policy" || name == "DeliveryPolicy" || name == "ArchivePolicy") && value != "" && !json.Valid([]byte(value)):
		return errInvalidParameter("Attributes Reason: %s: not a JSON document", name)
	case name == "SignatureVersion" && value != "1" && value != "2":
		return errInvalidParameter("Attributes Reason: SignatureVersion must be 1 or 2")
	}
	return nil
}

// parseARN splits an SNS ARN into region, account and resource (topic
// name, or topic name and subscription id).
func parseARN(arn string) (region, account, resource string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5] == "" {
		return "", "", "", false
	}
	return parts[3], parts[4], parts[5], true
}

// topicLocked looks a topic up by ARN.
func (s *Service) topicLocked(arn, param string) (*topic, error) {
	if arn == "" {
		return nil, errInvalidParameter("%s", param)
	}
	if _, _, res, ok := parseARN(arn); !ok || strings.Contains(res, ":") {
		return nil, errInvalidParameter("%s Reason: An ARN must have the format arn:aws:sns:region:account:name", param)
	}
	t := s.topics[arn]
	if t == nil {
		return nil, errNotFound("Topic does not exist")
	}
	return t, nil
}

// createTopicLocked creates a topic, or returns the existing one when the
// given attributes match it.
func (s *Service) createTopicLocked(name string, attrs, tags map[string]string) (*topic, error) {
	if strings.HasSuffix(name, ".fifo") {
		return nil, errInvalidParameter("Name: FIFO topics are not supported by the local SNS emulator")
	}
	if !topicNameRE.MatchString(name) {
		return nil, errInvalidParameter("Topic Name")
	}
	for k, v := range attrs {
		if k == "FifoTopic" && strings.EqualFold(v, "false") {
			delete(attrs, k)
			continue
		}
		if err := checkTopicAttr(k, v); err != nil {
			return nil, err
		}
	}
	arn := s.TopicARN(name)
	if t := s.topics[arn]; t != nil {
		for k, v := range attrs {
			if t.attrs[k] != v {
				return nil, errInvalidParameter("Attributes Reason: Topic already exists with different attributes")
			}
		}
		maps.Copy(t.tags, tags)
		return t, nil
	}
	t := &topic{arn: arn, name: name, attrs: map[string]string{}, tags: map[string]string{}}
	for k, v := range attrs {
		if v != "" {
			t.attrs[k] = v
		}
	}
	maps.Copy(t.tags, tags)
	s.topics[arn] = t
	s.log.Info("sns topic created", "topic", arn)
	return t, nil
}

func (s *Service) createTopic(p params) (any, error) {
	name, err := p.required("Name")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.createTopicLocked(name, p.stringMap("Attributes"), p.tags())
	if err != nil {
		return nil, err
	}
	return &topicArnResult{TopicArn: t.arn}, nil
}

// CreateTopic creates a topic in process (idempotent) and returns its ARN.
func (s *Service) CreateTopic(name string) (arn string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.createTopicLocked(name, nil, nil)
	if err != nil {
		return "", err
	}
	return t.arn, nil
}

func (s *Service) deleteTopic(p params) (any, error) {
	arn := p.get("TopicArn")
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.topicLocked(arn, "TopicArn")
	if err != nil {
		if asAPIError(err).code == "NotFound" {
			return nil, nil // deleting a missing topic is not an error
		}
		return nil, err
	}
	for _, sub := range t.subs {
		delete(s.subs, sub)
	}
	delete(s.topics, arn)
	s.log.Info("sns topic deleted", "topic", arn)
	return nil, nil
}

// pageOf returns the sorted keys after token (an opaque encoding of the
// last key of the previous page), at most pageSize, and the next token.
func pageOf(keys []string, token string) ([]string, string, error) {
	slices.Sort(keys)
	if token != "" {
		after, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, "", errInvalidParameter("NextToken")
		}
		i, found := slices.BinarySearch(keys, string(after))
		if found {
			i++
		}
		keys = keys[i:]
	}
	if len(keys) > pageSize {
		keys = keys[:pageSize]
		return keys, base64.RawURLEncoding.EncodeToString([]byte(keys[len(keys)-1])), nil
	}
	return keys, "", nil
}

func (s *Service) listTopics(p params) (any, error) {
	s.mu.Lock()
	arns := slices.Collect(maps.Keys(s.topics))
	s.mu.Unlock()
	page, next, err := pageOf(arns, p.get("NextToken"))
	if err != nil {
		return nil, err
	}
	out := &listTopicsResult{NextToken: next, Topics: []topicMember{}}
	for _, arn := range page {
		out.Topics = append(out.Topics, topicMember{TopicArn: arn})
	}
	return out, nil
}

// defaultTopicPolicy is the access policy SNS gives a new topic.
func (s *Service) defaultTopicPolicy(arn string) string {
	b, _ := json.Marshal(map[string]any{
		"Version": "2008-10-17",
		"Id":      "__default_policy_ID",
		"Statement": []any{map[string]any{
			"Sid":       "__default_statement_ID",
			"Effect":    "Allow",
			"Principal": map[string]string{"AWS": "*"},
			"Action": []string{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
				"SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"},
			"Resource":  arn,
			"Condition": map[string]any{"StringEquals": map[string]string{"AWS:SourceOwner": s.account}},
		}},
	})
	return string(b)
}

const effectiveDeliveryPolicy = `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,` +
	`"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},` +
	`"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`

// sortedEntries renders a map as Attributes entries in key order.
func sortedEntries(m map[string]string) []entry {
	out := make([]entry, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, entry{Key: k, Value: m[k]})
	}
	return out
}

func (s *Service) getTopicAttributes(p params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.topicLocked(p.get("TopicArn"), "TopicArn")
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{
		"TopicArn":                t.arn,
		"Owner":                   s.account,
		"DisplayName":             "",
		"Policy":                  s.defaultTopicPolicy(t.arn),
		"EffectiveDeliveryPolicy": effectiveDeliveryPolicy,
		"SubscriptionsConfirmed":  strconv.Itoa(len(t.subs)),
		"SubscriptionsPending":    "0",
		"SubscriptionsDeleted":    "0",
	}
	maps.Copy(attrs, t.attrs)
	return &attributesResult{Attributes: sortedEntries(attrs)}, nil
}

func (s *Service) setTopicAttributes(p params) (any, error) {
	name, err := p.required("AttributeName")
	if err != nil {
		return nil, err
	}
	value := p.get("AttributeValue")
	if err := checkTopicAttr(name, value); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.topicLocked(p.get("TopicArn"), "TopicArn")
	if err != nil {
		return nil, err
	}
	if value == "" {
		delete(t.attrs, name)
	} else {
		t.attrs[name] = value
	}
	return nil, nil
}

// taggedTopicLocked finds the topic a tagging action addresses.
func (s *Service) taggedTopicLocked(p params) (*topic, error) {
	t, err := s.topicLocked(p.get("ResourceArn"), "ResourceArn")
	if err != nil && asAPIError(err).code == "NotFound" {
		return nil, &apiError{status: http.StatusNotFound, code: "ResourceNotFound", message: "Resource does not exist"}
	}
	return t, err
}

func (s *Service) tagResource(p params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.taggedTopicLocked(p)
	if err != nil {
		return nil, err
	}
	maps.Copy(t.tags, p.tags())
	return &emptyResult{}, nil
}

func (s *Service) untagResource(p params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.taggedTopicLocked(p)
	if err != nil {
		return nil, err
	}
	for _, k := range p.list("TagKeys") {
		delete(t.tags, k)
	}
	return &emptyResult{}, nil
}

func (s *Service) listTagsForResource(p params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.taggedTopicLocked(p)
	if err != nil {
		return nil, err
	}
	out := &tagsResult{Tags: []tag{}}
	for _, k := range slices.Sorted(maps.Keys(t.tags)) {
		out.Tags = append(out.Tags, tag{Key: k, Value: t.tags[k]})
	}
	return out, nil
}
