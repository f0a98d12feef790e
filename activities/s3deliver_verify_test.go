package activities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestDeliverObjectVerifyFull downloads an object to files with the real
// SDK client against the local S3 while the test damages the partial file
// on disk after the download is complete and synced (one flipped bit, as
// a faulty disk would): the cheap default publishes the damaged file,
// --verify full re-reads it, fails non-retryably with ChecksumMismatch
// and removes the partial file and its token. The streamed hash survives
// a resume (its state in the heartbeat): an intact resumed download
// verifies, one whose prefix was damaged before the retry does not, and a
// full-verify resume without the hash state downloads again from 0.
func TestDeliverObjectVerifyFull(t *testing.T) {
	c, rec := newDeliverStack(t, "dl-verify")
	ctx := context.Background()
	data := randomBytes(5, 6, 3<<20+4_321)
	put, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("dl-verify"), Key: aws.String("dump.bin"), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	etag := aws.ToString(put.ETag)
	dir := t.TempDir()
	const half = 1<<20 + 9
	const token = "partial-file-identity"

	// The damage: one bit of the finished partial file, written through
	// another descriptor after the download synced it.
	var damage atomic.Int64 // offset to flip, -1 for none
	damage.Store(-1)
	activities.SetAfterDownload(t, func(partial string) {
		off := damage.Load()
		if off < 0 {
			return
		}
		f, err := os.OpenFile(partial, os.O_RDWR, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, off); err != nil {
			t.Error(err)
		}
		b[0] ^= 0x10
		if _, err := f.WriteAt(b, off); err != nil {
			t.Error(err)
		}
	})

	// deliver runs DeliverObject to dir/dest with the verify level, the
	// partial file holding partial and the heartbeat details prog (none
	// when nil); it returns the published file.
	deliver := func(dest, verify string, partial []byte, prog any) ([]byte, error) {
		t.Helper()
		path := filepath.Join(dir, dest)
		if partial != nil {
			if err := os.WriteFile(activities.PartialFor(path, activities.TestWorkflowID), partial, 0o600); err != nil {
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
		v, err := env.ExecuteActivity(s3a.DeliverObject, activities.DeliverObjectInput{Bucket: "dl-verify", Key: "dump.bin",
			Dest: "file://" + path, Size: int64(len(data)), Verify: verify})
		if err != nil {
			return nil, err
		}
		var fin activities.FinishResult
		if err := v.Get(&fin); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return got, nil
	}
	// mismatch checks a ChecksumMismatch that left nothing behind.
	mismatch := func(name, dest string, err error) {
		t.Helper()
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeChecksumMismatch || !appErr.NonRetryable() {
			t.Errorf("%s: error %v, want non-retryable %s", name, err, activities.ErrTypeChecksumMismatch)
		}
		path := filepath.Join(dir, dest)
		for _, p := range []string{path, activities.PartialFor(path, activities.TestWorkflowID), activities.PartialFor(path, activities.TestWorkflowID) + activities.IdentitySuffix} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %s left behind (%v)", name, filepath.Base(p), err)
			}
		}
	}
	gets := func(name string, want ...string) {
		t.Helper()
		if got := rec.take(); !slices.Equal(got, want) {
			t.Errorf("%s: GETs\n%q\nwant\n%q", name, got, want)
		}
	}
	whole := `range="" if-match=false → 200`
	resumed := fmt.Sprintf(`range="bytes=%d-" if-match=true → 206`, half)
	hashState := func(b []byte) []byte {
		h := sha256.New()
		h.Write(b)
		st, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	// The cheap default trusts what it wrote: the damaged file is
	// published (what --verify full exists for).
	damage.Store(2<<20 + 5)
	got, err := deliver("cheap.bin", "", nil, nil)
	if err != nil {
		t.Fatalf("cheap: %v", err)
	}
	if bytes.Equal(got, data) || len(got) != len(data) {
		t.Errorf("cheap: the damage did not reach the published file (%d bytes, equal %t)", len(got), bytes.Equal(got, data))
	}
	gets("cheap", whole)

	// Full: the re-read from disk differs from what was received.
	_, err = deliver("full.bin", flowdata.VerifyFull, nil, nil)
	mismatch("full, damaged", "full.bin", err)
	gets("full, damaged", whole)

	// Full, intact: published, the same bytes.
	damage.Store(-1)
	got, err = deliver("intact.bin", flowdata.VerifyFull, nil, nil)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("full, intact: %v (equal %t)", err, bytes.Equal(got, data))
	}
	gets("full, intact", whole)

	// Resumed with the heartbeat's hash state: the rest only, verified.
	got, err = deliver("resumed.bin", flowdata.VerifyFull, data[:half],
		activities.DownloadProgress{Done: half, ETag: etag, ID: token, Hash: hashState(data[:half])})
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("full, resumed: %v (equal %t)", err, bytes.Equal(got, data))
	}
	gets("full, resumed", resumed)

	// The prefix on disk changed between the attempts (same file, same
	// token): the streamed hash is of the bytes as received, so the
	// re-read catches it; the cheap path publishes it.
	bad := bytes.Clone(data[:half])
	bad[100] ^= 1
	prog := activities.DownloadProgress{Done: half, ETag: etag, ID: token, Hash: hashState(data[:half])}
	_, err = deliver("badprefix.bin", flowdata.VerifyFull, bad, prog)
	mismatch("full, damaged prefix", "badprefix.bin", err)
	gets("full, damaged prefix", resumed)
	got, err = deliver("badprefix-cheap.bin", "", bad, prog)
	if err != nil || bytes.Equal(got, data) {
		t.Errorf("cheap, damaged prefix: %v (equal %t), want the damaged file published", err, bytes.Equal(got, data))
	}
	gets("cheap, damaged prefix", resumed)

	// A full-verify resume whose heartbeat has no hash state (or one that
	// does not decode) downloads again from 0 instead of trusting a prefix
	// nobody hashed.
	for _, h := range [][]byte{nil, []byte("not a sha256 state")} {
		got, err = deliver("nohash.bin", flowdata.VerifyFull, bad, activities.DownloadProgress{Done: half, ETag: etag, ID: token, Hash: h})
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("full, resume without hash %q: %v (equal %t)", h, err, bytes.Equal(got, data))
		}
		gets(fmt.Sprintf("full, resume without hash %q", h), whole)
	}

	// An unknown level is bad input.
	_, err = deliver("bogus.bin", "bogus", nil, nil)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeBadInput || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("verify bogus: %v, want %s", err, activities.ErrTypeBadInput)
	}
	gets("verify bogus")
}
