package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/secretenv"
	"github.com/vigilops/vigil/internal/stacktest"
)

// newBackupEnvWith is newBackupEnv with the activities' S3 client passed
// through wrap (nil: the client as it is).
func newBackupEnvWith(t *testing.T, getenv func(string) string, wrap func(activities.BackupS3API) activities.BackupS3API) *backupEnv {
	dir := t.TempDir()
	_, c := stacktest.Cloud(t, localcloud.Options{DataDir: dir})
	if _, err := c.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(backupBucket)}); err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	var api activities.BackupS3API = c.S3
	if wrap != nil {
		api = wrap(api)
	}
	(&activities.Backup{S3: api, Env: secretenv.New(getenv, secretenv.Policy{Names: []string{"CACHE_PASSWORD"}})}).Register(env)
	return &backupEnv{t: t, c: c, dataDir: dir, env: env}
}

// partDropper completes multipart uploads without their last part, as a
// store that lost one would: the object S3 then holds is short.
type partDropper struct{ activities.BackupS3API }

func (d partDropper) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	cp := *in
	parts := *in.MultipartUpload
	parts.Parts = parts.Parts[:len(parts.Parts)-1]
	cp.MultipartUpload = &parts
	return d.BackupS3API.CompleteMultipartUpload(ctx, &cp, opts...)
}

// TestBackupUploadChecksObject: a backup upload (no --verify) checks the
// object S3 completed, with the real SDK client against the local S3
// emulator. A multipart upload that the store completed without its last
// part fails with ChecksumMismatch and leaves no object; a whole one, and
// a source small enough for one PutObject, pass.
func TestBackupUploadChecksObject(t *testing.T) {
	src := filepath.Join(t.TempDir(), "db.dump")
	if err := os.WriteFile(src, detBytes(3, 12<<20+5), 0o600); err != nil {
		t.Fatal(err)
	}
	b := newBackupEnvWith(t, nil, func(c activities.BackupS3API) activities.BackupS3API { return partDropper{c} })
	_, err := b.upload(activities.BackupUploadInput{Source: "file://" + src, Key: "lost/part.bin", PartSize: 5 << 20, Concurrency: 2})
	if errType(err) != activities.ErrTypeChecksumMismatch {
		t.Fatalf("upload completed without its last part: %v, want %s", err, activities.ErrTypeChecksumMismatch)
	}
	if _, err := b.c.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(backupBucket), Key: aws.String("lost/part.bin")}); err == nil {
		t.Error("the short object was left in the bucket")
	}
	b = newBackupEnv(t, nil)
	for key, partSize := range map[string]int64{"whole/multipart.bin": 5 << 20, "whole/single.bin": 16 << 20} {
		if res, err := b.upload(activities.BackupUploadInput{Source: "file://" + src, Key: key, PartSize: partSize}); err != nil || res.Bytes != 12<<20+5 {
			t.Errorf("upload %s: %+v, %v", key, res, err)
		}
	}
}

// headDenier answers HeadObject with 403, as S3 does for a role without
// s3:GetObject on the key.
type headDenier struct{ activities.BackupS3API }

func (d headDenier) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
}

// TestBackupUploadKeepsObjectWhenCheckCannotRun: a check that could not
// be made (HeadObject refused) fails the upload, but only an object shown
// to differ is deleted: the backup S3 accepted stays.
func TestBackupUploadKeepsObjectWhenCheckCannotRun(t *testing.T) {
	src := filepath.Join(t.TempDir(), "db.dump")
	if err := os.WriteFile(src, detBytes(4, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	b := newBackupEnvWith(t, nil, func(c activities.BackupS3API) activities.BackupS3API { return headDenier{c} })
	_, err := b.upload(activities.BackupUploadInput{Source: "file://" + src, Key: "denied/head.bin"})
	if err == nil || errType(err) == activities.ErrTypeChecksumMismatch {
		t.Fatalf("upload whose check was refused: %v, want a failure that is not %s", err, activities.ErrTypeChecksumMismatch)
	}
	if _, err := b.c.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(backupBucket), Key: aws.String("denied/head.bin")}); err != nil {
		t.Errorf("the uploaded object was deleted although nothing showed it differs: %v", err)
	}
}
