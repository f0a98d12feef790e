package activities

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SelfCheck probes the cloud APIs the worker is configured for.
type SelfCheck struct {
	S3 interface {
		ListBuckets(context.Context, *s3.ListBucketsInput, ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
	}
	SQS interface {
		ListQueues(context.Context, *sqs.ListQueuesInput, ...func(*sqs.Options)) (*sqs.ListQueuesOutput, error)
	}
}

// ProbeInput is the input of Probe (nothing yet; a struct so fields can be
// added without breaking running workflows).
type ProbeInput struct{}

// ProbeResult reports what the worker could see.
type ProbeResult struct {
	// Buckets is the number of S3 buckets listed.
	Buckets int `json:"buckets"`
	// Queues is the number of SQS queues listed.
	Queues int `json:"queues"`
}

// Probe lists S3 buckets and SQS queues, proving credentials and endpoints
// work from the worker host.
func (a *SelfCheck) Probe(ctx context.Context, _ ProbeInput) (ProbeResult, error) {
	b, err := a.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		return ProbeResult{}, Classify("S3 ListBuckets", err)
	}
	q, err := a.SQS.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil {
		return ProbeResult{}, Classify("SQS ListQueues", err)
	}
	if b == nil || q == nil {
		return ProbeResult{}, fmt.Errorf("empty answer")
	}
	return ProbeResult{Buckets: len(b.Buckets), Queues: len(q.QueueUrls)}, nil
}
