package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestBackupValidation: bad input is one line and exit 2, before anything
// is contacted (no server is running here).
func TestBackupValidation(t *testing.T) {
	t.Setenv("SET_PW", "x")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"backup", "run", "--name", "n", "--from", "ftp://h/x", "--to", "s3://bkt/"}, `unknown scheme "ftp"`},
		{[]string{"backup", "run", "--name", "n", "--from", "file:rel/x", "--to", "s3://bkt/"}, "path must be absolute"},
		{[]string{"backup", "run", "--name", "n", "--from", "dir:rel", "--to", "s3://bkt/"}, "path must be absolute"},
		{[]string{"backup", "run", "--name", "n", "--from", "file:///x", "--to", "file:///y"}, "want s3://bucket/prefix/"},
		{[]string{"backup", "run", "--name", "n", "--from", "http://h/x", "--user", "u", "--password-env", "UNSET_PW_VIGIL", "--to", "s3://bkt/"}, "UNSET_PW_VIGIL (basic-auth password) is not set"},
		{[]string{"backup", "run", "--name", "n", "--from", "file:///x", "--to", "s3://bkt/", "--keep", "-1"}, "keep -1"},
		{[]string{"backup", "run", "--name", "n", "--from", "file:///x", "--to", "s3://bkt/", "--max-age", "soon"}, "--max-age"},
		{[]string{"backup", "run", "--name", "a/b", "--from", "file:///x", "--to", "s3://bkt/"}, "no slashes"},
		{[]string{"backup", "run", "--from", "file:///x", "--to", "s3://bkt/"}, "name is required"},
		{[]string{"backup", "restore", "--from", "s3://bkt/n/", "--at", "yesterday", "--to", "file:///x"}, "20261201T030000Z"},
		{[]string{"backup", "restore", "--from", "s3://bkt/n/", "--to", "s3://bkt/other"}, "want file:///abs/path, dir:/abs/path or http(s)"},
		{[]string{"backup", "list", "file:///x"}, "want s3://bucket/prefix/name/"},
		{[]string{"cache-server", "--password-env", "UNSET_PW_VIGIL"}, "UNSET_PW_VIGIL"},
	}
	for _, c := range cases {
		var stdout, stderr syncBuffer
		code := runCLI(context.Background(), &stdout, &stderr, nil, append([]string{"--address", "127.0.0.1:1"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr.String(), c.want) || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, stderr.String(), c.want)
		}
	}
}

// TestBackupRunListRestore drives the CLI as a user would: back a file up
// twice (keep 1), list (JSON), restore the latest to a file, schedule it.
func TestBackupRunListRestore(t *testing.T) {
	h, _, awsc := newS3Harness(t)
	ctx := context.Background()
	if _, err := awsc.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "db.dump")
	data, _ := io.ReadAll(detdata.New(4, 6<<20))
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// An older backup that retention (--keep 1) must delete.
	if _, err := awsc.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("prod/db/20261101T000000Z.bin"), Body: strings.NewReader("old")}); err != nil {
		t.Fatal(err)
	}
	r := h.runWithin(2*time.Minute, "backup", "run", "--name", "db", "--from", "file://"+src, "--to", "s3://bkt/prod/", "--keep", "1", "--verify", "--wait")
	if r.code != 0 {
		t.Fatalf("backup run: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = h.run("-o", "json", "backup", "list", "s3://bkt/prod/db/")
	var entries []flowdata.BackupEntry
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &entries) != nil {
		t.Fatalf("list: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if len(entries) != 1 || !entries[0].Latest || entries[0].Size != int64(len(data)) || len(entries[0].SHA256) != 64 {
		t.Fatalf("entries %+v: want the one new backup, latest, with its SHA-256", entries)
	}
	if r = h.run("backup", "list", "s3://bkt/prod/db/"); r.code != 0 || !strings.Contains(r.stdout, "latest") || !strings.Contains(r.stdout, entries[0].SHA256) {
		t.Errorf("text list: %s", r.stdout)
	}
	dest := filepath.Join(dir, "restored", "db.dump")
	r = h.runWithin(2*time.Minute, "backup", "restore", "--from", "s3://bkt/prod/db/", "--to", "file://"+dest, "--wait")
	if r.code != 0 {
		t.Fatalf("restore: %d\n%s", r.code, r.stderr)
	}
	if got, err := os.ReadFile(dest); err != nil || !bytes.Equal(got, data) {
		t.Errorf("restored %d bytes (%v), want %d", len(got), err, len(data))
	}
	input := filepath.Join(dir, "backup-db.yaml")
	if err := os.WriteFile(input, []byte("name: db\nsource: file://"+src+"\ntarget: s3://bkt/prod/\nkeep: 24\nverify: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r = h.run("schedule", "create", "db-hourly", "--every", "1h", "--workflow", "backup", "--input", input); r.code != 0 {
		t.Errorf("schedule create: %d %s", r.code, r.stderr)
	}
}
