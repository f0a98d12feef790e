package localcloud_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
)

// TestOneEndpointRoutesByProtocol drives every service through the one
// shared port with the real SDK clients: SNS publishes into an SQS queue,
// S3 and the Slack sink answer on the same address.
func TestOneEndpointRoutesByProtocol(t *testing.T) {
	cloud, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if got := strings.Join(cloud.Names(), ","); got != "slack,demo,sqs,sns,glacier,s3" {
		t.Errorf("routing order = %s", got)
	}
	q, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("routed")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	topic, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("routed-topic")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SNS.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Subject: aws.String("s"), Message: aws.String("hello via sns")}); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5})
	if err != nil || len(msgs.Messages) != 1 {
		t.Fatalf("receive: %v %v", msgs, err)
	}
	var env struct{ Type, Message, TopicArn string }
	if err := json.Unmarshal([]byte(aws.ToString(msgs.Messages[0].Body)), &env); err != nil || env.Type != "Notification" || env.Message != "hello via sns" {
		t.Errorf("envelope = %+v, %v", env, err)
	}

	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("routed-bucket")}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(cloud.URL()+"/_slack/services/T/B/X", "application/json", strings.NewReader(`{"text":"ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" || len(cloud.Slack.Messages()) != 1 {
		t.Errorf("slack sink: %s %q, %d messages", resp.Status, body, len(cloud.Slack.Messages()))
	}
	resp, err = http.Post(cloud.URL()+"/_demo/s3dump", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	head, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("demo-backups"), Key: aws.String("s3dump/latest.bin")})
	if err != nil || aws.ToInt64(head.ContentLength) != 256<<10 || head.Metadata["dump-number"] != "1" {
		t.Errorf("demo dump: %v %v", head, err)
	}
}
