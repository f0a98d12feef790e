package s3lite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// listStores runs f against the in-memory store and the directory store.
func listStores(t *testing.T, f func(t *testing.T, svc *Service, c *s3.Client)) {
	for _, dir := range []string{"", "dir"} {
		name := "memory"
		if dir != "" {
			name, dir = "directory", t.TempDir()
		}
		t.Run(name, func(t *testing.T) {
			svc, err := New(Options{DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(svc)
			t.Cleanup(srv.Close)
			f(t, svc, client(srv.URL))
		})
	}
}

// listAll pages through a listing, checking every page's wire fields, and
// returns the keys and common prefixes in the order received.
func listAll(t *testing.T, c *s3.Client, in *s3.ListObjectsV2Input) (keys, prefixes []string, pages int) {
	t.Helper()
	ctx := context.Background()
	req := *in
	for {
		out, err := c.ListObjectsV2(ctx, &req)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		n := len(out.Contents) + len(out.CommonPrefixes)
		if int(aws.ToInt32(out.KeyCount)) != n {
			t.Fatalf("page %d: KeyCount %d, %d entries", pages, aws.ToInt32(out.KeyCount), n)
		}
		if max := aws.ToInt32(in.MaxKeys); max > 0 && n > int(max) {
			t.Fatalf("page %d: %d entries over MaxKeys %d", pages, n, max)
		}
		if truncated, next := aws.ToBool(out.IsTruncated), aws.ToString(out.NextContinuationToken); truncated != (next != "") {
			t.Fatalf("page %d: IsTruncated %v with NextContinuationToken %q", pages, truncated, next)
		}
		if aws.ToString(out.ContinuationToken) != aws.ToString(req.ContinuationToken) {
			t.Fatalf("page %d: ContinuationToken echoed %q, sent %q", pages, aws.ToString(out.ContinuationToken), aws.ToString(req.ContinuationToken))
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
			if o.StorageClass == "" || o.LastModified == nil || !strings.HasPrefix(aws.ToString(o.ETag), `"`) {
				t.Fatalf("object %s: class %q, modified %v, ETag %s", aws.ToString(o.Key), o.StorageClass, o.LastModified, aws.ToString(o.ETag))
			}
		}
		for _, p := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(p.Prefix))
		}
		if !aws.ToBool(out.IsTruncated) {
			return keys, prefixes, pages
		}
		req.ContinuationToken = out.NextContinuationToken
	}
}

func put(t *testing.T, c *s3.Client, bucket, key, body string) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

// TestListPrefixPages: pages of MaxKeys under a prefix, in UTF-8 binary
// order, every key once, none from the neighbouring prefixes; StartAfter
// and a continuation token (which wins over StartAfter).
func TestListPrefixPages(t *testing.T) {
	listStores(t, func(t *testing.T, svc *Service, c *s3.Client) {
		ctx := context.Background()
		if err := svc.CreateBucket("bkt"); err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := range 2345 {
			want = append(want, fmt.Sprintf("incoming/f-%05d", i))
		}
		odd := []string{"incoming/a b+c%d", "incoming/é", "incoming/z/日本", "incoming/ü"}
		want = append(want, odd...)
		if _, err := svc.Seed("bkt", slices.Values(want[:2345]), []byte("x")); err != nil {
			t.Fatal(err)
		}
		for _, k := range odd {
			put(t, c, "bkt", k, "y")
		}
		if n, err := svc.Seed("bkt", func(yield func(string) bool) {
			for i := range 3000 {
				if !yield(fmt.Sprintf("bak/incoming/f-%05d", i)) {
					return
				}
			}
		}, []byte("x")); err != nil || n != 3000 {
			t.Fatalf("seeded %d: %v", n, err)
		}
		put(t, c, "bkt", "incoming.txt", "before incoming/")
		put(t, c, "bkt", "incominh/x", "after incoming/")
		sort.Strings(want) // byte order
		keys, _, pages := listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("incoming/"), MaxKeys: aws.Int32(1000)})
		if !slices.Equal(keys, want) || pages != 3 {
			t.Fatalf("%d keys in %d pages, first difference %s", len(keys), pages, firstDifference(keys, want))
		}
		keys, _, _ = listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
		if len(keys) != len(want)+3000+2 {
			t.Fatalf("whole bucket: %d keys", len(keys))
		}
		keys, _, _ = listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("incoming/"), StartAfter: aws.String("incoming/f-02339")})
		if i := slices.Index(want, "incoming/f-02339"); !slices.Equal(keys, want[i+1:]) {
			t.Fatalf("after incoming/f-02339: %v", keys)
		}
		first, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("incoming/"), MaxKeys: aws.Int32(10)})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("incoming/"), MaxKeys: aws.Int32(5),
			ContinuationToken: first.NextContinuationToken, StartAfter: aws.String("incoming/f-01000")})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(out.Contents[0].Key); got != want[10] || aws.ToString(out.StartAfter) != "incoming/f-01000" {
			t.Fatalf("token and StartAfter: first key %s (want %s), StartAfter echoed %q", got, want[10], aws.ToString(out.StartAfter))
		}
		// A seeded object lists as HEAD shows it.
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: out.Contents[0].Key})
		if err != nil || aws.ToString(head.ETag) != aws.ToString(out.Contents[0].ETag) || aws.ToInt64(head.ContentLength) != aws.ToInt64(out.Contents[0].Size) {
			t.Fatalf("seeded %s: HEAD %v (%v), listed ETag %s size %d", want[10], head, err, aws.ToString(out.Contents[0].ETag), aws.ToInt64(out.Contents[0].Size))
		}
	})
}

