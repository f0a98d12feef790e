package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/codec"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/devserver"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/rollout"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/tclient"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/internal/workerapp"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// rolloutDeployment is the Worker Deployment of the rollout test.
const rolloutDeployment = "vigil"

// TestRolloutWithWorkerVersioning runs two builds of the production
// worker (workerapp.Run with --deployment-name and --build-id) against the
// --dev stack's Temporal server and the local cloud. A Glacier wait starts
// on build A; build B starts and is made current; the wait finishes on A
// (its notification is held back until then), a new retrieval runs on B,
// `deploy status` shows A draining then drained; a rollback makes A
// current again and the next retrieval runs on A.
func TestRolloutWithWorkerVersioning(t *testing.T) {
	ctx := context.Background()
	srv, err := devserver.Start(ctx, devserver.Options{UIPort: -1, Logger: testenv.TestLogger(t, slog.LevelWarn),
		SearchAttributes: vigilSearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	cloud, aws := stacktest.Cloud(t, localcloud.Options{TierDelays: fastTiers})
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": cloud.URL(), "AWS_REGION": awsconf.LocalRegion,
		"AWS_ACCESS_KEY_ID": awsconf.LocalAccessKey, "AWS_SECRET_ACCESS_KEY": awsconf.LocalSecretKey,
		codec.KeysEnv: "", codec.KeysFileEnv: "",
	} {
		t.Setenv(k, v)
	}
	c, err := tclient.Dial(ctx, tclient.Options{Address: srv.FrontendAddr(), Namespace: srv.Namespace(),
		Logger: testenv.TestLogger(t, slog.LevelWarn), Env: testenv.EmptyEnv{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ns := srv.Namespace()

	// The Glacier notifications go to a queue the workers do not consume:
	// the test's router delivers them when the test says so.
	const vault, notifyQueue = "rollout-vault", "rollout-glacier"
	if err := cloud.Glacier.CreateVault(vault); err != nil {
		t.Fatal(err)
	}
	gs, err := setup.Glacier(ctx, aws, setup.GlacierOptions{Vault: vault, QueueName: notifyQueue})
	if err != nil {
		t.Fatal(err)
	}
	archives := make([]string, 3)
	for i := range archives {
		if archives[i], _, err = cloud.Glacier.PutArchive(vault, detdata.New(uint64(40+i), 1<<20), fmt.Sprint("rollout ", i)); err != nil {
			t.Fatal(err)
		}
	}

	// Build A, made current: the first retrieval is pinned to it.
	runVersionedWorker(t, srv, "build-a")
	waitForBuild(t, c, ns, "build-a")
	eventually(t, "build-a current", func() error {
		_, err := rollout.SetCurrent(ctx, c, rolloutDeployment, "build-a", rollout.Options{Identity: "rollout-test"})
		return err
	})
	waitDeployment(t, c, ns, "build-a current everywhere", func(st rollout.Status) bool { return st.Current() == "build-a" && !st.Propagating })
	r1 := startRetrieval(t, c, vault, archives[0])
	waitPinned(t, c, r1, "build-a")

	// Build B, made current while the wait is open on A.
	runVersionedWorker(t, srv, "build-b")
	waitForBuild(t, c, ns, "build-b")
	ch, err := rollout.SetCurrent(ctx, c, rolloutDeployment, "build-b", rollout.Options{Identity: "rollout-test"})
	if err != nil || ch.PreviousCurrent != "build-a" || ch.Current != "build-b" {
		t.Fatalf("set-current build-b: %+v, %v", ch, err)
	}
	switched := time.Now()
	waitDeployment(t, c, ns, "A draining with its pinned wait, B current", func(st rollout.Status) bool {
		a, b := st.Find("build-a"), st.Find("build-b")
		return a.Drainage == rollout.Draining && a.PinnedRunning == 1 && len(a.Pollers) > 0 && b.Current && len(b.Pollers) > 0 && !st.Propagating
	})
	r2 := startRetrieval(t, c, vault, archives[1])
	waitPinned(t, c, r2, "build-b")

	// Notifications flow now: the wait on A completes there.
	startRouter(t, c, aws, gs.QueueURL)
	checkCompletedOn(t, c, r1, "build-a", switched)
	checkCompletedOn(t, c, r2, "build-b", switched)
	waitDeployment(t, c, ns, "A drained", func(st rollout.Status) bool {
		a := st.Find("build-a")
		return a.Drainage == rollout.Drained && a.PinnedRunning == 0 && st.Current() == "build-b"
	})

	// Rollback: A (the build rolled away from) is current again.
	back, err := rollout.Rollback(ctx, c, ns, rolloutDeployment, "", rollout.Options{Identity: "rollout-test"})
	if err != nil || back.Current != "build-a" || back.PreviousCurrent != "build-b" {
		t.Fatalf("rollback: %+v, %v", back, err)
	}
	rolledBack := time.Now()
	waitDeployment(t, c, ns, "rollback propagated", func(st rollout.Status) bool { return st.Current() == "build-a" && !st.Propagating })
	r3 := startRetrieval(t, c, vault, archives[2])
	waitPinned(t, c, r3, "build-a")
	checkCompletedOn(t, c, r3, "build-a", rolledBack)
	waitDeployment(t, c, ns, "A current, B drained", func(st rollout.Status) bool {
		return st.Find("build-a").Current && st.Find("build-b").Drainage == rollout.Drained
	})
}

func vigilSearchAttributes() map[string]enumspb.IndexedValueType {
	attrs := map[string]enumspb.IndexedValueType{}
	for _, name := range workflows.SearchAttributes {
		attrs[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	return attrs
}

// runVersionedWorker runs the production worker as build buildID of
// rolloutDeployment until the test ends. Its router consumes a queue that
// gets no notifications.
func runVersionedWorker(t *testing.T, srv *devserver.Server, buildID string) {
	t.Helper()
	cfg, err := workerapp.ParseFlags([]string{"--address", srv.FrontendAddr(), "--namespace", srv.Namespace(),
		"--deployment-name", rolloutDeployment, "--build-id", buildID, "--queue", "rollout-unused", "--log-level", "warn"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- workerapp.Run(ctx, cfg, io.Discard, logWriter{t}, func(workerapp.Endpoints) { close(ready) })
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("worker %s: %v", buildID, err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("worker %s ended: %v", buildID, err)
	case <-time.After(60 * time.Second):
		t.Fatalf("worker %s not ready within 60s", buildID)
	}
}

// eventually retries f until it succeeds (the deployment's state is
// eventually consistent), failing the test with f's last error after a
// minute.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after a minute: %v", what, err)
		}
		<-tick.C
	}
}

// waitForBuild waits until the server knows the build and its workers'
// task queues (created by their first polls).
func waitForBuild(t *testing.T, c client.Client, ns, buildID string) {
	t.Helper()
	waitDeployment(t, c, ns, "build "+buildID+" polling", func(st rollout.Status) bool {
		b := st.Find(buildID)
		return b != nil && len(b.Pollers) > 0
	})
}

// waitDeployment waits until cond holds of the deployment's status.
func waitDeployment(t *testing.T, c client.Client, ns, what string, cond func(rollout.Status) bool) {
	t.Helper()
	var last rollout.Status
	var lastErr error
	testenv.Eventually(t, time.Minute, 200*time.Millisecond, what, func() bool {
		last, lastErr = rollout.Describe(context.Background(), c, ns, rolloutDeployment)
		return lastErr == nil && cond(last)
	})
	t.Logf("%s: %+v", what, last.Builds)
}

func startRetrieval(t *testing.T, c client.Client, vault, archiveID string) client.WorkflowRun {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "restored.bin")
	// Polling is set to an hour: only the notification ends the wait.
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID(vault, archiveID), TaskQueue: workflows.TaskQueue},
		workflows.GlacierRetrieveName, workflows.GlacierRetrieveInput{Vault: vault, ArchiveID: archiveID, Tier: "Expedited", Destination: "file://" + dest,
			PollInterval: flowdata.Duration(time.Hour), Deadline: flowdata.Duration(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// waitPinned waits until the run's first workflow task has pinned it to
// the build.
func waitPinned(t *testing.T, c client.Client, run client.WorkflowRun, buildID string) {
	t.Helper()
	testenv.Eventually(t, time.Minute, 100*time.Millisecond, run.GetID()+" pinned to "+buildID, func() bool {
		d, err := c.DescribeWorkflowExecution(context.Background(), run.GetID(), run.GetRunID())
		if err != nil {
			return false
		}
		vi := d.GetWorkflowExecutionInfo().GetVersioningInfo()
		if vi.GetDeploymentVersion().GetBuildId() == "" {
			return false
		}
		if got := vi.GetDeploymentVersion().GetBuildId(); got != buildID || vi.GetBehavior() != enumspb.VERSIONING_BEHAVIOR_PINNED {
			t.Fatalf("%s runs on build %q (%v), want pinned to %s", run.GetID(), got, vi.GetBehavior(), buildID)
		}
		return true
	})
}

// checkCompletedOn waits for the run's success and checks that every
// workflow task ran on buildID, the last one after since.
func checkCompletedOn(t *testing.T, c client.Client, run client.WorkflowRun, buildID string, since time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var res workflows.GlacierRetrieveResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("%s: %v", run.GetID(), err)
	}
	if res.Bytes != 1<<20 {
		t.Errorf("%s retrieved %d bytes, want %d", run.GetID(), res.Bytes, 1<<20)
	}
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var builds []string
	var last time.Time
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetWorkflowTaskCompletedEventAttributes(); a != nil {
			builds = append(builds, a.GetDeploymentVersion().GetBuildId())
			last = ev.GetEventTime().AsTime()
		}
	}
	if len(builds) < 2 || slices.ContainsFunc(builds, func(b string) bool { return b != buildID }) {
		t.Fatalf("%s: workflow tasks ran on builds %v, want all on %s", run.GetID(), builds, buildID)
	}
	if !last.After(since) {
		t.Fatalf("%s: last workflow task at %s, before the routing change at %s", run.GetID(), last, since)
	}
}

// noRegistry drops registrations: the test's router only needs the flows'
// notification handlers.
type noRegistry struct{ worker.Registry }

func (noRegistry) RegisterWorkflowWithOptions(any, workflow.RegisterOptions) {}
func (noRegistry) RegisterActivityWithOptions(any, activity.RegisterOptions) {}

// startRouter runs a notification router with the flows' handlers on the
// queue until the test ends.
func startRouter(t *testing.T, c client.Client, aws *awsconf.Clients, queueURL string) {
	t.Helper()
	rt := router.New(aws.SQS, router.Options{Logger: testenv.TestLogger(t, slog.LevelInfo), WaitTimeSeconds: 1})
	workerapp.RegisterFlows(noRegistry{}, rt, &workerapp.Deps{Temporal: c, AWS: aws, Logger: testenv.TestLogger(t, slog.LevelInfo)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx, queueURL) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// logWriter writes the worker's log lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
