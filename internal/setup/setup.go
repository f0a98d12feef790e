// Package setup creates, idempotently, the AWS plumbing that delivers
// notifications to vigil: an SQS queue (with a dead-letter queue), its
// policy, SNS topics and subscriptions, Glacier vault notifications and S3
// bucket notifications. Every step reports whether it created, changed or
// found its resource, so running a setup twice changes nothing and says so.
package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vigilops/vigil/internal/awsconf"
)

// DefaultQueue is the queue every setup uses unless told otherwise; the
// worker consumes it by default.
const DefaultQueue = "vigil-notifications"

// DLQSuffix names the dead-letter queue of a notification queue.
const DLQSuffix = "-dlq"

// MaxReceiveCount is how often a message is tried before it moves to the
// dead-letter queue.
const MaxReceiveCount = 5

// Step is one line of a setup report.
type Step struct {
	// Action is "created", "updated" or "found".
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Name     string `json:"name"`
}

// Report lists what a setup did.
type Report struct {
	Steps []Step `json:"steps"`
	// QueueURL is the notification queue to consume.
	QueueURL string `json:"queueUrl"`
}

func (r *Report) add(action, resource, name string) {
	r.Steps = append(r.Steps, Step{Action: action, Resource: resource, Name: name})
}

// Changed reports whether anything was created or updated.
func (r Report) Changed() bool {
	for _, s := range r.Steps {
		if s.Action != "found" {
			return true
		}
	}
	return false
}

// NotFoundError tells that the resource a setup is for does not exist
// (a vault, a bucket): the input is wrong, nothing was changed.
type NotFoundError struct {
	Kind, Name string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("no such %s %q", e.Kind, e.Name) }

// Queue is a notification queue ready to receive.
type Queue struct {
	URL, ARN string
}

// ensureQueue finds or creates the queue and its DLQ with a redrive policy.
func ensureQueue(ctx context.Context, c *awsconf.Clients, name string, rep *Report) (Queue, error) {
	dlq, err := findOrCreateQueue(ctx, c, name+DLQSuffix, nil, rep)
	if err != nil {
		return Queue{}, err
	}
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlq.ARN, "maxReceiveCount": MaxReceiveCount})
	q, err := findOrCreateQueue(ctx, c, name, map[string]string{"RedrivePolicy": string(redrive)}, rep)
	if err != nil {
		return Queue{}, err
	}
	return q, nil
}

// findOrCreateQueue finds the queue (making sure it has attrs, which only
// holds JSON-valued attributes such as RedrivePolicy) or creates it.
func findOrCreateQueue(ctx context.Context, c *awsconf.Clients, name string, attrs map[string]string, rep *Report) (Queue, error) {
	var q Queue
	got, err := c.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	var missing *sqstypes.QueueDoesNotExist
	action := "found"
	switch {
	case err == nil:
		q.URL = aws.ToString(got.QueueUrl)
	case errors.As(err, &missing):
		out, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			return q, fmt.Errorf("creating queue %s: %w", name, err)
		}
		q.URL, action = aws.ToString(out.QueueUrl), "created"
	default:
		return q, fmt.Errorf("looking up queue %s: %w", name, err)
	}
	a, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.URL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return q, fmt.Errorf("reading queue %s: %w", name, err)
	}
	q.ARN = a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if stale := staleAttributes(a.Attributes, attrs); len(stale) > 0 {
		if _, err := c.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q.URL), Attributes: stale}); err != nil {
			return q, fmt.Errorf("updating queue %s: %w", name, err)
		}
		action = "updated"
	}
	rep.add(action, "sqs queue", name)
	return q, nil
}

// staleAttributes are the wanted JSON-object attributes the queue lacks or
// has with other content (values compared as text: SQS may return the
// number 5 as "5").
func staleAttributes(have, want map[string]string) map[string]string {
	stale := map[string]string{}
	for k, w := range want {
		x, errX := flatJSON(have[k])
		y, errY := flatJSON(w)
		if errX != nil || errY != nil || !maps.Equal(x, y) {
			stale[k] = w
		}
	}
	return stale
}

// flatJSON reads a JSON object with its values as text.
func flatJSON(s string) (map[string]string, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out, nil
}

// policyDoc is an IAM policy document.
type policyDoc struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal"`
	Action    any            `json:"Action"`
	Resource  string         `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// allowSender makes sure the queue policy lets service (sns.amazonaws.com,
// s3.amazonaws.com) send from sourceARN only.
func allowSender(ctx context.Context, c *awsconf.Clients, q Queue, sid, service, sourceARN string, rep *Report) error {
	a, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.URL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNamePolicy}})
	if err != nil {
		return fmt.Errorf("reading queue policy: %w", err)
	}
	doc := policyDoc{Version: "2012-10-17"}
	if p := a.Attributes[string(sqstypes.QueueAttributeNamePolicy)]; p != "" {
		if err := json.Unmarshal([]byte(p), &doc); err != nil {
			return fmt.Errorf("queue %s has a policy vigil cannot read: %w", q.URL, err)
		}
	}
	want := statement{Sid: sid, Effect: "Allow", Principal: map[string]any{"Service": service}, Action: "sqs:SendMessage",
		Resource: q.ARN, Condition: map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": sourceARN}}}
	for i, s := range doc.Statement {
		if s.Sid != sid {
			continue
		}
		if sameJSON(s, want) {
			rep.add("found", "queue policy statement", sid)
			return nil
		}
		doc.Statement[i] = want
		return putPolicy(ctx, c, q, doc, "updated", sid, rep)
	}
	doc.Statement = append(doc.Statement, want)
	return putPolicy(ctx, c, q, doc, "created", sid, rep)
}

func putPolicy(ctx context.Context, c *awsconf.Clients, q Queue, doc policyDoc, action, sid string, rep *Report) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if _, err := c.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q.URL),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): string(b)}}); err != nil {
		return fmt.Errorf("setting queue policy: %w", err)
	}
	rep.add(action, "queue policy statement", sid)
	return nil
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
