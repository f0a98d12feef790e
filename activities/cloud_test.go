package activities_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/localcloud/slacksink"
	"github.com/vigilops/vigil/internal/secretenv"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestJobActivitiesAgainstLocalCloud runs the s3-put, sqs-send and Slack
// activities with the real SDK clients against the local cloud.
func TestJobActivitiesAgainstLocalCloud(t *testing.T) {
	cloud, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("feed-store")}); err != nil {
		t.Fatal(err)
	}
	q, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	(&activities.S3{Client: c.S3}).Register(env)
	(&activities.SQS{Client: c.SQS}).Register(env)
	(&activities.Slack{Env: secretenv.New(func(k string) string {
		if k == activities.DefaultSlackWebhookEnv {
			return cloud.URL() + "/_slack/T/B/x"
		}
		return ""
	}, secretenv.Policy{})}).Register(env)
	jc := activities.JobContext{ScheduledTime: time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC), RunID: "run-1", JobName: "dummy-feed"}

	var s3a *activities.S3
	if _, err := env.ExecuteActivity(s3a.PutJobObject, activities.S3PutJobInput{Ctx: jc, Job: flowdata.S3PutJob{Bucket: "feed-store",
		Key: `dummy-feed/{{.ScheduledTime.Format "2006-01-02T15:04:05"}}-{{.RunID}}`, Content: "batch job {{.JobName}}"}}); err != nil {
		t.Fatal(err)
	}
	obj, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("feed-store"), Key: aws.String("dummy-feed/2026-11-24T03:00:00-run-1")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if string(body) != "batch job dummy-feed" {
		t.Errorf("object = %q", body)
	}

	var sqa *activities.SQS
	if _, err := env.ExecuteActivity(sqa.SendJobMessage, activities.SQSSendJobInput{Ctx: jc, Job: flowdata.SQSSendJob{Queue: "jobs",
		Body: "work {{.RunID}}", Attributes: map[string]string{"job": "dummy"}}}); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 2, MessageAttributeNames: []string{"All"}})
	if err != nil || len(msgs.Messages) != 1 || aws.ToString(msgs.Messages[0].Body) != "work run-1" ||
		aws.ToString(msgs.Messages[0].MessageAttributes["job"].StringValue) != "dummy" {
		t.Fatalf("message = %+v, %v", msgs, err)
	}

	var sl *activities.Slack
	if _, err := env.ExecuteActivity(sl.Notify, activities.SlackMessage{Text: "job failed", Color: activities.SlackDanger, Title: "t",
		Fields: []activities.SlackField{{Title: "Schedule", Value: "nightly"}}}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := cloud.Slack.Wait(wctx, func(slacksink.Message) bool { return true })
	if err != nil || !strings.Contains(string(m.Payload), "danger") || !strings.Contains(string(m.Payload), "nightly") {
		t.Fatalf("slack message = %s, %v", m.Payload, err)
	}
}
