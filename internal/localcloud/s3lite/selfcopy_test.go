package s3lite

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestSelfCopyReplacesMetadata: a CopyObject of a multipart object onto
// itself with REPLACE answers the content's MD5 as its ETag (a single-part
// copy), serves the new metadata and the same bytes, keeps them across a
// restart, and (on disk) leaves the stored content file alone.
func TestSelfCopyReplacesMetadata(t *testing.T) {
	for _, disk := range []bool{false, true} {
		name := map[bool]string{false: "memory", true: "disk"}[disk]
		t.Run(name, func(t *testing.T) {
			var opts Options
			if disk {
				opts.DataDir = t.TempDir()
			}
			st := newStack(t, opts)
			ctx := context.Background()
			st.createBucket(t, "bak")
			body := bytes.Repeat([]byte("0123456789abcdef"), 11<<16) // 11 MiB: two parts
			u := manager.NewUploader(st.S3, func(u *manager.Uploader) { u.PartSize = 5 << 20 })
			up, err := u.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("bak"), Key: aws.String("dir/obj.bin"), Body: bytes.NewReader(body),
				ContentType: aws.String("application/x-tar"), Metadata: map[string]string{"source": "s"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(up.CompletedParts) != 3 {
				t.Fatalf("uploaded %d parts, want a multipart upload of 3", len(up.CompletedParts))
			}
			var before os.FileInfo
			if disk {
				if before, err = os.Stat(objectFile(opts.DataDir, "bak", "dir/obj.bin")); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bak"), Key: aws.String("dir/obj.bin"), CopySource: aws.String("bak/dir/obj.bin")}); err == nil {
				t.Error("self-copy without REPLACE succeeded")
			}
			cp, err := st.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bak"), Key: aws.String("dir/obj.bin"), CopySource: aws.String("bak/dir/obj.bin"),
				MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("application/x-tar"),
				Metadata: map[string]string{"source": "s", "sha": "abc"}})
			if err != nil {
				t.Fatal(err)
			}
			sum := md5.Sum(body)
			etag := `"` + hex.EncodeToString(sum[:]) + `"`
			if got := aws.ToString(cp.CopyObjectResult.ETag); got != etag {
				t.Errorf("copy ETag %s, want %s", got, etag)
			}
			if disk {
				after, err := os.Stat(objectFile(opts.DataDir, "bak", "dir/obj.bin"))
				if err != nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
					t.Errorf("content file rewritten by a metadata change: %v", err)
				}
				st.svc.Close()
				st = newStack(t, opts)
			}
			get, err := st.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bak"), Key: aws.String("dir/obj.bin")})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(get.Body)
			get.Body.Close()
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("GET after self-copy: %d bytes, %v", len(got), err)
			}
			if aws.ToString(get.ETag) != etag || get.Metadata["sha"] != "abc" || get.Metadata["source"] != "s" ||
				aws.ToString(get.ContentType) != "application/x-tar" || aws.ToInt64(get.ContentLength) != int64(len(body)) {
				t.Errorf("GET after self-copy: ETag %s, metadata %v, type %s, length %d", aws.ToString(get.ETag), get.Metadata,
					aws.ToString(get.ContentType), aws.ToInt64(get.ContentLength))
			}
			list, err := st.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bak")})
			if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].ETag) != etag {
				t.Errorf("listing after self-copy: %+v, %v", list, err)
			}
		})
	}
}