func firstDifference(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d: %q, want %q", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}

// TestListDelimiter: common prefixes count towards MaxKeys and never come
// back on a later page.
func TestListDelimiter(t *testing.T) {
	listStores(t, func(t *testing.T, svc *Service, c *s3.Client) {
		if err := svc.CreateBucket("bkt"); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"a/1", "a/2", "a/3/x", "b/1", "c", "d/x/y", "d/z", "e"} {
			put(t, c, "bkt", k, k)
		}
		for _, max := range []int32{1, 2, 1000} {
			keys, prefixes, _ := listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(max)})
			if strings.Join(keys, ",") != "c,e" || strings.Join(prefixes, ",") != "a/,b/,d/" {
				t.Errorf("MaxKeys %d: keys %v, prefixes %v", max, keys, prefixes)
			}
		}
		keys, prefixes, _ := listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("a/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)})
		if strings.Join(keys, ",") != "a/1,a/2" || strings.Join(prefixes, ",") != "a/3/" {
			t.Errorf("under a/: keys %v, prefixes %v", keys, prefixes)
		}
	})
}

// TestListErrorsAndEdges: S3's answers to a bad token, a bad max-keys, an
// unknown bucket, max-keys 0 and encoding-type=url.
func TestListErrorsAndEdges(t *testing.T) {
	svc, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	c := client(srv.URL)
	ctx := context.Background()
	if err := svc.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	put(t, c, "bkt", "k one+", "x")
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), ContinuationToken: aws.String("bm90IGEgdG9rZW4=")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidArgument" {
		t.Errorf("bad token: %v", err)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nob")})
	var nsb *types.NoSuchBucket
	if !errors.As(err, &nsb) {
		t.Errorf("unknown bucket: %v", err)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(0)})
	if err != nil || len(out.Contents) != 0 || aws.ToBool(out.IsTruncated) || aws.ToInt32(out.KeyCount) != 0 {
		t.Errorf("max-keys 0: %+v, %v", out, err)
	}
	out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), EncodingType: types.EncodingTypeUrl})
	if err != nil || len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "k+one%2B" {
		t.Errorf("encoding-type url: %+v, %v", out, err)
	}
	for _, q := range []string{"max-keys=-1", "max-keys=x", "encoding-type=base64"} {
		resp, err := http.Get(srv.URL + "/bkt?list-type=2&" + q)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("<Code>InvalidArgument</Code>")) {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
}

