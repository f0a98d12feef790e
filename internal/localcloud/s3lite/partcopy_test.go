package s3lite

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestUploadPartCopy copies an object in two ranged UploadPartCopy parts
// with the SDK client, and refuses an archived source (as CopyObject does)
// and a range past the source's end.
func TestUploadPartCopy(t *testing.T) {
	svc, err := New(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	c := client(srv.URL)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pc-bucket")}); err != nil {
		t.Fatal(err)
	}
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
