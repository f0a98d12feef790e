package sqsemu

import (
	"encoding/base64"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// createQueueLocked creates a queue or returns the existing one when the
// given attributes equal its current ones.
func (s *Service) createQueueLocked(name string, attrs, tags map[string]string) (*queue, error) {
	if name == "" {
		return nil, errMissingParameter("QueueName")
	}
	if strings.HasSuffix(name, ".fifo") {
		return nil, errUnsupportedOperation("FIFO queues are not supported by the local SQS emulator.")
	}
	if !queueNameRE.MatchString(name) {
		return nil, errInvalidParameterValue("Value %s for parameter QueueName is invalid. Reason: Can only "+
			"include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.", name)
	}
	norm, err := s.normalizeAttrsLocked(attrs)
	if err != nil {
		return nil, err
	}
	if q := s.queues[name]; q != nil {
		if d := q.differingAttr(norm); d != "" {
			return nil, errQueueNameExists(d)
		}
		return q, nil
	}
	now := s.now()
	q := newQueue(name, s.QueueARN(name), now)
	q.applyAttrs(norm, now)
	maps.Copy(q.tags, tags)
	s.queues[name] = q
	s.log.Info("sqs queue created", "queue", name)
	return q, nil
}

func (s *Service) createQueue(r *http.Request, body []byte) (any, error) {
	in, err := decode[createQueueRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.createQueueLocked(in.QueueName, in.Attributes, in.Tags)
	if err != nil {
		return nil, err
	}
	return queueURLResponse{QueueUrl: s.queueURL(r.Host, q.name)}, nil
}

func (s *Service) getQueueURL(r *http.Request, body []byte) (any, error) {
	in, err := decode[getQueueURLRequest](body)
	if err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, errMissingParameter("QueueName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[in.QueueName]; q != nil && (in.QueueOwnerAWSAccountId == "" || in.QueueOwnerAWSAccountId == s.account) {
		return queueURLResponse{QueueUrl: s.queueURL(r.Host, q.name)}, nil
	}
	return nil, errQueueDoesNotExist()
}

func (s *Service) getQueueAttributes(_ *http.Request, body []byte) (any, error) {
	in, err := decode[getQueueAttributesRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	attrs, err := s.attributesLocked(q, in.AttributeNames, s.now())
	if err != nil {
		return nil, err
	}
	return attributesResponse{Attributes: attrs}, nil
}

func (s *Service) setQueueAttributes(_ *http.Request, body []byte) (any, error) {
	in, err := decode[setQueueAttributesRequest](body)
	if err != nil {
		return nil, err
	}
	if in.Attributes == nil {
		return nil, errMissingParameter("Attributes")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	norm, err := s.normalizeAttrsLocked(in.Attributes)
	if err != nil {
		return nil, err
	}
	q.applyAttrs(norm, s.now())
	q.signal() // a long poll's wait may depend on the new settings
	return nil, nil
}

// page returns the names after the token, at most max of them (0 = up to
// 1000 without a next token), and the next token.
func page(names []string, token string, max *int) ([]string, string, error) {
	if token != "" {
		after, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, "", errInvalidParameterValue("Invalid NextToken value.")
		}
		i, _ := slices.BinarySearch(names, string(after))
		for i < len(names) && names[i] <= string(after) {
			i++
		}
		names = names[i:]
	}
	if max == nil {
		if len(names) > 1000 {
			names = names[:1000]
		}
		return names, "", nil
	}
	if *max < 1 || *max > 1000 {
		return nil, "", errInvalidParameterValue("Value %d for parameter MaxResults is invalid. "+
			"Reason: MaxResults must be an integer between 1 and 1000.", *max)
	}
	if len(names) > *max {
		names = names[:*max]
		return names, base64.RawURLEncoding.EncodeToString([]byte(names[len(names)-1])), nil
	}
	return names, "", nil
}

func (s *Service) listQueues(r *http.Request, body []byte) (any, error) {
	in, err := decode[listQueuesRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	var names []string
	for name := range s.queues {
		if strings.HasPrefix(name, in.QueueNamePrefix) {
			names = append(names, name)
		}
	}
	s.mu.Unlock()
	slices.Sort(names)
	names, next, err := page(names, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := listQueuesResponse{NextToken: next}
	for _, name := range names {
		out.QueueUrls = append(out.QueueUrls, s.queueURL(r.Host, name))
	}
	return out, nil
}

func (s *Service) listDeadLetterSourceQueues(r *http.Request, body []byte) (any, error) {
	in, err := decode[listDeadLetterSourceQueuesRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	dlq, err := s.queueByURLLocked(in.QueueUrl)
	var names []string
	if err == nil {
		for name, q := range s.queues {
			if q.redrive != nil && q.redrive.DeadLetterTargetArn == dlq.arn {
				names = append(names, name)
			}
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	names, next, err := page(names, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := listDeadLetterSourceQueuesResponse{QueueUrls: []string{}, NextToken: next}
	for _, name := range names {
		out.QueueUrls = append(out.QueueUrls, s.queueURL(r.Host, name))
	}
	return out, nil
}

func (s *Service) deleteQueue(_ *http.Request, body []byte) (any, error) {
	in, err := decode[queueURLRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	delete(s.queues, q.name)
	q.signal() // long polls on it look it up again and fail
	s.log.Info("sqs queue deleted", "queue", q.name)
	return nil, nil
}

func (s *Service) purgeQueue(_ *http.Request, body []byte) (any, error) {
	in, err := decode[queueURLRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	q.purge()
	return nil, nil
}

func (s *Service) tagQueue(_ *http.Request, body []byte) (any, error) {
	in, err := decode[tagQueueRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	maps.Copy(q.tags, in.Tags)
	return nil, nil
}

func (s *Service) untagQueue(_ *http.Request, body []byte) (any, error) {
	in, err := decode[tagQueueRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(q.tags, k)
	}
	return nil, nil
}

func (s *Service) listQueueTags(_ *http.Request, body []byte) (any, error) {
	in, err := decode[queueURLRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return tagsResponse{Tags: maps.Clone(q.tags)}, nil
}
