package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// outputGate holds the at-th GetJobOutput request (counting from 1 after
// each arm) until released or abandoned by its client.
type outputGate struct {
	mu       sync.Mutex
	count    int
	at       int
	reached  chan struct{}
	released chan struct{}
}

// arm starts counting again; the at-th request from now on is held.
func (g *outputGate) arm(at int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.count, g.at, g.reached, g.released = 0, at, make(chan struct{}), make(chan struct{})
}

func (g *outputGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/output") {
			g.mu.Lock()
			g.count++
			hold := g.count == g.at
			reached, released := g.reached, g.released
			g.mu.Unlock()
			if hold {
				close(reached)
				select {
				case <-released:
				case <-r.Context().Done():
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// waitReached waits for the held request.
func (g *outputGate) waitReached(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	reached := g.reached
	g.mu.Unlock()
	select {
	case <-reached:
	case <-time.After(2 * time.Minute):
		t.Fatal("the download never reached the held range")
	}
}

func (g *outputGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.released)
}

// TestGlacierCancelLeavesNothing cancels a retrieval mid-download, to a
// file and to S3: the run ends cancelled saying what it removed, and no
// partial file, destination file or multipart upload is left.
func TestGlacierCancelLeavesNothing(t *testing.T) {
	ts := testenv.NewTemporal(t)
	gate := &outputGate{}
	cloud, aw := stacktest.Cloud(t, localcloud.Options{TierDelays: fastTiers, Wrap: gate.wrap})
	stacktest.StartWorker(t, ts, aw, os.Getenv)
	c := testenv.NewClient(t, ts)
	ctx := context.Background()
	if err := cloud.Glacier.CreateVault("cancel-vault"); err != nil {
		t.Fatal(err)
	}
	archiveID, _, err := cloud.Glacier.PutArchive("cancel-vault", detdata.New(5, 24<<20), "cancel archive")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aw.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cancel-out")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	partials := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "*"+activities.PartialSuffix))
		return m
	}
	uploads := func() int {
		out, err := aw.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("cancel-out")})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Uploads)
	}
	cases := []struct {
		dest    string
		removed string
		left    func() int
	}{
		{"file://" + filepath.Join(dir, "out.bin"), "removed partial file " + dir, func() int { return len(partials()) }},
		{"s3://cancel-out/out.bin", "removed multipart upload", uploads},
	}
	for _, tc := range cases {
		t.Run(tc.dest, func(t *testing.T) {
			gate.arm(2)
			id := workflows.GlacierWorkflowID("cancel-vault", archiveID)
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, workflows.GlacierRetrieveName,
				workflows.GlacierRetrieveInput{Vault: "cancel-vault", ArchiveID: archiveID, Tier: "Expedited", Destination: tc.dest,
					PollInterval: flowdata.Duration(500 * time.Millisecond), ChunkSize: 8 << 20, Parallel: 1})
			if err != nil {
				t.Fatal(err)
			}
			gate.waitReached(t)
			if tc.left() != 1 {
				t.Fatalf("premise: one partial file or upload in flight, found %d", tc.left())
			}
			if err := c.CancelWorkflow(ctx, id, run.GetRunID()); err != nil {
				t.Fatal(err)
			}
			gate.release()
			waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			err = run.Get(waitCtx, nil)
			var canceled *temporal.CanceledError
			if !errors.As(err, &canceled) {
				t.Fatalf("run ended with %v, want cancelled", err)
			}
			var note string
			if err := canceled.Details(&note); err != nil || !strings.Contains(note, tc.removed) {
				t.Errorf("cancel details %q (%v), want %q", note, err, tc.removed)
			}
			if n := tc.left(); n != 0 {
				t.Errorf("%d partial files or uploads left after the cancel", n)
			}
			if _, err := os.Stat(filepath.Join(dir, "out.bin")); !os.IsNotExist(err) {
				t.Errorf("destination file exists after the cancel: %v", err)
			}
		})
	}
}

