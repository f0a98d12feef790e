package s3lite

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestUploadPartCopy copies an object in two ranged UploadPartCopy parts
// with the SDK client, and refuses an archived source (as CopyObject does)
// and a range past the source's end.
func TestUploadPartCopy(t *testing.T) {
	c := diskBucket(t, "pc-bucket")
	ctx := context.Background()
	body := bytes.Repeat([]byte("abcdefghij"), 1<<20) // 10 MiB
	for key, class := range map[string]types.StorageClass{"src/a b.bin": types.StorageClassStandard, "cold.bin": types.StorageClassGlacier} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pc-bucket"), Key: aws.String(key), Body: bytes.NewReader(body),
			StorageClass: class}); err != nil {
			t.Fatal(err)
		}
	}
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("pc-bucket"), Key: aws.String("copy.bin")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, rng := range []string{"bytes=0-6291455", "bytes=6291456-10485759"} {
		out, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("pc-bucket"), Key: aws.String("copy.bin"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String("pc-bucket/src/a%20b.bin"), CopySourceRange: aws.String(rng)})
		if err != nil {
			t.Fatalf("UploadPartCopy %s: %v", rng, err)
		}
		if out.CopyPartResult == nil || aws.ToString(out.CopyPartResult.ETag) == "" {
			t.Fatalf("UploadPartCopy %s: no ETag in %+v", rng, out.CopyPartResult)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("pc-bucket"), Key: aws.String("copy.bin"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pc-bucket"), Key: aws.String("copy.bin")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(b, body) {
		t.Fatalf("copied object: %d bytes differ from the source's %d", len(b), len(body))
	}

	up2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("pc-bucket"), Key: aws.String("copy2.bin")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("pc-bucket"), Key: aws.String("copy2.bin"), UploadId: up2.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String("pc-bucket/cold.bin")})
	wantCode(t, err, "InvalidObjectState")
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("pc-bucket"), Key: aws.String("copy2.bin"), UploadId: up2.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String("pc-bucket/src/a%20b.bin"), CopySourceRange: aws.String("bytes=0-10485760")})
	wantCode(t, err, "InvalidArgument")
}

// TestCopySourceConditions: UploadPartCopy and CopyObject with
// x-amz-copy-source-if-match / -if-none-match answer 412
// PreconditionFailed when the source's ETag does not (or does) match, as
// S3 does, and copy when the condition holds.
func TestCopySourceConditions(t *testing.T) {
	c := diskBucket(t, "cond")
	ctx := context.Background()
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("src"), Body: bytes.NewReader(bytes.Repeat([]byte("x"), 1000))})
	if err != nil {
		t.Fatal(err)
	}
	etag := aws.ToString(put.ETag) // quoted
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cond"), Key: aws.String("dst")})
	if err != nil {
		t.Fatal(err)
	}
	part := func(ifMatch, ifNoneMatch *string) error {
		_, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("cond"), Key: aws.String("dst"), UploadId: up.UploadId,
			PartNumber: aws.Int32(1), CopySource: aws.String("cond/src"), CopySourceRange: aws.String("bytes=0-499"),
			CopySourceIfMatch: ifMatch, CopySourceIfNoneMatch: ifNoneMatch})
		return err
	}
	wantCode(t, part(aws.String(`"0123456789abcdef0123456789abcdef"`), nil), "PreconditionFailed")
	wantCode(t, part(nil, aws.String(etag)), "PreconditionFailed")
	if err := part(aws.String(etag), nil); err != nil {
		t.Fatalf("UploadPartCopy with the source's ETag: %v", err)
	}
	if err := part(aws.String(strings.Trim(etag, `"`)), aws.String(`"other"`)); err != nil {
		t.Fatalf("UploadPartCopy with an unquoted matching ETag: %v", err)
	}

	cp := func(ifMatch *string) error {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cond"), Key: aws.String("copy"), CopySource: aws.String("cond/src"),
			CopySourceIfMatch: ifMatch})
		return err
	}
	wantCode(t, cp(aws.String(`"0123456789abcdef0123456789abcdef"`)), "PreconditionFailed")
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cond"), Key: aws.String("copy")}); err == nil {
		t.Fatal("a refused CopyObject wrote its destination")
	}
	if err := cp(aws.String(etag)); err != nil {
		t.Fatalf("CopyObject with the source's ETag: %v", err)
	}
}

// diskBucket serves a disk-backed emulator for the test and returns an SDK
// client on it with bucket created.
func diskBucket(t *testing.T, bucket string) *s3.Client {
	t.Helper()
	svc, err := New(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	c := client(srv.URL)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return c
}
