package s3lite

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func filter(prefix, suffix string) *types.NotificationConfigurationFilter {
	return &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{
		{Name: types.FilterRuleNamePrefix, Value: aws.String(prefix)}, {Name: types.FilterRuleNameSuffix, Value: aws.String(suffix)}}}}
}

func putNotification(st *stack, bucket string, c *types.NotificationConfiguration) error {
	_, err := st.S3.PutBucketNotificationConfiguration(context.Background(), &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(bucket), NotificationConfiguration: c})
	return err
}

// wantTestEvent checks that body is the s3:TestEvent of bucket.
func wantTestEvent(t *testing.T, body, bucket string) {
	t.Helper()
	var ev struct{ Service, Event, Time, Bucket, RequestId, HostId string }
	if err := json.Unmarshal([]byte(body), &ev); err != nil || ev.Event != "s3:TestEvent" || ev.Service != "Amazon S3" || ev.Bucket != bucket {
		t.Fatalf("not a test event of %s (%v): %s", bucket, err, body)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", ev.Time); err != nil {
		t.Errorf("test event time: %v", err)
	}
}

// snsMessage unwraps an SNS envelope, checking the S3 subject.
func snsMessage(t *testing.T, body string) string {
	t.Helper()
	var env struct{ Type, Subject, Message, TopicArn string }
	if err := json.Unmarshal([]byte(body), &env); err != nil || env.Type != "Notification" || env.Subject != "Amazon S3 Notification" {
		t.Fatalf("not an SNS notification (%v): %s", err, body)
	}
	return env.Message
}

