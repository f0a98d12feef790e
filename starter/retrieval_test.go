package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
)

// TestRetrievalCommandsRejectBadInput: every bad command line exits 2 with
// one line, before anything (AWS or Temporal) is contacted.
func TestRetrievalCommandsRejectBadInput(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // would fail loudly if contacted
	t.Setenv("AWS_REGION", "us-east-1")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"glacier", "retrieve", "--archive-id", "a", "--to", "file:///tmp/x"}, "--vault is required"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--inventory", "--to", "file:///tmp/x"}, "not both"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--to", "file:///tmp/x"}, "--archive-id ID or --inventory"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--inventory", "--tier", "Fast", "--to", "file:///tmp/x"}, "--tier \"Fast\""},
		{[]string{"glacier", "retrieve", "--vault", "v", "--inventory", "--to", "out.json"}, "not a URL"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--inventory", "--to", "s3://Bad_Bucket/k"}, "lowercase"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--inventory", "--to", "s3:/bucket"}, "want s3://bucket/key"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--byte-range", "10-20", "--to", "file:///tmp/x"}, "megabyte-aligned"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--chunk-size", "3", "--to", "file:///tmp/x"}, "power of two"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--chunk-size", "4", "--to", "s3://out/x"}, "below S3's 5 MiB minimum"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--chunk-size", "8192", "--to", "s3://out/x"}, "above S3's 5 GiB maximum"},
		// 80,008 MiB in 8 MiB parts is 10,001 parts.
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--byte-range", "0-83894468607", "--chunk-size", "8", "--to", "s3://out/x"}, "more than S3's 10000"},
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--to", "file://bad host/x"}, "may only hold"},
		{[]string{"glacier", "setup"}, "--vault is required"},
		{[]string{"s3", "restore", "--bucket", "ab", "--key", "k"}, "3 to 63"},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", ""}, "--key is required"},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--days", "0"}, "--days 0"},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--to", "ftp://x/y"}, "unknown scheme"},
		{[]string{"s3", "setup-restore-events", "--bucket", "x"}, "--bucket"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runOffline(t, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

// TestS3RestoreMissingObjectIsBadInput checks the object against the local
// cloud before starting anything: not found, exit 3.
func TestS3RestoreMissingObjectIsBadInput(t *testing.T) {
	cloud, c := stacktest.Cloud(t, localcloud.Options{})
	t.Setenv("AWS_ENDPOINT_URL", cloud.URL())
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	if _, err := c.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("archive")}); err != nil {
		t.Fatal(err)
	}
	r := runOffline(t, "s3", "restore", "--bucket", "archive", "--key", "missing.dump")
	if r.code != 3 || !strings.Contains(r.stderr, "no such object s3://archive/missing.dump") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
