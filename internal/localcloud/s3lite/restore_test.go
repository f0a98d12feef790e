package s3lite

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

var fastTiers = map[string]time.Duration{"Expedited": 10 * time.Millisecond, "Standard": 50 * time.Millisecond, "Bulk": 100 * time.Millisecond}

func restoreReq(bucket, key string, days int32, tier types.Tier) *s3.RestoreObjectInput {
	return &s3.RestoreObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(days), GlacierJobParameters: &types.GlacierJobParameters{Tier: tier}}}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func TestArchiveAndRestore(t *testing.T) {
	st := newStack(t, Options{TierDelays: fastTiers})
	ctx := context.Background()
	st.createBucket(t, "arch")
	st.put(t, "arch", "db/full.tar", "archived bytes", "DEEP_ARCHIVE")
	st.put(t, "arch", "plain.txt", "plain", "")
	st.put(t, "arch", "ir.txt", "instant", "GLACIER_IR")

	head := func(key string) *s3.HeadObjectOutput {
		t.Helper()
		h, err := st.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("arch"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	get := func(key string) (string, error) {
		out, err := st.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("arch"), Key: aws.String(key)})
		if err != nil {
			return "", err
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		return string(b), err
	}
	if h := head("db/full.tar"); h.StorageClass != types.StorageClassDeepArchive || h.Restore != nil {
		t.Fatalf("archived HEAD: class %q restore %v", h.StorageClass, h.Restore)
	}
	if h := head("plain.txt"); h.StorageClass != "" {
		t.Errorf("STANDARD object HEAD shows class %q", h.StorageClass)
	}
	if h := head("ir.txt"); h.StorageClass != types.StorageClassGlacierIr {
		t.Errorf("GLACIER_IR HEAD: %q", h.StorageClass)
	}
	if body, err := get("ir.txt"); err != nil || body != "instant" {
		t.Errorf("GLACIER_IR GET = %q, %v", body, err)
	}
	_, err := get("db/full.tar")
	var ios *types.InvalidObjectState
	if !errors.As(err, &ios) || ios.StorageClass != types.StorageClassDeepArchive {
		t.Fatalf("GET archived: want InvalidObjectState DEEP_ARCHIVE, got %v", err)
	}
	_, err = st.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("arch"), Key: aws.String("copy.tar"), CopySource: aws.String("arch/db/full.tar")})
	wantCode(t, err, "InvalidObjectState")

	out, err := st.S3.RestoreObject(ctx, restoreReq("arch", "db/full.tar", 2, types.TierStandard))
	if err != nil || statusOf(out.ResultMetadata) != http.StatusAccepted {
		t.Fatalf("RestoreObject: %v", err)
	}
	_, err = st.S3.RestoreObject(ctx, restoreReq("arch", "db/full.tar", 2, types.TierStandard))
	wantCode(t, err, "RestoreAlreadyInProgress")
	if h := head("db/full.tar"); aws.ToString(h.Restore) != `ongoing-request="true"` {
		t.Errorf("HEAD while restoring: %q", aws.ToString(h.Restore))
	}
	if _, err := get("db/full.tar"); !errors.As(err, &ios) {
		t.Errorf("GET while restoring: %v", err)
	}

	restore := st.waitRestored(t, "arch", "db/full.tar")
	m := regexp.MustCompile(`^ongoing-request="false", expiry-date="([^"]+)"$`).FindStringSubmatch(restore)
	if m == nil {
		t.Fatalf("x-amz-restore = %q", restore)
	}
	expiry, err := http.ParseTime(m[1])
	if err != nil || expiry.Before(time.Now().Add(48*time.Hour)) || expiry.After(time.Now().Add(72*time.Hour)) {
		t.Errorf("expiry %v (%v), want 2 days rounded up to midnight", expiry, err)
	}
	if body, err := get("db/full.tar"); err != nil || body != "archived bytes" {
		t.Fatalf("GET restored = %q, %v", body, err)
	}
	out, err = st.S3.RestoreObject(ctx, restoreReq("arch", "db/full.tar", 5, types.TierBulk))
	if err != nil || statusOf(out.ResultMetadata) != http.StatusOK {
		t.Fatalf("RestoreObject on restored: %v", err)
	}
	if h := head("db/full.tar"); !strings.Contains(aws.ToString(h.Restore), time.Now().UTC().Add(6*24*time.Hour).Format("02 Jan 2006")) {
		t.Errorf("expiry not moved to 5 days: %q", aws.ToString(h.Restore))
	}
	// A copy of the restored object is STANDARD unless told otherwise.
	if _, err := st.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("arch"), Key: aws.String("copy.tar"),
		CopySource: aws.String("arch/db/full.tar")}); err != nil {
		t.Fatalf("copy restored: %v", err)
	}
	if h := head("copy.tar"); h.StorageClass != "" || h.Restore != nil {
		t.Errorf("copy: class %q restore %v", h.StorageClass, h.Restore)
	}

	_, err = st.S3.RestoreObject(ctx, restoreReq("arch", "plain.txt", 1, types.TierStandard))
	var active *types.ObjectAlreadyInActiveTierError
	if !errors.As(err, &active) {
		t.Errorf("restore STANDARD: want ObjectAlreadyInActiveTierError, got %v", err)
	}
	_, err = st.S3.RestoreObject(ctx, restoreReq("arch", "nope", 1, types.TierStandard))
	wantCode(t, err, "NoSuchKey")
	_, err = st.S3.RestoreObject(ctx, restoreReq("nobucket", "nope", 1, types.TierStandard))
	wantCode(t, err, "NoSuchBucket")
	_, err = st.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("arch"), Key: aws.String("bad"), Body: strings.NewReader("x"), StorageClass: "COLD"})
	wantCode(t, err, "InvalidStorageClass")

	// Overwriting the object forgets its restore.
	st.put(t, "arch", "db/full.tar", "new archive", "GLACIER")
	if h := head("db/full.tar"); h.StorageClass != types.StorageClassGlacier || h.Restore != nil {
		t.Errorf("overwritten: class %q restore %v", h.StorageClass, h.Restore)
	}
}

