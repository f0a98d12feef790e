package activities_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
)

// s3Calls records the S3 requests on the test buckets by kind, and can
// make one UploadPart fail as S3 would refuse it.
type s3Calls struct {
	mu         sync.Mutex
	calls      []string
	failPart   atomic.Value // string: partNumber to refuse with InvalidRequest
	failCopy   atomic.Bool  // refuse CopyObject with InvalidRequest (too big)
	noPartCopy atomic.Bool  // answer UploadPartCopy 501 Not Implemented
}

func (c *s3Calls) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/copy-") {
			h.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		kind := r.Method
		switch {
		case r.Method == http.MethodPut && q.Get("partNumber") != "" && r.Header.Get("X-Amz-Copy-Source") != "":
			kind = "UploadPartCopy " + q.Get("partNumber")
		case r.Method == http.MethodPut && q.Get("partNumber") != "":
			kind = "UploadPart " + q.Get("partNumber")
		case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
			kind = "CopyObject"
		case r.Method == http.MethodPut:
			kind = "PutObject"
		case r.Method == http.MethodPost && q.Has("uploads"):
			kind = "CreateMultipartUpload"
		case r.Method == http.MethodPost && q.Get("uploadId") != "":
			kind = "CompleteMultipartUpload"
		case r.Method == http.MethodDelete && q.Get("uploadId") != "":
			kind = "AbortMultipartUpload"
		}
		c.mu.Lock()
		c.calls = append(c.calls, kind)
		c.mu.Unlock()
		if strings.HasPrefix(kind, "UploadPartCopy ") && c.noPartCopy.Load() {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotImplemented)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>no UploadPartCopy here</Message></Error>`)
			return
		}
		if p, _ := c.failPart.Load().(string); (p != "" && (kind == "UploadPart "+p || kind == "UploadPartCopy "+p)) || (kind == "CopyObject" && c.failCopy.Load()) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidRequest</Code><Message>refused by the test</Message></Error>`)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// take returns the calls recorded since the last take.
