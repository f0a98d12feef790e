package activities_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
)

// getLog records the GETs of the dl- buckets: their Range and If-Match
// headers and the status of the answer. With ignoreRange set it drops the
// Range header, as a server (or proxy) that ignores ranges would. gofakes3
// ignores If-Match on GET, so the wrapper answers it as S3 does: 412
// PreconditionFailed unless the object's ETag (HEAD through head) matches.
type getLog struct {
	mu          sync.Mutex
	gets        []string
	ignoreRange atomic.Bool
	head        func(bucket, key string) (etag string, err error)
}

// statusWriter calls onHeader with the status just before the headers go
// out, so a GET is recorded before its client can see the answer.
type statusWriter struct {
	http.ResponseWriter
	status   int
	onHeader func(status int)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.onHeader(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (g *getLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/dl-") {
			h.ServeHTTP(w, r)
			return
		}
		rng, ifMatch := r.Header.Get("Range"), r.Header.Get("If-Match")
		if g.ignoreRange.Load() {
			r.Header.Del("Range")
		}
		sw := &statusWriter{ResponseWriter: w, onHeader: func(status int) {
			g.mu.Lock()
			g.gets = append(g.gets, fmt.Sprintf("range=%q if-match=%t → %d", rng, ifMatch != "", status))
			g.mu.Unlock()
		}}
		if ifMatch != "" {
			bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			if etag, err := g.head(bucket, key); err == nil && etag != ifMatch {
				sw.Header().Set("Content-Type", "application/xml")
				sw.WriteHeader(http.StatusPreconditionFailed)
				fmt.Fprint(sw, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition></Error>`)
			}
		}
		if sw.status == 0 {
			h.ServeHTTP(sw, r)
		}
	})
}

func (g *getLog) take() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.gets
	g.gets = nil
	return out
}

// TestDeliverObjectToFileResumes downloads objects to files with the real
// SDK client against the local S3, resuming from heartbeat details (bytes
// done and the object's ETag) as a retried attempt does: a resume asks for
// the rest with If-Match; a server that ignores Range (200, whole object)
// makes it start over instead of appending the whole object at the offset;
// an object replaced since the heartbeat (412) is downloaded again whole,
// or fails non-retryably when its size is no longer the restore's.
func TestDeliverObjectToFileResumes(t *testing.T) {
	c, rec := newDeliverStack(t, "dl-src")
	ctx := context.Background()
	data := randomBytes(3, 4, 3<<20+12_345)
	put := func(b []byte) string {
		t.Helper()
		out, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("dl-src"), Key: aws.String("dump.bin"), Body: bytes.NewReader(b)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ETag)
	}
	etag := put(data)
	dir := t.TempDir()
	const half = 1<<20 + 7
	const token = "partial-file-identity"

	// deliver runs DeliverObject to dest, the partial file holding partial
	// and the heartbeat details prog (none when nil).
	deliver := func(dest string, partial []byte, prog any, size int) ([]byte, error) {
		t.Helper()
		path := filepath.Join(dir, dest)
		if partial != nil {
			if err := os.WriteFile(activities.PartialFor(path, activities.TestWorkflowID), partial, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(activities.PartialFor(path, activities.TestWorkflowID)+activities.IdentitySuffix, []byte(token), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestActivityEnvironment()
		(&activities.S3{Client: c.S3}).Register(env)
		if prog != nil {
			env.SetHeartbeatDetails(prog)
		}
		var s3a *activities.S3
		v, err := env.ExecuteActivity(s3a.DeliverObject, activities.DeliverObjectInput{Bucket: "dl-src", Key: "dump.bin",
			Dest: "file://" + path, Size: int64(size)})
		if err != nil {
			return nil, err
		}
		var fin activities.FinishResult
		if err := v.Get(&fin); err != nil {
			t.Fatal(err)
		}
		if fin.Bytes != int64(size) || fin.Location != "file://"+path {
			t.Errorf("%s: result %+v, want %d bytes", dest, fin, size)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return got, nil
	}
	check := func(name string, got, want []byte, gets []string, wantGets ...string) {
		t.Helper()
		if !bytes.Equal(got, want) {
			t.Errorf("%s: file of %d bytes differs from the object's %d", name, len(got), len(want))
		}
		if !slices.Equal(gets, wantGets) {
			t.Errorf("%s: GETs\n%q\nwant\n%q", name, gets, wantGets)
		}
	}
	whole := `range="" if-match=false → 200`
	resumed := fmt.Sprintf(`range="bytes=%d-" if-match=true → 206`, half)

	// A fresh download: one GET.
	got, err := deliver("fresh.bin", nil, nil, len(data))
	if err != nil {
		t.Fatal(err)
	}
	check("fresh", got, data, rec.take(), whole)

	// A resume: the rest of the object, on condition of its ETag. (The
	// partial file's bytes are kept: the result shows the resume used them.)
	got, err = deliver("resumed.bin", data[:half], activities.DownloadProgress{Done: half, ETag: etag, ID: token}, len(data))
	if err != nil {
		t.Fatal(err)
	}
	check("resume", got, data, rec.take(), resumed)

	// Range ignored: the 200's whole object is written from the start.
	rec.ignoreRange.Store(true)
	got, err = deliver("norange.bin", data[:half], activities.DownloadProgress{Done: half, ETag: etag, ID: token}, len(data))
	rec.ignoreRange.Store(false)
	if err != nil {
		t.Fatal(err)
	}
	check("range ignored", got, data, rec.take(), fmt.Sprintf(`range="bytes=%d-" if-match=true → 200`, half))

	// The partial file was re-created since the heartbeat (a new disk, here
	// zeros of the right length): its token is not the heartbeat's, so the
	// bytes are not the ones the heartbeat counted; start over.
	got, err = deliver("replaced.bin", make([]byte, half), activities.DownloadProgress{Done: half, ETag: etag, ID: "another-file"}, len(data))
	if err != nil {
		t.Fatal(err)
	}
	check("replaced partial file", got, data, rec.take(), whole)

	// Heartbeats without an ETag (a plain count, as before) start over.
	got, err = deliver("oldbeat.bin", data[:half], int64(half), len(data))
	if err != nil {
		t.Fatal(err)
	}
	check("count-only heartbeat", got, data, rec.take(), whole)

	// Offset at the end (the attempt died before the rename): S3 answers
	// 416 to the range; the download starts over.
	got, err = deliver("atend.bin", data, activities.DownloadProgress{Done: int64(len(data)), ETag: etag, ID: token}, len(data))
	if err != nil {
		t.Fatal(err)
	}
	check("offset at end", got, data, rec.take(), fmt.Sprintf(`range="bytes=%d-" if-match=true → 416`, len(data)), whole)

	// Replaced by an object of the same size since the heartbeat: 412,
	// then the new object whole, never half of each.
	data2 := bytes.Clone(data)
	for i := range data2 {
		data2[i] ^= 0x5a
	}
	etag2 := put(data2)
	if etag2 == etag {
		t.Fatal("same ETag for different contents")
	}
	got, err = deliver("changed.bin", data[:half], activities.DownloadProgress{Done: half, ETag: etag, ID: token}, len(data))
	if err != nil {
		t.Fatal(err)
	}
	check("changed", got, data2, rec.take(), fmt.Sprintf(`range="bytes=%d-" if-match=true → 412`, half), whole)

	// Replaced by an object of another size: not what the restore saw,
	// and no retry can change that.
	put(data[:half])
	_, err = deliver("shrunk.bin", data[:half], activities.DownloadProgress{Done: half, ETag: etag, ID: token}, len(data))
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeObjectChanged || !appErr.NonRetryable() || !strings.Contains(err.Error(), "changed since its restore") {
		t.Errorf("shrunk: error %v, want non-retryable %s", err, activities.ErrTypeObjectChanged)
	}
	if gets := rec.take(); len(gets) != 2 || !strings.HasSuffix(gets[0], "→ 412") {
		t.Errorf("shrunk: GETs %q, want 412 then a whole GET", gets)
	}
}

// newDeliverStack starts the local cloud with a bucket and returns its SDK clients and
// a request log whose HEAD look-ups go through the real client.
func newDeliverStack(t *testing.T, bucket string) (*awsconf.Clients, *getLog) {
	t.Helper()
	rec := &getLog{}
	cloud, c := stacktest.Cloud(t, localcloud.Options{Wrap: rec.wrap})
	rec.head = func(bucket, key string) (string, error) {
		out, err := c.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.ETag), nil
	}
	if err := cloud.S3.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	return c, rec
}

// randomBytes is n pseudo-random bytes from the seeds.
func randomBytes(seed1, seed2 uint64, n int) []byte {
	data := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed1, seed2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	return data
}