// TestListFollowsWrites: the index follows puts, overwrites, copies,
// deletes (single, multi, conditional), storage classes, versioned
// deletes, and a restart from the data directory.
func TestListFollowsWrites(t *testing.T) {
	dir := t.TempDir()
	svc, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	c := client(srv.URL)
	ctx := context.Background()
	if err := svc.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	put(t, c, "bkt", "in/1", "one")
	put(t, c, "bkt", "in/2", "two")
	put(t, c, "bkt", "in/3", "three")
	put(t, c, "bkt", "in/1", "one, again")
	if err := svc.PutArchivedObject("bkt", "in/cold", strings.NewReader("ice"), 3, "GLACIER"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("bak/in/2"), CopySource: aws.String("bkt/in/2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("in/2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("in/3")}}}}); err != nil {
		t.Fatal(err)
	}
	check := func(c *s3.Client, when string) {
		t.Helper()
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range out.Contents {
			got = append(got, fmt.Sprintf("%s %d %s", aws.ToString(o.Key), aws.ToInt64(o.Size), o.StorageClass))
		}
		if want := "bak/in/2 3 STANDARD,in/1 10 STANDARD,in/cold 3 GLACIER"; strings.Join(got, ",") != want {
			t.Errorf("%s: %v, want %s", when, got, want)
		}
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("in/1")})
		if err != nil || aws.ToString(head.ETag) != aws.ToString(out.Contents[1].ETag) {
			t.Errorf("%s: listed ETag %s, HEAD %v (%v)", when, aws.ToString(out.Contents[1].ETag), head, err)
		}
	}
	check(c, "after writes")
	srv.Close()
	svc2, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(svc2)
	defer srv2.Close()
	check(client(srv2.URL), "after a restart")

	// A versioned (in-memory) bucket: a delete leaves a delete marker,
	// which listings hide.
	mem, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv3 := httptest.NewServer(mem)
	defer srv3.Close()
	c3 := client(srv3.URL)
	if err := mem.CreateBucket("ver"); err != nil {
		t.Fatal(err)
	}
	if _, err := c3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("ver"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	put(t, c3, "ver", "k", "1")
	put(t, c3, "ver", "keep", "1")
	if _, err := c3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	keys, _, _ := listAll(t, c3, &s3.ListObjectsV2Input{Bucket: aws.String("ver")})
	if strings.Join(keys, ",") != "keep" {
		t.Errorf("versioned bucket lists %v", keys)
	}
}

// TestConditionalDelete: DeleteObject with If-Match deletes only the
// version it names (412 PreconditionFailed otherwise, object kept), a
// missing object is NoSuchKey, and "*" deletes whatever is there.
func TestConditionalDelete(t *testing.T) {
	listStores(t, func(t *testing.T, svc *Service, c *s3.Client) {
		ctx := context.Background()
		if err := svc.CreateBucket("bkt"); err != nil {
			t.Fatal(err)
		}
		old, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("v1")})
		if err != nil {
			t.Fatal(err)
		}
		cur, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("v2")})
		if err != nil {
			t.Fatal(err)
		}
		del := func(key, ifMatch string) error {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), IfMatch: aws.String(ifMatch)})
			return err
		}
		var api smithy.APIError
		if err := del("k", aws.ToString(old.ETag)); !errors.As(err, &api) || api.ErrorCode() != "PreconditionFailed" {
			t.Fatalf("old ETag: %v", err)
		}
		var re interface{ HTTPStatusCode() int }
		if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusPreconditionFailed {
			t.Errorf("old ETag: status %d", re.HTTPStatusCode())
		}
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")}); err != nil {
			t.Fatalf("object gone after a failed conditional delete: %v", err)
		}
		if err := del("k", aws.ToString(cur.ETag)); err != nil {
			t.Fatalf("current ETag: %v", err)
		}
		if keys, _, _ := listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")}); len(keys) != 0 {
			t.Fatalf("listed after delete: %v", keys)
		}
		if err := del("k", aws.ToString(cur.ETag)); !errors.As(err, &api) || api.ErrorCode() != "NoSuchKey" {
			t.Fatalf("missing object: %v", err)
		}
		put(t, c, "bkt", "any", "x")
		if err := del("any", "*"); err != nil {
			t.Fatalf("If-Match *: %v", err)
		}
		if keys, _, _ := listAll(t, c, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")}); len(keys) != 0 {
			t.Fatalf("listed after delete: %v", keys)
		}
	})
}

// TestListObjectsV1: the V1 listing (gofakes3's, served from the index)
// pages with markers, and a NextMarker that is a common prefix skips its
// keys.
func TestListObjectsV1(t *testing.T) {
	listStores(t, func(t *testing.T, svc *Service, c *s3.Client) {
		ctx := context.Background()
		if err := svc.CreateBucket("bkt"); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"a/1", "a/2", "b", "c/1", "d"} {
			put(t, c, "bkt", k, k)
		}
		var got []string
		in := &s3.ListObjectsInput{Bucket: aws.String("bkt"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)}
		for range 10 {
			out, err := c.ListObjects(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
			for _, p := range out.CommonPrefixes {
				got = append(got, aws.ToString(p.Prefix))
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			in.Marker = out.NextMarker
		}
		if strings.Join(got, ",") != "a/,b,c/,d" {
			t.Errorf("V1 pages: %v", got)
		}
	})
}
