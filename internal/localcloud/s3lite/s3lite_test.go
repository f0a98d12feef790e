package s3lite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

func client(url string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

func TestRoundTripAndRestart(t *testing.T) {
	dir := t.TempDir()
	svc, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	c := client(srv.URL)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt-one")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789"), 1<<20) // 10 MiB
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt-one"), Key: aws.String("dir/a b(1).bin"), Body: bytes.NewReader(body),
		Metadata: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	// Multipart through the SDK's uploader.
	up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = 5 << 20 })
	if _, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt-one"), Key: aws.String("mp.bin"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("multipart: %v", err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt-one"), Key: aws.String("mp.bin"), Range: aws.String("bytes=5242870-5242889")})
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(part, body[5242870:5242890]) {
		t.Fatalf("ranged GET = %q", part)
	}
	srv.Close()

	svc2, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(svc2)
	defer srv2.Close()
	c = client(srv2.URL)
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt-one"), Key: aws.String("dir/a b(1).bin")})
	if err != nil {
		t.Fatalf("object lost across restart: %v", err)
	}
	if aws.ToInt64(head.ContentLength) != int64(len(body)) || head.Metadata["k"] != "v" {
		t.Errorf("head = %d %v", aws.ToInt64(head.ContentLength), head.Metadata)
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt-one"), Prefix: aws.String("dir/")})
	if err != nil || len(list.Contents) != 1 || !strings.HasSuffix(aws.ToString(list.Contents[0].Key), "(1).bin") {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt-one"), Key: aws.String("copies/x.bin"),
		CopySource: aws.String("bkt-one/mp.bin")}); err != nil {
		t.Fatalf("copy: %v", err)
	}
	for i := 0; i < 5; i++ {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt-one"), Key: aws.String(fmt.Sprintf("logs/2026/%d.txt", i)),
			Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	// Delimiter: top-level "folders" come back as common prefixes.
	top, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt-one"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, p := range top.CommonPrefixes {
		prefixes = append(prefixes, aws.ToString(p.Prefix))
	}
	if strings.Join(prefixes, ",") != "copies/,dir/,logs/" || len(top.Contents) != 1 {
		t.Errorf("delimiter listing: prefixes %v, %d objects", prefixes, len(top.Contents))
	}
	// Continuation: 5 keys in pages of 2.
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("bkt-one"), Prefix: aws.String("logs/"), MaxKeys: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	if len(keys) != 5 || pages != 3 {
		t.Errorf("paged listing: %d keys in %d pages", len(keys), pages)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt-one"), Key: aws.String("nope")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("want NoSuchKey, got %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nob"), Key: aws.String("x")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "NoSuchBucket" {
		t.Errorf("want NoSuchBucket, got %v", err)
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nob")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadBucket: want NotFound, got %v", err)
	}
}
