package activities_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
)

// headAnswer is a HeadObject that answers out and keeps the request.
type headAnswer struct {
	out *s3.HeadObjectOutput
	in  **s3.HeadObjectInput
}

func (h headAnswer) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	if h.in != nil {
		*h.in = in
	}
	return h.out, nil
}

// TestCheckCompletedUpload: after CompleteMultipartUpload the object must
// have the bytes, the parts and the checksums they carried; otherwise the
// delivery fails with a non-retryable ChecksumMismatch. An ETag other than
// the one AWS derives from the parts is only logged (S3-compatible servers
// derive it their own way). The HeadObject asks for checksums.
func TestCheckCompletedUpload(t *testing.T) {
	const size = 24 << 20
	var parts []s3types.CompletedPart
	md5s := md5.New()
	composite := crc32.NewIEEE()
	for i := range 3 {
		etag := md5.Sum([]byte{byte(i)})
		md5s.Write(etag[:])
		c := crc32.ChecksumIEEE([]byte{byte(i)})
		b := []byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}
		composite.Write(b)
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: aws.String(`"` + hex.EncodeToString(etag[:]) + `"`),
			ChecksumCRC32: aws.String(base64.StdEncoding.EncodeToString(b))})
	}
	want := `"` + hex.EncodeToString(md5s.Sum(nil)) + `-3"`
	wantCRC := base64.StdEncoding.EncodeToString(composite.Sum(nil)) + "-3"
	other := `"00000000000000000000000000000000-3"`
	for _, tc := range []struct {
		name     string
		done     string // the completion's ETag
		head     s3.HeadObjectOutput
		mismatch bool
	}{
		{"as sent", want, s3.HeadObjectOutput{ContentLength: aws.Int64(size), ETag: aws.String(want)}, false},
		{"plain ETag on the object", want, s3.HeadObjectOutput{ContentLength: aws.Int64(size), ETag: aws.String(`"0123"`)}, false},
		{"short object", want, s3.HeadObjectOutput{ContentLength: aws.Int64(size - 1)}, true},
		{"parts missing", `"abc-2"`, s3.HeadObjectOutput{ContentLength: aws.Int64(size)}, true},
		{"parts count", want, s3.HeadObjectOutput{ContentLength: aws.Int64(size), PartsCount: aws.Int32(4)}, true},
		{"ETag of other parts, same count (logged)", other, s3.HeadObjectOutput{ContentLength: aws.Int64(size)}, false},
		{"object's ETag of other parts (logged)", want, s3.HeadObjectOutput{ContentLength: aws.Int64(size), ETag: aws.String(other)}, false},
		{"SSE-KMS ETag", other, s3.HeadObjectOutput{ContentLength: aws.Int64(size), ServerSideEncryption: s3types.ServerSideEncryptionAwsKms}, false},
		{"composite CRC32 as sent", want, s3.HeadObjectOutput{ContentLength: aws.Int64(size), ChecksumCRC32: aws.String(wantCRC),
			ChecksumType: s3types.ChecksumTypeComposite}, false},
		{"composite CRC32 of other bytes", want, s3.HeadObjectOutput{ContentLength: aws.Int64(size), ChecksumCRC32: aws.String("AAAAAA==-3"),
			ChecksumType: s3types.ChecksumTypeComposite}, true},
		{"a checksum the parts did not carry", want, s3.HeadObjectOutput{ContentLength: aws.Int64(size), ChecksumSHA256: aws.String("x-3")}, false},
		{"full-object CRC32 of several parts (not combined)", want, s3.HeadObjectOutput{ContentLength: aws.Int64(size), ChecksumCRC32: aws.String("AAAAAA=="),
			ChecksumType: s3types.ChecksumTypeFullObject}, false},
	} {
		var in *s3.HeadObjectInput
		err := activities.CheckCompleted(context.Background(), headAnswer{&tc.head, &in}, "b", "k",
			&s3.CompleteMultipartUploadOutput{ETag: aws.String(tc.done)}, parts, size)
		if got := isAppErr(err, activities.ErrTypeChecksumMismatch); got != tc.mismatch || !tc.mismatch && err != nil {
			t.Errorf("%s: %v, want mismatch %v", tc.name, err, tc.mismatch)
		}
		if in == nil || in.ChecksumMode != s3types.ChecksumModeEnabled || in.VersionId != nil {
			t.Errorf("%s: HeadObject %+v does not ask for the key's checksums", tc.name, in)
		}
	}
	// A HEAD of the key (a HEAD of a version needs s3:GetObjectVersion):
	// a current version other than the upload's is someone else's write.
	head := s3.HeadObjectOutput{ContentLength: aws.Int64(size), ETag: aws.String(want), VersionId: aws.String("v2")}
	var in *s3.HeadObjectInput
	err := activities.CheckCompleted(context.Background(), headAnswer{&head, &in}, "b", "k",
		&s3.CompleteMultipartUploadOutput{ETag: aws.String(want), VersionId: aws.String("v1")}, parts, size)
	if !isAppErr(err, activities.ErrTypeObjectChanged) {
		t.Errorf("current version v2 after an upload that made v1: %v, want %s", err, activities.ErrTypeObjectChanged)
	}
}

// TestCheckCompletedAgainstS3: a multipart upload completed on the local
// S3 emulator with the real SDK client passes the check with the parts it
// was made of, and fails it with a part left out and with another size.
func TestCheckCompletedAgainstS3(t *testing.T) {
	ctx := context.Background()
	_, c := stacktest.Cloud(t, localcloud.Options{DataDir: t.TempDir()})
	bucket, key := "check", "obj"
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	up, err := c.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	const partSize = 5 << 20
	var parts []s3types.CompletedPart
	for n := int32(1); n <= 2; n++ {
		out, err := c.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(detBytes(uint64(n), partSize))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
	}
	done, err := c.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	if err := activities.CheckCompleted(ctx, c.S3, bucket, key, done, parts, 2*partSize); err != nil {
		t.Fatalf("check of the upload as sent: %v", err)
	}
	otherETag := md5.Sum(detBytes(9, partSize))
	changed := []s3types.CompletedPart{parts[0], {PartNumber: aws.Int32(2), ETag: aws.String(fmt.Sprintf("%q", hex.EncodeToString(otherETag[:])))}}
	// An ETag other than the parts' (another part of the same size) is
	// only logged: size and part count still agree.
	if err := activities.CheckCompleted(ctx, c.S3, bucket, key, done, changed, 2*partSize); err != nil {
		t.Errorf("a part's ETag changed, size and count the same: %v, want only a warning", err)
	}
	for name, check := range map[string]func() error{
		"a part left out": func() error { return activities.CheckCompleted(ctx, c.S3, bucket, key, done, parts[:1], 2*partSize) },
		"another size":    func() error { return activities.CheckCompleted(ctx, c.S3, bucket, key, done, parts, 2*partSize+1) },
	} {
		if err := check(); !isAppErr(err, activities.ErrTypeChecksumMismatch) {
			t.Errorf("%s: %v, want %s", name, err, activities.ErrTypeChecksumMismatch)
		}
	}
}
