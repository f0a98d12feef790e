// Package testenv provides test helpers for vigil's integration tests: an
// in-process Temporal server (temporaltest) with vigil's search attributes
// registered, clients dialled the way the worker and starter dial, workers
// on vigil's task queue, and polling with a deadline.
package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/tclient"
	"github.com/vigilops/vigil/workflows"
)

// NewTemporal starts an in-process Temporal server for t (stopped by
// t.Cleanup, after the workers and clients it created) and registers vigil's
// search attributes (workflows.SearchAttributes, as Keyword) in its
// namespace. The server's namespace is random ("temporaltest-N"); there is no
// "default" namespace.
func NewTemporal(t *testing.T) *temporaltest.TestServer {
	t.Helper()
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	if err := registerSearchAttributes(ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

// NewTemporalB is NewTemporal for benchmarks (temporaltest.WithT takes a
// *testing.T only): server logs are discarded and it is stopped when the
// benchmark ends.
func NewTemporalB(b *testing.B) *temporaltest.TestServer {
	b.Helper()
	ts := temporaltest.NewServer()
	b.Cleanup(ts.Stop)
	if err := registerSearchAttributes(ts); err != nil {
		b.Fatal(err)
	}
	return ts
}

func registerSearchAttributes(ts *temporaltest.TestServer) error {
	attrs := make(map[string]enumspb.IndexedValueType, len(workflows.SearchAttributes))
	for _, name := range workflows.SearchAttributes {
		attrs[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := ts.GetDefaultClient().OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        ts.GetDefaultNamespace(),
		SearchAttributes: attrs,
	})
	if err != nil {
		return fmt.Errorf("registering search attributes %v: %w", workflows.SearchAttributes, err)
	}
	return nil
}

// Options returns the tclient options that reach ts (address and namespace
// set, SDK logs at warn level to t.Log).
func Options(t testing.TB, ts *temporaltest.TestServer) tclient.Options {
	return tclient.Options{
		Address:   ts.GetFrontendHostPort(),
		Namespace: ts.GetDefaultNamespace(),
		Logger:    TestLogger(t, slog.LevelWarn),
		Env:       EmptyEnv{},
	}
}

// NewClient dials ts through tclient.Dial, as the worker and starter do, and
// closes the client when the test ends.
func NewClient(t testing.TB, ts *temporaltest.TestServer) client.Client {
	t.Helper()
	c, err := tclient.Dial(context.Background(), Options(t, ts))
	if err != nil {
		t.Fatalf("dialing test server: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// StartWorker starts a worker on workflows.TaskQueue that register has
// populated, and a second one on the task queue of this machine's host
// (activities.DefaultHostName), as the vigil worker does, so host-pinned
// activities run. The test server stops both when the test ends.
func StartWorker(t *testing.T, ts *temporaltest.TestServer, register func(worker.Registry)) worker.Worker {
	t.Helper()
	ts.NewWorker(workflows.HostTaskQueue(workflows.TaskQueue, activities.DefaultHostName()), register)
	return ts.NewWorker(workflows.TaskQueue, register)
}

// Eventually calls cond every tick until it returns true, failing the test
// with what when within elapses first. Use it for eventually consistent
// state such as visibility (ListWorkflow) rather than sleeping.
func Eventually(t *testing.T, within, tick time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		if cond() {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s", within, what)
		case <-ticker.C:
		}
	}
}

// EmptyEnv is an envconfig.EnvLookup with no variables, so a test's client
// ignores the developer's TEMPORAL_* environment and config file.
type EmptyEnv struct{}

// Environ returns no variables.
func (EmptyEnv) Environ() []string { return nil }

// LookupEnv reports every variable as unset except TEMPORAL_CONFIG_FILE,
// which points nowhere so that no config file is read.
func (EmptyEnv) LookupEnv(key string) (string, bool) {
	if key == "TEMPORAL_CONFIG_FILE" {
		return "/nonexistent/vigil-testenv/temporal.toml", true
	}
	return "", false
}

// TestLogger returns a slog logger that writes records at or above level to
// t.Log.
func TestLogger(t testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// LongTestsEnv names the environment variable that turns on the long
// variants of the tests (minutes each: 10,000 objects, a 40 TiB retrieval).
const LongTestsEnv = "VIGIL_LONG_TESTS"

// Long skips t, saying why and how to run it, unless LongTestsEnv is set.
func Long(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(LongTestsEnv) == "" {
		t.Skipf("%s; set %s=1 to run it", why, LongTestsEnv)
	}
}
