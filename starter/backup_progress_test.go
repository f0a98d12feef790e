package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// gate holds one kind of request in the local cloud until released, and
// says when one was held.
type gate struct {
	held    chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate(t *testing.T) *gate {
	g := &gate{held: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(g.open)
	return g
}

func (g *gate) open() {
	select {
	case <-g.release:
	default:
		close(g.release)
	}
}

// hold blocks the caller until the gate opens (or ctx ends).
func (g *gate) hold(ctx context.Context) {
	g.once.Do(func() { close(g.held) })
	select {
	case <-g.release:
	case <-ctx.Done():
	}
}

// TestBackupStatusShowsLiveProgress: `starter status` taken while a
// backup's upload is held in the emulator (its 3rd part of 5 MiB) shows
// the bytes S3 acknowledged so far of the expected size, and taken while
// a restore's download is held (its second ranged GET, from 8 MiB) shows
// the bytes received and hashed so far, the contiguous 8 MiB before the
// held range; both runs then finish.
func TestBackupStatusShowsLiveProgress(t *testing.T) {
	const size, part = 40 << 20, 5 << 20
	secondRange := fmt.Sprintf("bytes=%d-", 8<<20) // the restore's download manager fetches 8 MiB ranges
	up, down := newGate(t), newGate(t)
	var objectKey sync.Map // the backup's key, once known
	hold := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == "3":
				up.hold(r.Context())
			case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, ".bin") && strings.HasPrefix(r.Header.Get("Range"), secondRange):
				if _, ok := objectKey.Load(strings.TrimPrefix(r.URL.Path, "/bkt/")); ok {
					down.hold(r.Context())
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	h, _, awsc := newS3HarnessWith(t, localcloud.Options{TierDelays: s3TestTiers, Wrap: hold})
	ctx := context.Background()
	if _, err := awsc.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "db.dump")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, detdata.New(8, size)); err != nil || f.Close() != nil {
		t.Fatal(err)
	}
	status := func(id string) workflows.Status {
		t.Helper()
		r := h.run("-o", "json", "status", id)
		var rep statusReport
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil || rep.Progress == nil {
			t.Fatalf("status %s: exit %d\n%s\n%s", id, r.code, r.stdout, r.stderr)
		}
		return *rep.Progress
	}
	waitHeld := func(g *gate, what string) {
		t.Helper()
		select {
		case <-g.held:
		case <-time.After(time.Minute):
			t.Fatalf("the %s never reached the held request", what)
		}
	}

	bid := "backup-live-progress"
	brun, err := h.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: bid, TaskQueue: workflows.TaskQueue}, workflows.BackupName,
		flowdata.BackupInput{Name: "db", Source: "file://" + src, Target: "s3://bkt/", PartSize: part, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	waitHeld(up, "upload")
	var st workflows.Status
	// Heartbeats are throttled: part 1's progress may show before part 2's.
	testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, "status to show the two acknowledged parts", func() bool {
		st = status(bid)
		return st.BytesDone >= 2*part
	})
	if st.Phase != workflows.PhaseUploading || st.BytesDone != 2*part || st.BytesTotal != size {
		t.Errorf("mid-upload status: phase %s, %d of %d bytes; want uploading, %d of %d (parts 1 and 2 stored, 3 held)",
			st.Phase, st.BytesDone, st.BytesTotal, 2*part, size)
	}
	up.open()
	var bres flowdata.BackupResult
	if err := brun.Get(ctx, &bres); err != nil {
		t.Fatal(err)
	}
	if st := status(bid); st.Phase != workflows.PhaseDone || st.BytesDone != size {
		t.Errorf("finished backup status: %s, %d bytes", st.Phase, st.BytesDone)
	}

	objectKey.Store(bres.Key, true)
	rid := "restore-live-progress"
	rrun, err := h.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: rid, TaskQueue: workflows.TaskQueue}, workflows.RestoreName,
		flowdata.RestoreInput{From: "s3://bkt/db/", To: "file://" + filepath.Join(dir, "restored.dump")})
	if err != nil {
		t.Fatal(err)
	}
	waitHeld(down, "download")
	testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, "status to show the first 8 MiB", func() bool {
		st = status(rid)
		return st.BytesDone > 0
	})
	if st.Phase != workflows.PhaseRestoring || st.BytesDone <= 0 || st.BytesDone > 8<<20 || st.BytesTotal != size {
		t.Errorf("mid-download status: phase %s, %d of %d bytes; want restoring, 0 < done ≤ 8 MiB of %d", st.Phase, st.BytesDone, st.BytesTotal, size)
	}
	down.open()
	if err := rrun.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
}
