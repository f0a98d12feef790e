package snsemu

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// subscription is one confirmed sqs subscription. Fields are guarded by
// Service.mu.
type subscription struct {
	arn      string
	topicARN string
	protocol string
	endpoint string            // queue ARN
	attrs    map[string]string // settable attributes that were set
}

// raw reports whether RawMessageDelivery is on.
func (sub *subscription) raw() bool { return sub.attrs["RawMessageDelivery"] == "true" }

// subAttrNames are the settable subscription attributes.
var subAttrNames = map[string]bool{
	"RawMessageDelivery": true, "DeliveryPolicy": true, "RedrivePolicy": true, "SubscriptionRoleArn": true,
	"FilterPolicy": true, "FilterPolicyScope": true, "ReplayPolicy": true,
}

// normalizeSubAttr validates one subscription attribute and returns its
// canonical value.
func normalizeSubAttr(name, value string) (string, error) {
	switch {
	case !subAttrNames[name]:
		return "", errInvalidParameter("AttributeName")
	case name == "RawMessageDelivery":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return "", errInvalidParameter("Attributes Reason: RawMessageDelivery: Invalid value [%s]. Must be true or false.", value)
		}
		return strconv.FormatBool(b), nil
	case (name == "FilterPolicy" || name == "FilterPolicyScope" || name == "ReplayPolicy") && value != "":
		return "", errInvalidParameter("Attributes Reason: %s is not supported by the local SNS emulator", name)
	case (name == "DeliveryPolicy" || name == "RedrivePolicy") && value != "" && !json.Valid([]byte(value)):
		return "", errInvalidParameter("Attributes Reason: %s: not a JSON document", name)
	}
	return value, nil
}

// validQueueARN reports whether endpoint looks like an SQS queue ARN.
func validQueueARN(endpoint string) bool {
	parts := strings.Split(endpoint, ":")
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "sqs" && parts[5] != ""
}

// subscribeLocked subscribes an SQS queue to a topic, returning the
// existing subscription when there is one with equal attributes.
func (s *Service) subscribeLocked(topicARN, protocol, endpoint string, attrs map[string]string) (*subscription, error) {
	if !strings.EqualFold(protocol, "sqs") {
		if protocol == "" {
			return nil, errInvalidParameter("Protocol")
		}
		return nil, errInvalidParameter("Protocol Reason: protocol %s is not supported by the local SNS emulator (only sqs)", protocol)
	}
	if !validQueueARN(endpoint) {
		return nil, errInvalidParameter("SQS endpoint ARN")
	}
	norm := make(map[string]string, len(attrs))
	for k, v := range attrs {
		nv, err := normalizeSubAttr(k, v)
		if err != nil {
			return nil, err
		}
		norm[k] = nv
	}
	t, err := s.topicLocked(topicARN, "TopicArn")
	if err != nil {
		return nil, err
	}
	for _, arn := range t.subs {
		sub := s.subs[arn]
		if sub.endpoint != endpoint {
			continue
		}
		for k, v := range norm {
			cur := sub.attrs[k]
			if cur == "" && k == "RawMessageDelivery" {
				cur = "false"
			}
			if cur != v {
				return nil, errInvalidParameter("Attributes Reason: Subscription already exists with different attributes")
			}
		}
		return sub, nil
	}
	sub := &subscription{
		arn: topicARN + ":" + uuid.NewString(), topicARN: topicARN, protocol: "sqs", endpoint: endpoint,
		attrs: map[string]string{},
	}
	for k, v := range norm {
		if v != "" {
			sub.attrs[k] = v
		}
	}
	t.subs = append(t.subs, sub.arn)
	s.subs[sub.arn] = sub
	s.log.Info("sns subscription created", "topic", topicARN, "queue", endpoint, "raw", sub.raw())
	return sub, nil
}

func (s *Service) subscribe(p params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, err := s.subscribeLocked(p.get("TopicArn"), p.get("Protocol"), p.get("Endpoint"), p.stringMap("Attributes"))
	if err != nil {
		return nil, err
	}
	return &subscriptionArnResult{SubscriptionArn: sub.arn}, nil
}

