package main

import (
	"strings"
	"testing"
)

// TestVerifyFlagRejectsBadValues: --verify takes "" (cheap) or full on
// every command that has it; anything else, and full where nothing is
// re-read from the worker's disk, exits 2 with one line before anything
// (AWS or Temporal) is contacted.
func TestVerifyFlagRejectsBadValues(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // would fail loudly if contacted
	t.Setenv("AWS_REGION", "us-east-1")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"glacier", "retrieve", "--vault", "v", "--archive-id", "a", "--to", "file:///tmp/x", "--verify", "bogus"}, `--verify "bogus": want "cheap" or "full"`},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--to", "file:///tmp/x", "--verify", "bogus"}, `--verify "bogus": want "cheap" or "full"`},
		{[]string{"backup", "restore", "--from", "s3://bkt/prod/db/", "--to", "file:///tmp/x", "--verify", "bogus"}, `verify "bogus": want "cheap" or "full"`},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--to", "s3://scratch/x", "--verify", "full"}, "--verify full applies to --to file:// destinations"},
		{[]string{"s3", "restore", "--bucket", "archive", "--key", "k", "--verify", "full"}, "--verify full applies to --to file:// destinations"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runOffline(t, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", r.code, r.stderr, tc.want)
			}
		})
	}
}
