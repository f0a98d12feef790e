package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// SQSAPI is the part of the SQS client that vigil's SQS activities use.
type SQSAPI interface {
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQS holds the activities that act on SQS.
type SQS struct {
	Client SQSAPI
}

// SQSSendJobInput is one sqs-send job attempt.
type SQSSendJobInput struct {
	Job flowdata.SQSSendJob `json:"job"`
	Ctx JobContext          `json:"ctx"`
}

// SendJobMessage renders the body template and sends the message (queue by
// URL or by name).
func (a *SQS) SendJobMessage(ctx context.Context, in SQSSendJobInput) (JobOutput, error) {
	body, err := Render("body", in.Job.Body, in.Ctx)
	if err != nil {
		return JobOutput{}, err
	}
	url, err := a.queueURL(ctx, in.Job.Queue)
	if err != nil {
		return JobOutput{}, err
	}
	msg := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}
	if len(in.Job.Attributes) > 0 {
		msg.MessageAttributes = map[string]types.MessageAttributeValue{}
		for k, v := range in.Job.Attributes {
			msg.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	out, err := a.Client.SendMessage(ctx, msg)
	if err != nil {
		return JobOutput{}, Classify("SQS SendMessage "+in.Job.Queue, err)
	}
	return JobOutput{Summary: fmt.Sprintf("sent message %s to %s", aws.ToString(out.MessageId), in.Job.Queue)}, nil
}

func (a *SQS) queueURL(ctx context.Context, q string) (string, error) {
	if strings.HasPrefix(q, "https://") || strings.HasPrefix(q, "http://") {
		return q, nil
	}
	out, err := a.Client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)})
	if err != nil {
		return "", Classify("SQS GetQueueUrl "+q, err)
	}
	return aws.ToString(out.QueueUrl), nil
}
