package s3lite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
)

// sdkLines records what the SDK logs.
type sdkLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *sdkLines) Logf(c logging.Classification, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(c)+" "+fmt.Sprintf(format, v...))
}

// TestFullGetCarriesChecksum: a whole-object GET answers with the object's
// CRC64NVME, which the SDK validates (so it logs no "no supported
// checksum" line), for a plain and a multipart object, and again from the
// remembered sum; a ranged GET carries none, as on S3; an object replaced
// under the same key gets the new content's checksum.
func TestFullGetCarriesChecksum(t *testing.T) {
	svc, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	logs := &sdkLines{}
	// As config.LoadDefaultConfig (vigil's clients) sets it: the SDK asks
	// for checksums on GETs (x-amz-checksum-mode: ENABLED) and validates
	// them. A bare s3.Options leaves it unset, and nothing is asked.
	c := s3.New(client(srv.URL).Options(), func(o *s3.Options) {
		o.Logger = logs
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	})
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sums")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("checksum"), 1<<20) // 8 MiB
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("plain"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = 5 << 20 })
	if _, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("multi"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	get := func(key, rng string) (*s3.GetObjectOutput, []byte) {
		t.Helper()
		in := &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(key)}
		if rng != "" {
			in.Range = aws.String(rng)
		}
		out, err := c.GetObject(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body) // the SDK checks the sum at EOF
		if err != nil {
			t.Fatalf("GET %s %s: %v", key, rng, err)
		}
		return out, b
	}
	var first string
	for _, key := range []string{"plain", "multi", "plain"} {
		out, b := get(key, "")
		if !bytes.Equal(b, body) || out.ChecksumCRC64NVME == nil || out.ChecksumType != "FULL_OBJECT" {
			t.Errorf("GET %s: %d bytes, CRC64NVME %v, type %q; want the body with a full-object checksum", key, len(b), out.ChecksumCRC64NVME, out.ChecksumType)
		}
		if first == "" {
			first = aws.ToString(out.ChecksumCRC64NVME)
		} else if got := aws.ToString(out.ChecksumCRC64NVME); got != first {
			t.Errorf("GET %s: CRC64NVME %s, want %s (same content)", key, got, first)
		}
	}
	for _, l := range logs.lines {
		if strings.Contains(l, "checksum") {
			t.Errorf("the SDK logged %q on full GETs", l)
		}
	}
	if out, b := get("plain", "bytes=0-9"); string(b) != "checksumch" || out.ChecksumCRC64NVME != nil {
		t.Errorf("ranged GET: %q with CRC64NVME %v; want 10 bytes and no checksum", b, out.ChecksumCRC64NVME)
	}
	other := bytes.Repeat([]byte("x"), 100)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("plain"), Body: bytes.NewReader(other)}); err != nil {
		t.Fatal(err)
	}
	if out, b := get("plain", ""); !bytes.Equal(b, other) || aws.ToString(out.ChecksumCRC64NVME) == first {
		t.Errorf("GET of the replaced object: %d bytes, CRC64NVME %v (old %s)", len(b), aws.ToString(out.ChecksumCRC64NVME), first)
	}
}