func (c *s3Calls) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func count(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// TestDeliverObjectToS3 copies objects with the real SDK client against
// the local S3: one CopyObject up to the limit, UploadPartCopy parts above
// it (the limit lowered: tests do not move 5 GiB), the streamed copy where
// the server has no UploadPartCopy, and a part S3 refuses is a
// non-retryable BadInput failure that leaves no upload behind.
func TestDeliverObjectToS3(t *testing.T) {
	const limit, partSize = 1 << 20, 5 << 20
	activities.SetCopyStreamLimits(t, limit, partSize)
	rec := &s3Calls{}
	cloud, c := stacktest.Cloud(t, localcloud.Options{Wrap: rec.wrap})
	ctx := context.Background()
	for _, b := range []string{"copy-src", "copy-dst"} {
		if err := cloud.S3.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	big := make([]byte, 2*partSize+123_457) // three parts
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("copy-src"), Key: aws.String("dumps/big dump.tar"),
		Body: bytes.NewReader(big), ContentType: aws.String("application/x-tar"), Metadata: map[string]string{"owner": "ops"}}); err != nil {
		t.Fatal(err)
	}
	small := big[:limit]
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("copy-src"), Key: aws.String("small"), Body: bytes.NewReader(small)}); err != nil {
		t.Fatal(err)
	}
	rec.take()

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	(&activities.S3{Client: c.S3}).Register(env)
	var s3a *activities.S3
	deliver := func(key, dest string, size int) (activities.FinishResult, error) {
		v, err := env.ExecuteActivity(s3a.DeliverObject, activities.DeliverObjectInput{Bucket: "copy-src", Key: key, Dest: dest, Size: int64(size)})
		var fin activities.FinishResult
		if err == nil {
			err = v.Get(&fin)
		}
		return fin, err
	}
	object := func(key string) ([]byte, *s3.GetObjectOutput) {
		t.Helper()
		out, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("copy-dst"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b, out
	}

	// At the limit: one server-side copy.
	fin, err := deliver("small", "s3://copy-dst/small", len(small))
	if err != nil {
		t.Fatal(err)
	}
	if fin.Location != "s3://copy-dst/small" || fin.Bytes != int64(len(small)) {
		t.Errorf("small copy: %+v", fin)
	}
	if calls := rec.take(); !slices.Equal(calls, []string{"CopyObject"}) {
		t.Errorf("small copy: requests %q, want one CopyObject", calls)
	}
	if got, _ := object("small"); !bytes.Equal(got, small) {
		t.Errorf("small copy: %d bytes differ from the source's %d", len(got), len(small))
	}

	// Above the limit: copied server-side in three UploadPartCopy parts.
	fin, err = deliver("dumps/big dump.tar", "s3://copy-dst/copies/big.tar", len(big))
	if err != nil {
		t.Fatal(err)
	}
	if fin.Location != "s3://copy-dst/copies/big.tar" || fin.Bytes != int64(len(big)) {
		t.Errorf("big copy: %+v, want %d bytes", fin, len(big))
	}
	calls := rec.take()
	if count(calls, "CopyObject") != 0 || count(calls, "CreateMultipartUpload") != 1 || count(calls, "UploadPartCopy ") != 3 ||
		count(calls, "UploadPart ") != 0 || count(calls, "CompleteMultipartUpload") != 1 || count(calls, "AbortMultipartUpload") != 0 {
		t.Errorf("big copy: requests %q, want a multipart upload of 3 UploadPartCopy parts", calls)
	}
	got, out := object("copies/big.tar")
	if !bytes.Equal(got, big) {
		t.Errorf("big copy: %d bytes differ from the source's %d", len(got), len(big))
	}
	if aws.ToString(out.ContentType) != "application/x-tar" || out.Metadata["owner"] != "ops" {
		t.Errorf("big copy: content type %q, metadata %v; want the source's", aws.ToString(out.ContentType), out.Metadata)
	}

	// A server without UploadPartCopy: the copy is streamed instead.
	rec.noPartCopy.Store(true)
	fin, err = deliver("dumps/big dump.tar", "s3://copy-dst/copies/streamed.tar", len(big))
	rec.noPartCopy.Store(false)
	if err != nil {
		t.Fatal(err)
	}
	calls = rec.take()
	if count(calls, "UploadPartCopy ") != 1 || count(calls, "UploadPart ") != 3 || count(calls, "AbortMultipartUpload") != 1 ||
		count(calls, "CompleteMultipartUpload") != 1 {
		t.Errorf("no UploadPartCopy: requests %q, want one refused, its upload aborted, then a streamed upload of 3 parts", calls)
	}
	if got, _ := object("copies/streamed.tar"); !bytes.Equal(got, big) || fin.Bytes != int64(len(big)) {
		t.Errorf("streamed copy: %d bytes differ from the source's %d", len(got), len(big))
	}

	// The size the restore reported was stale: S3 refuses the one-request
	// copy as too big, and the object is streamed instead.
	rec.failCopy.Store(true)
	fin, err = deliver("dumps/big dump.tar", "s3://copy-dst/copies/stale.tar", len(small))
	rec.failCopy.Store(false)
	if err != nil {
		t.Fatal(err)
	}
	calls = rec.take()
	if count(calls, "CopyObject") != 1 || count(calls, "CompleteMultipartUpload") != 1 {
		t.Errorf("refused CopyObject: requests %q, want the copy refused, then a multipart upload", calls)
	}
	if got, _ := object("copies/stale.tar"); !bytes.Equal(got, big) {
		t.Errorf("refused CopyObject: %d bytes differ from the source's %d", len(got), len(big))
	}

	// S3 refuses a part: non-retryable, the upload aborted, no object.
	rec.failPart.Store("2")
	_, err = deliver("dumps/big dump.tar", "s3://copy-dst/copies/refused.tar", len(big))
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeBadInput || !appErr.NonRetryable() || !strings.Contains(err.Error(), "InvalidRequest") {
		t.Fatalf("refused copy: error %v, want non-retryable %s naming InvalidRequest", err, activities.ErrTypeBadInput)
	}
	if calls := rec.take(); count(calls, "AbortMultipartUpload") != 1 || count(calls, "CompleteMultipartUpload") != 0 {
		t.Errorf("refused copy: requests %q, want the upload aborted", calls)
	}
	ups, err := c.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("copy-dst")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("refused copy: %d multipart uploads left in copy-dst", len(ups.Uploads))
	}
	_, err = c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("copy-dst"), Key: aws.String("copies/refused.tar")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "NotFound" {
		t.Errorf("refused copy: HeadObject of the destination: %v, want NotFound", err)
	}
}

// TestCopyStreamParts checks the part sizes of real-size streamed copies:
// whole MiB, at most 10,000 parts, bounded memory.
func TestCopyStreamParts(t *testing.T) {
	for _, size := range []int64{activities.MaxCopyObjectSize + 1, 300 << 30, 1 << 40, 5 << 40} {
		part, conc := activities.CopyStreamParts(size)
		if part%(1<<20) != 0 || part < activities.CopyStreamPartSize || (size+part-1)/part > 10_000 || conc < 1 || conc > 4 {
			t.Errorf("size %d: part size %d, concurrency %d", size, part, conc)
		}
		if mem := int64(conc+2) * part; mem > max(256<<20, 3*part) {
			t.Errorf("size %d: %d bytes of part buffers", size, mem)
		}
	}
	if part, conc := activities.CopyStreamParts(activities.MaxCopyObjectSize + 1); part != activities.CopyStreamPartSize || conc != 4 {
		t.Errorf("just above the copy limit: part size %d, concurrency %d; want %d, 4", part, conc, activities.CopyStreamPartSize)
	}
}
