package activities_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestRetentionAndResolve: retention keeps the newest N and those younger
// than the age, never the newest nor latest.json's; Resolve finds the
// latest, a timestamp, and reports no backup as NotFound.
func TestRetentionAndResolve(t *testing.T) {
	b := newBackupEnv(t, nil)
	ctx := context.Background()
	dir := "p/cache/"
	if _, err := b.env.ExecuteActivity(activities.BackupResolveName, activities.ResolveInput{From: "s3://" + backupBucket + "/" + dir}); errType(err) != activities.ErrTypeNoBackup || !strings.Contains(err.Error(), "no backup yet") {
		t.Errorf("resolve with no backup: %v", err)
	}
	// A bucket that does not exist is not "no backup yet" (which
	// cache-server --restore-from treats as an empty start).
	if _, err := b.env.ExecuteActivity(activities.BackupResolveName, activities.ResolveInput{From: "s3://no-such-bucket/" + dir}); errType(err) != activities.ErrTypeNotFound || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("resolve in a missing bucket: %v, want %s naming the bucket", err, activities.ErrTypeNotFound)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var keys []string
	for h := 9; h >= 0; h-- {
		k := dir + now.Add(-time.Duration(h)*time.Hour).Format(flowdata.BackupTimeFormat) + ".bin"
		keys = append(keys, k)
		body := []byte(k)
		_, err := b.c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(backupBucket), Key: aws.String(k), Body: bytes.NewReader(body),
			Metadata: map[string]string{activities.MetaSHA256: sumHex(body)}})
		must(t, err)
	}
	newest := keys[len(keys)-1]
	latest := flowdata.BackupLatest{Key: newest, SHA256: sumHex([]byte(newest)), Size: int64(len(newest)), Time: now}
	_, err := b.env.ExecuteActivity(activities.BackupPublishName, activities.PublishInput{Bucket: backupBucket, Dir: dir, Latest: latest})
	must(t, err)
	v, err := b.env.ExecuteActivity(activities.BackupRetentionName, activities.RetentionInput{Bucket: backupBucket, Dir: dir, Keep: 3, Now: now, Newest: newest})
	must(t, err)
	var deleted []string
	must(t, v.Get(&deleted))
	if len(deleted) != 7 {
		t.Errorf("deleted %v, want the 7 oldest", deleted)
	}
	entries, err := activities.ListBackups(ctx, b.c.S3, backupBucket, dir, true)
	must(t, err)
	if len(entries) != 3 || entries[0].Key != newest || entries[0].SHA256 != latest.SHA256 {
		t.Errorf("left %+v, want the newest 3", entries)
	}
	v, err = b.env.ExecuteActivity(activities.BackupResolveName, activities.ResolveInput{From: "s3://" + backupBucket + "/" + dir})
	must(t, err)
	var ref activities.ObjectRef
	must(t, v.Get(&ref))
	if ref.Key != newest || ref.SHA256 != latest.SHA256 {
		t.Errorf("resolved %+v, want %s", ref, newest)
	}
	at := now.Add(-time.Hour).Format(flowdata.BackupTimeFormat)
	v, err = b.env.ExecuteActivity(activities.BackupResolveName, activities.ResolveInput{From: "s3://" + backupBucket + "/" + dir, At: at})
	must(t, err)
	must(t, v.Get(&ref))
	if ref.Key != dir+at+".bin" {
		t.Errorf("resolved --at %s to %s", at, ref.Key)
	}
}

// TestRetentionVictims covers the rules without S3.
func TestRetentionVictims(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var entries []flowdata.BackupEntry
	for i := range 6 { // newest first, one a day
		entries = append(entries, flowdata.BackupEntry{Key: string(rune('f' - i)), Time: now.AddDate(0, 0, -i)})
	}
	cases := []struct {
		name    string
		keep    int
		age     time.Duration
		protect []string
		want    string
	}{
		{"no rule deletes nothing", 0, 0, nil, ""},
		{"keep 2", 2, 0, nil, "dcba"},
		{"age 3 days", 0, 72 * time.Hour, nil, "cba"},
		{"either keeps", 1, 48*time.Hour + time.Minute, nil, "cba"},
		{"protected survive", 1, 0, []string{"a", "c"}, "edb"},
		{"keep 1 never deletes the newest", 1, 0, nil, "edcba"},
	}
	for _, c := range cases {
		got := strings.Join(activities.RetentionVictims(entries, c.keep, c.age, now, c.protect...), "")
		if got != c.want {
			t.Errorf("%s: deleted %q, want %q", c.name, got, c.want)
		}
	}
}