func TestNotifications(t *testing.T) {
	st := newStack(t, Options{TierDelays: fastTiers, Region: "ap-northeast-1"})
	ctx := context.Background()
	st.createBucket(t, "inbox")
	createdURL, createdARN := st.queue(t, "created")
	restoreURL, restoreARN := st.queue(t, "restores")
	viaURL, viaARN := st.queue(t, "via-sns")
	topicARN, err := st.sns.CreateTopic("inbox-events")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.sns.Subscribe(topicARN, viaARN, false); err != nil {
		t.Fatal(err)
	}

	// Without configuration: empty document; unknown bucket: NoSuchBucket.
	got, err := st.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("inbox")})
	if err != nil || len(got.QueueConfigurations)+len(got.TopicConfigurations)+len(got.LambdaFunctionConfigurations) != 0 {
		t.Fatalf("empty config: %+v, %v", got, err)
	}
	_, err = st.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("nob")})
	wantCode(t, err, "NoSuchBucket")
	wantCode(t, putNotification(st, "nob", &types.NotificationConfiguration{}), "NoSuchBucket")
	wantCode(t, putNotification(st, "inbox", &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{
		{QueueArn: aws.String(createdARN), Events: []types.Event{"s3:ObjectMade:*"}}}}), "InvalidArgument")
	wantCode(t, putNotification(st, "inbox", &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{
		{QueueArn: aws.String(createdARN + "-missing"), Events: []types.Event{types.EventS3ObjectCreated}}}}), "InvalidArgument")

	cfg := &types.NotificationConfiguration{
		QueueConfigurations: []types.QueueConfiguration{
			{Id: aws.String("created"), QueueArn: aws.String(createdARN), Events: []types.Event{types.EventS3ObjectCreated}, Filter: filter("in/", ".csv")},
			{Id: aws.String("restore"), QueueArn: aws.String(restoreARN), Events: []types.Event{types.EventS3ObjectRestore}},
		},
		TopicConfigurations: []types.TopicConfiguration{{Id: aws.String("topic"), TopicArn: aws.String(topicARN),
			Events: []types.Event{types.EventS3ObjectCreatedPut, types.EventS3ObjectRemovedDelete}}},
		LambdaFunctionConfigurations: []types.LambdaFunctionConfiguration{{LambdaFunctionArn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f"),
			Events: []types.Event{types.EventS3ObjectCreated}}},
	}
	if err := putNotification(st, "inbox", cfg); err != nil {
		t.Fatal(err)
	}
	got, err = st.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("inbox")})
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, got, createdARN, restoreARN, topicARN)

	wantTestEvent(t, st.receive(t, createdURL, 1), "inbox")
	wantTestEvent(t, st.receive(t, restoreURL, 1), "inbox")
	wantTestEvent(t, snsMessage(t, st.receive(t, viaURL, 1)), "inbox")
	// Saving the same destinations again sends no test event.
	if err := putNotification(st, "inbox", cfg); err != nil {
		t.Fatal(err)
	}

	key := "in/2026/report final(1).csv"
	put := st.put(t, "inbox", key, "a,b,c\n", "")
	rec := st.record(t, createdURL)
	if rec.EventName != "ObjectCreated:Put" || rec.EventVersion != "2.1" || rec.EventSource != "aws:s3" || rec.AWSRegion != "ap-northeast-1" ||
		rec.S3.ConfigurationID != "created" || rec.S3.Bucket.Name != "inbox" || rec.S3.Bucket.ARN != "arn:aws:s3:::inbox" ||
		rec.S3.Object.Key != "in/2026/report+final%281%29.csv" || aws.ToInt64(rec.S3.Object.Size) != 6 ||
		rec.S3.Object.ETag != strings.Trim(aws.ToString(put.ETag), `"`) || rec.S3.Object.Sequencer == "" {
		t.Errorf("record = %+v", rec)
	}
	if k, err := url.QueryUnescape(rec.S3.Object.Key); err != nil || k != key {
		t.Errorf("key decodes to %q, %v", k, err)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", rec.EventTime); err != nil {
		t.Errorf("eventTime: %v", err)
	}
	viaRec := decodeRecord(t, snsMessage(t, st.receive(t, viaURL, 5)))
	if viaRec.EventName != "ObjectCreated:Put" || viaRec.S3.ConfigurationID != "topic" || viaRec.S3.Object.Sequencer != rec.S3.Object.Sequencer {
		t.Errorf("SNS record = %+v", viaRec)
	}

	// Filtered out: prefix or suffix do not match.
	st.put(t, "inbox", "out/x.csv", "x", "")
	st.put(t, "inbox", "in/x.txt", "x", "")
	if body := st.receive(t, createdURL, 1); body != "" {
		t.Errorf("filtered event delivered: %s", body)
	}
	for range 2 {
		snsMessage(t, st.receive(t, viaURL, 5))
	}

	// Copy and multipart are ObjectCreated too; the topic wants only Put.
	if _, err := st.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("inbox"), Key: aws.String("in/copy.csv"),
		CopySource: aws.String("inbox/out/x.csv")}); err != nil {
		t.Fatal(err)
	}
	if rec := st.record(t, createdURL); rec.EventName != "ObjectCreated:Copy" || rec.S3.Object.Key != "in/copy.csv" {
		t.Errorf("copy record = %+v", rec)
	}

	// Restore: Post on 202, then Completed with the restore data.
	st.put(t, "inbox", "arch/db.tar", "db", "GLACIER")
	snsMessage(t, st.receive(t, viaURL, 5))
	if _, err := st.S3.RestoreObject(ctx, restoreReq("inbox", "arch/db.tar", 3, types.TierExpedited)); err != nil {
		t.Fatal(err)
	}
	if rec := st.record(t, restoreURL); rec.EventName != "ObjectRestore:Post" || rec.GlacierEventData != nil {
		t.Errorf("restore post = %+v", rec)
	}
	rec = st.record(t, restoreURL)
	if rec.EventName != "ObjectRestore:Completed" || rec.S3.Object.Key != "arch/db.tar" || aws.ToInt64(rec.S3.Object.Size) != 2 ||
		rec.GlacierEventData == nil || rec.GlacierEventData.RestoreEventData.StorageClass != "GLACIER" {
		t.Fatalf("restore completed = %+v", rec)
	}
	exp, err := time.Parse("2006-01-02T15:04:05.000Z", rec.GlacierEventData.RestoreEventData.ExpiryTime)
	if err != nil || exp.Before(time.Now().Add(72*time.Hour)) {
		t.Errorf("lifecycleRestorationExpiryTime %v, %v", exp, err)
	}

	// Delete goes to the topic.
	if _, err := st.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("inbox"), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	del := decodeRecord(t, snsMessage(t, st.receive(t, viaURL, 5)))
	if del.EventName != "ObjectRemoved:Delete" || del.S3.Object.Size != nil || del.S3.Object.Key != "in/2026/report+final%281%29.csv" {
		t.Errorf("delete record = %+v", del)
	}
	if _, err := st.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("inbox"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("out/x.csv")}}}}); err != nil {
		t.Fatal(err)
	}
	if del := decodeRecord(t, snsMessage(t, st.receive(t, viaURL, 5))); del.EventName != "ObjectRemoved:Delete" || del.S3.Object.Key != "out/x.csv" {
		t.Errorf("multi-delete record = %+v", del)
	}

	// An empty configuration turns notifications off.
	if err := putNotification(st, "inbox", &types.NotificationConfiguration{}); err != nil {
		t.Fatal(err)
	}
	st.put(t, "inbox", "in/late.csv", "x", "")
	if body := st.receive(t, createdURL, 1); body != "" {
		t.Errorf("event after notifications off: %s", body)
	}
}

