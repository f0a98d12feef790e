package localcloud_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
)

// TestFaultsSpeakEachProtocol fails every call of one operation per
// service and checks that the real SDK clients decode the service's own
// throttling or 5xx error code, while other operations still work.
func TestFaultsSpeakEachProtocol(t *testing.T) {
	cloud, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if err := cloud.S3.CreateBucket("fault-bucket"); err != nil {
		t.Fatal(err)
	}
	if err := cloud.Glacier.CreateVault("v"); err != nil {
		t.Fatal(err)
	}
	q, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	cloud.SetFaults([]localcloud.Fault{
		{Service: "s3", Operation: "PutObject", Rate: 1},
		{Service: "sqs", Operation: "SendMessage", Rate: 1},
		{Service: "sns", Operation: "CreateTopic", Rate: 1},
		{Service: "glacier", Operation: "ListJobs", Rate: 1},
	})
	code := func(err error) string {
		var api smithy.APIError
		if errors.As(err, &api) {
			return api.ErrorCode()
		}
		return "not an API error: " + err.Error()
	}
	for _, tc := range []struct {
		what string
		err  error
		want string
	}{
		{"S3 PutObject", func() error {
			_, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("fault-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
			return err
		}(), "SlowDown"},
		{"SQS SendMessage", func() error {
			_, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x")})
			return err
		}(), "RequestThrottled"},
		{"SNS CreateTopic", func() error {
			_, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t")})
			return err
		}(), "Throttling"},
		{"Glacier ListJobs", func() error {
			_, err := c.Glacier.ListJobs(ctx, &glacier.ListJobsInput{VaultName: aws.String("v")})
			return err
		}(), "ServiceUnavailableException"},
	} {
		if tc.err == nil || code(tc.err) != tc.want {
			t.Errorf("%s under a 100%% fault: %v, want error code %s", tc.what, tc.err, tc.want)
		}
	}
	// Other operations are untouched.
	if _, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl}); err != nil {
		t.Errorf("ReceiveMessage has no fault: %v", err)
	}
	if _, err := c.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("fault-bucket")}); err != nil {
		t.Errorf("ListObjectsV2 has no fault: %v", err)
	}
	// Latency without failures.
	cloud.SetFaults([]localcloud.Fault{{Service: "sqs", Latency: 200 * time.Millisecond}})
	start := time.Now()
	if _, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("SendMessage with 200ms latency took %v", d)
	}
}

func TestParseFaults(t *testing.T) {
	got, err := localcloud.ParseFaults("s3=0.2, sqs:ReceiveMessage=0.1@50ms,glacier=1")
	want := []localcloud.Fault{{Service: "s3", Rate: 0.2}, {Service: "sqs", Operation: "ReceiveMessage", Rate: 0.1, Latency: 50 * time.Millisecond}, {Service: "glacier", Rate: 1}}
	if err != nil || len(got) != len(want) {
		t.Fatalf("ParseFaults = %+v, %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fault %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"s3", "ec2=0.1", "s3=2", "s3=x", "s3=0.1@soon", "s3=-0.1"} {
		if _, err := localcloud.ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) accepted", bad)
		}
	}
}