// TestGlacierFileOnNamedHost runs two workers, hostA and hostB, on one task
// queue and retrieves to file://hostB/...: every step touching the file is
// scheduled on hostB's queue (which only hostB's worker polls), the result
// names hostB, and when hostB's worker dies mid-download and comes back,
// the run finishes there with a correct file.
func TestGlacierFileOnNamedHost(t *testing.T) {
	ts := testenv.NewTemporal(t)
	gate := &outputGate{}
	gate.arm(3)
	cloud, aw := stacktest.Cloud(t, localcloud.Options{TierDelays: fastTiers, Wrap: gate.wrap})
	stacktest.StartWorkerOnHost(t, ts, aw, os.Getenv, "hostA")
	wb := stacktest.StartWorkerOnHost(t, ts, aw, os.Getenv, "hostB")
	c := testenv.NewClient(t, ts)
	ctx := context.Background()
	if err := cloud.Glacier.CreateVault("host-vault"); err != nil {
		t.Fatal(err)
	}
	const size = 20 << 20
	archiveID, wantHash, err := cloud.Glacier.PutArchive("host-vault", detdata.New(9, size), "host archive")
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "out.bin")
	id := workflows.GlacierWorkflowID("host-vault", archiveID)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, workflows.GlacierRetrieveName,
		workflows.GlacierRetrieveInput{Vault: "host-vault", ArchiveID: archiveID, Tier: "Expedited", Destination: "file://hostB" + dest,
			PollInterval: flowdata.Duration(500 * time.Millisecond), ChunkSize: 4 << 20, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	gate.waitReached(t)
	wb.Stop() // hostB dies with range 2 in flight
	gate.release()
	stacktest.StartWorkerOnHost(t, ts, aw, os.Getenv, "hostB")
	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var res workflows.GlacierRetrieveResult
	if err := run.Get(waitCtx, &res); err != nil {
		t.Fatalf("retrieval: %v", err)
	}
	if res.Host != "hostB" || res.Location != "file://hostB"+dest {
		t.Errorf("result host %q location %q, want hostB", res.Host, res.Location)
	}
	if got, n := fileTreeHash(t, dest); got != wantHash || n != size {
		t.Fatalf("file hash %s (%d bytes), want %s", got, n, wantHash)
	}
	hostLocal := map[string]bool{activities.PrepareDestinationName: true, activities.DownloadRangeName: true,
		activities.FinishDestinationName: true, activities.AbortDestinationName: true}
	scheduled := map[string]int{}
	names := map[int64]string{} // scheduled event ID → activity
	ranOn := map[string]map[string]bool{}
	iter := c.GetWorkflowHistory(ctx, id, run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		if st := ev.GetActivityTaskStartedEventAttributes(); st != nil {
			// The worker's identity is pid@host@vigil (workerapp.WorkerOptions).
			name := names[st.GetScheduledEventId()]
			if ranOn[name] == nil {
				ranOn[name] = map[string]bool{}
			}
			ranOn[name][strings.Split(st.GetIdentity(), "@")[1]] = true
		}
		a := ev.GetActivityTaskScheduledEventAttributes()
		if a == nil {
			continue
		}
		name, q := a.GetActivityType().GetName(), a.GetTaskQueue().GetName()
		names[ev.GetEventId()] = name
		scheduled[name]++
		if want := workflows.HostTaskQueue(workflows.TaskQueue, "hostB"); hostLocal[name] && q != want {
			t.Errorf("%s scheduled on %s, want %s", name, q, want)
		}
		if name == activities.WorkerHostName {
			t.Errorf("the run asked for a host although the URL names one")
		}
	}
	if scheduled[activities.DownloadRangeName] < 5 || scheduled[activities.FinishDestinationName] != 1 {
		t.Errorf("scheduled activities %v", scheduled)
	}
	for name := range hostLocal {
		if ran := ranOn[name]; len(ran) > 0 && (len(ran) != 1 || !ran["hostB"]) {
			t.Errorf("%s ran on hosts %v (worker identities), want only hostB", name, ran)
		}
	}
	for _, name := range []string{activities.PrepareDestinationName, activities.DownloadRangeName, activities.FinishDestinationName} {
		if !ranOn[name]["hostB"] {
			t.Errorf("no %s started on hostB; started on %v", name, ranOn[name])
		}
	}
}
