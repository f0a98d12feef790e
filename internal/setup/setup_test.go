package setup_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
)

// actions renders a report as "action resource name" lines.
func actions(r setup.Report) string {
	var b strings.Builder
	for _, s := range r.Steps {
		b.WriteString(s.Action + " " + s.Resource + " " + s.Name + "\n")
	}
	return b.String()
}

// TestGlacierSetupRepairsAndIsIdempotent: a queue that exists without its
// dead-letter policy gets it ("updated"); a second run finds everything.
func TestGlacierSetupRepairsAndIsIdempotent(t *testing.T) {
	cloud, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if err := cloud.Glacier.CreateVault("v1"); err != nil {
		t.Fatal(err)
	}
	q, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(setup.DefaultQueue)})
	if err != nil {
		t.Fatal(err)
	}
	first, err := setup.Glacier(ctx, c, setup.GlacierOptions{Vault: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	want := "created sqs queue vigil-notifications-dlq\nupdated sqs queue vigil-notifications\ncreated sns topic vigil-glacier-v1\n" +
		"created queue policy statement vigil-glacier-v1\ncreated sns subscription vigil-glacier-v1 → vigil-notifications\ncreated vault notifications v1\n"
	if got := actions(first); got != want {
		t.Errorf("first setup:\n%swant\n%s", got, want)
	}
	a, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy}})
	if err != nil || !strings.Contains(a.Attributes["RedrivePolicy"], "vigil-notifications-dlq") {
		t.Errorf("redrive policy after setup: %v, %v", a.Attributes, err)
	}
	second, err := setup.Glacier(ctx, c, setup.GlacierOptions{Vault: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Changed() || second.QueueURL != aws.ToString(q.QueueUrl) {
		t.Errorf("second setup changed something:\n%s", actions(second))
	}
	var nf *setup.NotFoundError
	if _, err := setup.Glacier(ctx, c, setup.GlacierOptions{Vault: "nope"}); !errors.As(err, &nf) || err.Error() != `no such vault "nope"` {
		t.Errorf("missing vault: %v", err)
	}
}

// TestS3EventsKeepsOtherConfigurations: the restore configuration is added
// next to the bucket's own; changing the filter updates only vigil's.
func TestS3EventsKeepsOtherConfigurations(t *testing.T) {
	cloud, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if err := cloud.S3.CreateBucket("b1"); err != nil {
		t.Fatal(err)
	}
	topic, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("theirs")})
	if err != nil {
		t.Fatal(err)
	}
	theirs := s3types.TopicConfiguration{Id: aws.String("theirs"), TopicArn: topic.TopicArn, Events: []s3types.Event{"s3:ObjectCreated:*"}}
	if _, err := c.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("b1"),
		NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{theirs}}}); err != nil {
		t.Fatal(err)
	}
	o := setup.RestoreEvents("b1", "")
	for i, want := range []bool{true, false} {
		rep, err := setup.S3Events(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Changed() != want {
			t.Errorf("run %d: changed=%v\n%s", i+1, rep.Changed(), actions(rep))
		}
	}
	o.Prefix = "db/"
	rep, err := setup.S3Events(ctx, c, o)
	if err != nil || !strings.Contains(actions(rep), "updated bucket notification b1/vigil-restore") {
		t.Fatalf("filter change: %v\n%s", err, actions(rep))
	}
	cfg, err := c.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("b1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.TopicConfigurations) != 1 || aws.ToString(cfg.TopicConfigurations[0].Id) != "theirs" || len(cfg.QueueConfigurations) != 1 ||
		aws.ToString(cfg.QueueConfigurations[0].Filter.Key.FilterRules[0].Value) != "db/" {
		t.Errorf("bucket configuration after setup: %+v", cfg)
	}
	var nf *setup.NotFoundError
	if _, err := setup.S3Events(ctx, c, setup.RestoreEvents("nope-bucket", "")); !errors.As(err, &nf) {
		t.Errorf("missing bucket: %v", err)
	}
}
