package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vigilops/vigil/internal/awsconf"
)

// S3EventsOptions configure bucket notifications straight to the queue.
type S3EventsOptions struct {
	Bucket string
	// ID of the queue configuration, e.g. "vigil-restore".
	ID string
	// Events, e.g. s3:ObjectRestore:Completed.
	Events []s3types.Event
	// Prefix and Suffix filter the keys; empty means all.
	Prefix, Suffix string
	// QueueName defaults to DefaultQueue.
	QueueName string
}

// RestoreEvents is the S3 setup for restore completions.
func RestoreEvents(bucket, queue string) S3EventsOptions {
	return S3EventsOptions{Bucket: bucket, ID: "vigil-restore", Events: []s3types.Event{"s3:ObjectRestore:Completed"}, QueueName: queue}
}

// S3Events sets up bucket → SQS notifications for the given events,
// keeping the bucket's other notification configurations as they are.
func S3Events(ctx context.Context, c *awsconf.Clients, o S3EventsOptions) (Report, error) {
	var rep Report
	if o.QueueName == "" {
		o.QueueName = DefaultQueue
	}
	if _, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(o.Bucket)}); err != nil {
		var nf *s3types.NotFound
		if errors.As(err, &nf) {
			return rep, &NotFoundError{Kind: "bucket", Name: o.Bucket}
		}
		return rep, fmt.Errorf("checking bucket %q: %w", o.Bucket, err)
	}
	q, err := ensureQueue(ctx, c, o.QueueName, &rep)
	if err != nil {
		return rep, err
	}
	rep.QueueURL = q.URL
	if err := allowSender(ctx, c, q, "vigil-s3-"+o.Bucket, "s3.amazonaws.com", "arn:aws:s3:::"+o.Bucket, &rep); err != nil {
		return rep, err
	}
	cur, err := c.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(o.Bucket)})
	if err != nil {
		return rep, fmt.Errorf("reading bucket notifications: %w", err)
	}
	want := s3types.QueueConfiguration{Id: aws.String(o.ID), QueueArn: aws.String(q.ARN), Events: o.Events}
	var rules []s3types.FilterRule
	if o.Prefix != "" {
		rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleNamePrefix, Value: aws.String(o.Prefix)})
	}
	if o.Suffix != "" {
		rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleNameSuffix, Value: aws.String(o.Suffix)})
	}
	if len(rules) > 0 {
		want.Filter = &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: rules}}
	}
	cfg := &s3types.NotificationConfiguration{
		QueueConfigurations:          nil,
		TopicConfigurations:          cur.TopicConfigurations,
		LambdaFunctionConfigurations: cur.LambdaFunctionConfigurations,
		EventBridgeConfiguration:     cur.EventBridgeConfiguration,
	}
	action := "created"
	for _, qc := range cur.QueueConfigurations {
		if aws.ToString(qc.Id) != o.ID {
			cfg.QueueConfigurations = append(cfg.QueueConfigurations, qc)
			continue
		}
		if aws.ToString(qc.QueueArn) == q.ARN && slices.Equal(qc.Events, o.Events) && sameJSON(qc.Filter, want.Filter) {
			rep.add("found", "bucket notification", o.Bucket+"/"+o.ID)
			return rep, nil
		}
		action = "updated"
	}
	cfg.QueueConfigurations = append(cfg.QueueConfigurations, want)
	if _, err := c.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(o.Bucket), NotificationConfiguration: cfg}); err != nil {
		return rep, fmt.Errorf("setting bucket notifications: %w", err)
	}
	rep.add(action, "bucket notification", o.Bucket+"/"+o.ID)
	return rep, nil
}

// ObjectCreatedEvents is the S3 setup for S3 reprocessing: every
// ObjectCreated event under prefix.
func ObjectCreatedEvents(bucket, prefix, queue string) S3EventsOptions {
	return S3EventsOptions{Bucket: bucket, ID: "vigil-objects-" + strings.TrimSuffix(strings.ReplaceAll(prefix, "/", "-"), "-"),
		Events: []s3types.Event{"s3:ObjectCreated:*"}, Prefix: prefix, QueueName: queue}
}

// RemoveS3Events removes the bucket's queue configuration with the ID o
// names (as S3Events made it), keeping every other configuration; the
// queue and its policy stay (other buckets and flows use them). A
// configuration already gone is reported "absent": running it again
// changes nothing.
func RemoveS3Events(ctx context.Context, c *awsconf.Clients, o S3EventsOptions) (Report, error) {
	var rep Report
	cur, err := c.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(o.Bucket)})
	if err != nil {
		var api interface{ ErrorCode() string }
		if errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket" {
			return rep, &NotFoundError{Kind: "bucket", Name: o.Bucket}
		}
		return rep, fmt.Errorf("reading bucket notifications: %w", err)
	}
	keep := slices.DeleteFunc(slices.Clone(cur.QueueConfigurations), func(qc s3types.QueueConfiguration) bool { return aws.ToString(qc.Id) == o.ID })
	if len(keep) == len(cur.QueueConfigurations) {
		rep.add("absent", "bucket notification", o.Bucket+"/"+o.ID)
		return rep, nil
	}
	cfg := &s3types.NotificationConfiguration{QueueConfigurations: keep, TopicConfigurations: cur.TopicConfigurations,
		LambdaFunctionConfigurations: cur.LambdaFunctionConfigurations, EventBridgeConfiguration: cur.EventBridgeConfiguration}
	if _, err := c.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(o.Bucket), NotificationConfiguration: cfg}); err != nil {
		return rep, fmt.Errorf("setting bucket notifications: %w", err)
	}
	rep.add("removed", "bucket notification", o.Bucket+"/"+o.ID)
	return rep, nil
}