// Subscribe subscribes the SQS queue queueARN to a topic in process
// (idempotent), with raw message delivery when raw is set, and returns
// the subscription ARN.
func (s *Service) Subscribe(topicARN, queueARN string, raw bool) (subscriptionARN string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, err := s.subscribeLocked(topicARN, "sqs", queueARN, map[string]string{"RawMessageDelivery": strconv.FormatBool(raw)})
	if err != nil {
		return "", err
	}
	return sub.arn, nil
}

// subscriptionLocked looks a subscription up by ARN.
func (s *Service) subscriptionLocked(arn string) (*subscription, error) {
	if arn == "" {
		return nil, errInvalidParameter("SubscriptionArn")
	}
	if _, _, res, ok := parseARN(arn); !ok || !strings.Contains(res, ":") {
		return nil, errInvalidParameter("SubscriptionArn Reason: An ARN must have the format arn:aws:sns:region:account:topic:id")
	}
	sub := s.subs[arn]
	if sub == nil {
		return nil, errNotFound("Subscription does not exist")
	}
	return sub, nil
}

func (s *Service) unsubscribe(p params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, err := s.subscriptionLocked(p.get("SubscriptionArn"))
	if err != nil {
		return nil, err
	}
	delete(s.subs, sub.arn)
	if t := s.topics[sub.topicARN]; t != nil {
		t.subs = slices.DeleteFunc(t.subs, func(a string) bool { return a == sub.arn })
	}
	s.log.Info("sns subscription deleted", "subscription", sub.arn)
	return nil, nil
}

func (s *Service) member(sub *subscription) subscriptionMember {
	return subscriptionMember{SubscriptionArn: sub.arn, Owner: s.account, Protocol: sub.protocol,
		Endpoint: sub.endpoint, TopicArn: sub.topicARN}
}

// listSubs pages through the given subscription ARNs.
func (s *Service) listSubs(arns []string, token string) (any, error) {
	page, next, err := pageOf(arns, token)
	if err != nil {
		return nil, err
	}
	out := &listSubscriptionsResult{NextToken: next, Subscriptions: []subscriptionMember{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, arn := range page {
		if sub := s.subs[arn]; sub != nil {
			out.Subscriptions = append(out.Subscriptions, s.member(sub))
		}
	}
	return out, nil
}

func (s *Service) listSubscriptions(p params) (any, error) {
	s.mu.Lock()
	arns := slices.Collect(maps.Keys(s.subs))
	s.mu.Unlock()
	return s.listSubs(arns, p.get("NextToken"))
}

func (s *Service) listSubscriptionsByTopic(p params) (any, error) {
	s.mu.Lock()
	t, err := s.topicLocked(p.get("TopicArn"), "TopicArn")
	var arns []string
	if err == nil {
		arns = slices.Clone(t.subs)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s.listSubs(arns, p.get("NextToken"))
}

func (s *Service) getSubscriptionAttributes(p params) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, err := s.subscriptionLocked(p.get("SubscriptionArn"))
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{
		"SubscriptionArn":              sub.arn,
		"TopicArn":                     sub.topicARN,
		"Owner":                        s.account,
		"Protocol":                     sub.protocol,
		"Endpoint":                     sub.endpoint,
		"RawMessageDelivery":           "false",
		"ConfirmationWasAuthenticated": "true",
		"PendingConfirmation":          "false",
		"SubscriptionPrincipal":        "arn:aws:iam::" + s.account + ":root",
	}
	maps.Copy(attrs, sub.attrs)
	return &attributesResult{Attributes: sortedEntries(attrs)}, nil
}

func (s *Service) setSubscriptionAttributes(p params) (any, error) {
	name, err := p.required("AttributeName")
	if err != nil {
		return nil, err
	}
	value, err := normalizeSubAttr(name, p.get("AttributeValue"))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, err := s.subscriptionLocked(p.get("SubscriptionArn"))
	if err != nil {
		return nil, err
	}
	if value == "" {
		delete(sub.attrs, name)
	} else {
		sub.attrs[name] = value
	}
	return nil, nil
}
