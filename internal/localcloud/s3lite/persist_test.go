package s3lite

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	tiers := map[string]time.Duration{"Expedited": time.Millisecond, "Bulk": 200 * time.Millisecond}
	st := newStack(t, Options{DataDir: dir, TierDelays: tiers})
	st.createBucket(t, "keep")
	_, arn := st.queue(t, "events")
	if err := putNotification(st, "keep", &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{
		{Id: aws.String("r"), QueueArn: aws.String(arn), Events: []types.Event{types.EventS3ObjectRestoreCompleted}}}}); err != nil {
		t.Fatal(err)
	}
	st.put(t, "keep", "done.tar", "done", "DEEP_ARCHIVE")
	st.put(t, "keep", "pending.tar", "pending", "GLACIER")
	if _, err := st.S3.RestoreObject(ctx, restoreReq("keep", "done.tar", 1, types.TierExpedited)); err != nil {
		t.Fatal(err)
	}
	doneRestore := st.waitRestored(t, "keep", "done.tar")
	if _, err := st.S3.RestoreObject(ctx, restoreReq("keep", "pending.tar", 1, types.TierBulk)); err != nil {
		t.Fatal(err)
	}
	if err := st.svc.Close(); err != nil {
		t.Fatal(err)
	}

	// Same directory, new emulators (the queue is created anew, same ARN).
	st = newStack(t, Options{DataDir: dir, TierDelays: tiers})
	u, _ := st.queue(t, "events")
	h, err := st.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("keep"), Key: aws.String("done.tar")})
	if err != nil || h.StorageClass != types.StorageClassDeepArchive || aws.ToString(h.Restore) != doneRestore {
		t.Fatalf("done.tar after restart: class %q restore %q, %v", h.StorageClass, aws.ToString(h.Restore), err)
	}
	if _, err := st.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("keep"), Key: aws.String("done.tar")}); err != nil {
		t.Errorf("GET restored after restart: %v", err)
	}
	// The pending restore was re-armed and completes, with its event.
	h, err = st.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("keep"), Key: aws.String("pending.tar")})
	if err != nil || h.StorageClass != types.StorageClassGlacier || h.Restore == nil {
		t.Fatalf("pending.tar after restart: %+v, %v", h, err)
	}
	st.waitRestored(t, "keep", "pending.tar")
	if rec := st.record(t, u); rec.EventName != "ObjectRestore:Completed" || rec.S3.Object.Key != "pending.tar" || rec.S3.ConfigurationID != "r" {
		t.Errorf("record = %+v", rec)
	}
	got, err := st.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("keep")})
	if err != nil || len(got.QueueConfigurations) != 1 || aws.ToString(got.QueueConfigurations[0].Id) != "r" {
		t.Fatalf("config after restart: %+v, %v", got, err)
	}
	// Deleting the bucket drops its state.
	for _, k := range []string{"done.tar", "pending.tar"} {
		if _, err := st.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("keep"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("keep")}); err != nil {
		t.Fatal(err)
	}
	st.createBucket(t, "keep")
	got, err = st.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("keep")})
	if err != nil || len(got.QueueConfigurations) != 0 {
		t.Errorf("config of a recreated bucket: %+v, %v", got, err)
	}
}