func TestArchivedMultipartAndFixture(t *testing.T) {
	st := newStack(t, Options{TierDelays: fastTiers})
	ctx := context.Background()
	st.createBucket(t, "arch")
	body := bytes.Repeat([]byte("z"), 6<<20)
	up := manager.NewUploader(st.S3, func(u *manager.Uploader) { u.PartSize = 5 << 20 })
	if _, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("arch"), Key: aws.String("mp.bin"), Body: bytes.NewReader(body),
		StorageClass: types.StorageClassGlacier}); err != nil {
		t.Fatal(err)
	}
	if err := st.svc.PutArchivedObject("arch", "fixture.bin", strings.NewReader("fixture"), 7, "DEEP_ARCHIVE"); err != nil {
		t.Fatal(err)
	}
	if err := st.svc.PutArchivedObject("arch", "x", strings.NewReader("x"), 1, "COLD"); err == nil {
		t.Error("PutArchivedObject accepted class COLD")
	}
	for key, class := range map[string]types.StorageClass{"mp.bin": types.StorageClassGlacier, "fixture.bin": types.StorageClassDeepArchive} {
		h, err := st.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("arch"), Key: aws.String(key)})
		if err != nil || h.StorageClass != class || h.LastModified == nil {
			t.Fatalf("HEAD %s: %+v, %v", key, h, err)
		}
		_, err = st.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("arch"), Key: aws.String(key)})
		var ios *types.InvalidObjectState
		if !errors.As(err, &ios) {
			t.Errorf("GET %s: %v", key, err)
		}
	}
	if _, err := st.S3.RestoreObject(ctx, restoreReq("arch", "fixture.bin", 1, types.TierExpedited)); err != nil {
		t.Fatal(err)
	}
	st.waitRestored(t, "arch", "fixture.bin")
	out, err := st.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("arch"), Key: aws.String("fixture.bin")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "fixture" {
		t.Errorf("GET = %q", b)
	}
}