func checkConfig(t *testing.T, got *s3.GetBucketNotificationConfigurationOutput, createdARN, restoreARN, topicARN string) {
	t.Helper()
	if len(got.QueueConfigurations) != 2 || len(got.TopicConfigurations) != 1 || len(got.LambdaFunctionConfigurations) != 1 {
		t.Fatalf("config = %+v", got)
	}
	q := got.QueueConfigurations[0]
	if aws.ToString(q.Id) != "created" || aws.ToString(q.QueueArn) != createdARN || len(q.Events) != 1 || q.Events[0] != types.EventS3ObjectCreated ||
		q.Filter == nil || len(q.Filter.Key.FilterRules) != 2 || aws.ToString(q.Filter.Key.FilterRules[0].Value) != "in/" ||
		q.Filter.Key.FilterRules[1].Name != types.FilterRuleNameSuffix || aws.ToString(q.Filter.Key.FilterRules[1].Value) != ".csv" {
		t.Errorf("queue config = %+v", q)
	}
	if aws.ToString(got.QueueConfigurations[1].QueueArn) != restoreARN {
		t.Errorf("second queue config = %+v", got.QueueConfigurations[1])
	}
	tc := got.TopicConfigurations[0]
	if aws.ToString(tc.TopicArn) != topicARN || len(tc.Events) != 2 || tc.Events[1] != types.EventS3ObjectRemovedDelete {
		t.Errorf("topic config = %+v", tc)
	}
	if aws.ToString(got.LambdaFunctionConfigurations[0].Id) == "" {
		t.Error("lambda config got no Id")
	}
}

func TestDropRate(t *testing.T) {
	st := newStack(t, Options{DropRate: 1})
	ctx := context.Background()
	st.createBucket(t, "lossy")
	u, arn := st.queue(t, "events")
	if err := putNotification(st, "lossy", &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{
		{QueueArn: aws.String(arn), Events: []types.Event{types.EventS3ObjectCreated, types.EventS3ObjectRemoved}}}}); err != nil {
		t.Fatal(err)
	}
	wantTestEvent(t, st.receive(t, u, 1), "lossy")
	st.put(t, "lossy", "a", "x", "")
	if body := st.receive(t, u, 1); body != "" {
		t.Errorf("ObjectCreated not dropped: %s", body)
	}
	if _, err := st.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("lossy"), Key: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	if rec := st.record(t, u); rec.EventName != "ObjectRemoved:Delete" {
		t.Errorf("record = %+v", rec)
	}
}

func TestEncodeKey(t *testing.T) {
	for in, want := range map[string]string{
		"incoming/2026/11/20/report final(1).csv": "incoming/2026/11/20/report+final%281%29.csv",
		"a+b=c&d~é": "a%2Bb%3Dc%26d%7E%C3%A9",
		"x-y_z.*":   "x-y_z.*",
	} {
		if got := encodeKey(in); got != want {
			t.Errorf("encodeKey(%q) = %q, want %q", in, got, want)
		}
	}
}
