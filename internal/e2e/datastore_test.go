package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/server/temporaltest"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/localcloud/dsemu"
	"github.com/vigilops/vigil/internal/localcloud/slacksink"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// dsStack is the Datastore flow's whole stack: Temporal, the local cloud
// (Slack sink), the Datastore Admin emulator, and a real worker with every
// flow registered, reaching both through its environment.
type dsStack struct {
	ts     *temporaltest.TestServer
	c      client.Client
	cloud  *localcloud.Cloud
	aws    *awsconf.Clients
	emu    *dsemu.Listener
	env    map[string]string
	getenv func(string) string
	// held is closed when the Slack sink holds a post to /_slack/held.
	held     chan struct{}
	holdOnce sync.Once
}

// fastPoll keeps the real-time runs short.
var fastPoll = flowdata.DatastorePollPolicy{Initial: flowdata.Duration(100 * time.Millisecond), Max: flowdata.Duration(300 * time.Millisecond)}

func newDSStack(t *testing.T) *dsStack { return newDSStackOn(t, testenv.NewTemporal(t)) }

// dsEmulatorOptions are the Datastore emulator's options in the tests: an
// export takes 1.5 s, a "slow" one an hour.
var dsEmulatorOptions = dsemu.Options{Duration: 1500 * time.Millisecond, SlowDuration: time.Hour}

// newDSStackOn builds the stack on a running Temporal test server.
func newDSStackOn(t testing.TB, ts *temporaltest.TestServer) *dsStack {
	return newDSStackWith(t, ts, dsEmulatorOptions)
}

// newDSStackWith builds the stack with the emulator's options emuOpts.
func newDSStackWith(t testing.TB, ts *temporaltest.TestServer, emuOpts dsemu.Options) *dsStack {
	s := &dsStack{ts: ts, held: make(chan struct{})}
	// The first post to /_slack/held hangs until the poster gives up (the
	// worker dies mid-post): Slack never receives it.
	var mu sync.Mutex
	heldPosts := 0
	hold := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/_slack/held" {
				mu.Lock()
				heldPosts++
				first := heldPosts == 1
				mu.Unlock()
				if first {
					s.holdOnce.Do(func() { close(s.held) })
					<-r.Context().Done()
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	s.cloud, s.aws = stacktest.Cloud(t, localcloud.Options{Wrap: hold})
	var err error
	s.emu, err = dsemu.Listen("127.0.0.1:0", emuOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.emu.Close() })
	s.env = map[string]string{
		activities.DefaultSlackWebhookEnv: s.cloud.URL() + "/_slack/T0/B0/vigil",
		"VIGIL_SECRET_HELD_WEBHOOK":       s.cloud.URL() + "/_slack/held",
		activities.DatastoreEndpointEnv:   s.emu.Addr(),
	}
	s.getenv = func(k string) string { return s.env[k] }
	s.c = testenv.NewClient(t, s.ts)
	return s
}

// reports are the sink's messages posted by the run (its footer names it).
func (s *dsStack) reports(t *testing.T, runID string) []slacksink.Payload {
	t.Helper()
	var out []slacksink.Payload
	for _, m := range s.cloud.Slack.Messages() {
		p, err := m.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Attachments) > 0 && strings.Contains(p.Attachments[0].Footer, "run "+runID) {
			out = append(out, p)
		}
	}
	return out
}

// one runs a workflow to its end and returns its result (from the error's
// details for the outcomes that fail the run) and its single report.
func (s *dsStack) one(t *testing.T, id, wfType string, in any) (flowdata.DatastoreResult, error, slacksink.Payload) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, wfType, in)
	if err != nil {
		t.Fatal(err)
	}
	var res flowdata.DatastoreResult
	runErr := run.Get(ctx, &res)
	var ae *temporal.ApplicationError
	if errors.As(runErr, &ae) {
		if err := ae.Details(&res); err != nil {
			t.Fatalf("%s: error details: %v", id, err)
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish in a minute: %v", id, runErr)
	}
	reps := s.reports(t, run.GetRunID())
	if len(reps) != 1 {
		t.Fatalf("%s: %d Slack reports, want exactly 1: %+v", id, len(reps), reps)
	}
	return res, runErr, reps[0]
}

func TestDatastoreExportReportsEveryOutcome(t *testing.T) {
	s := newDSStack(t)
	stacktest.StartWorker(t, s.ts, s.aws, s.getenv)
	paris, _ := time.LoadLocation("Europe/Paris")

	// Success: one green report, with the entity count, the output URL and
	// the times in the requested zone.
	res, err, rep := s.one(t, "ds-ok", workflows.DatastoreExportName, flowdata.DatastoreExportInput{
		Project: "demo-project", OutputURLPrefix: "gs://e2e-backups/nightly", Kinds: []string{"User"},
		Labels: map[string]string{dsemu.LabelEntities: "4242"}, Poll: fastPoll, Report: flowdata.DatastoreReport{TimeZone: "Europe/Paris"}})
	if err != nil || res.Outcome != flowdata.OutcomeSucceeded || !res.Reported {
		t.Fatalf("export: %+v, %v", res, err)
	}
	op := res.Operation
	if op.EntitiesDone != 4242 || op.OutputURL != "gs://e2e-backups/nightly/nightly.overall_export_metadata" {
		t.Errorf("operation %+v", op)
	}
	field := func(p slacksink.Payload, title string) string { v, _ := p.Field(title); return v }
	if c := rep.Attachments[0].Color; c != activities.SlackGood {
		t.Errorf("colour %q", c)
	}
	if field(rep, "Entities") != "4,242" || field(rep, "Output URL") != op.OutputURL || field(rep, "Operation") != op.Name ||
		field(rep, "Start") != op.Start.In(paris).Format("2006-01-02 15:04:05 MST") || field(rep, "End") != op.End.In(paris).Format("2006-01-02 15:04:05 MST") {
		t.Errorf("green report %+v (start %s, end %s)", rep, op.Start, op.End)
	}

	// The emulator fails the export: one red report with the gcloud hint.
	res, err, rep = s.one(t, "ds-red", workflows.DatastoreExportName, flowdata.DatastoreExportInput{
		Project: "demo-project", Bucket: "e2e-backups", Labels: map[string]string{dsemu.LabelOutcome: dsemu.OutcomeFail}, Poll: fastPoll})
	if err == nil || res.Outcome != flowdata.OutcomeFailed {
		t.Fatalf("failing export: %+v, %v", res, err)
	}
	if rep.Attachments[0].Color != activities.SlackDanger || !strings.HasPrefix(field(rep, "Hint"), "gcloud datastore operations describe "+res.Operation.Name) {
		t.Errorf("red report %+v", rep)
	}

	// A slow export past its deadline: one orange report with progress.
	res, err, rep = s.one(t, "ds-orange", workflows.DatastoreExportName, flowdata.DatastoreExportInput{
		Project: "demo-project", Bucket: "e2e-backups", Labels: map[string]string{dsemu.LabelOutcome: dsemu.OutcomeSlow},
		Poll: fastPoll, Deadline: flowdata.Duration(2 * time.Second)})
	if err == nil || res.Outcome != flowdata.OutcomeDeadline || res.Operation.Done {
		t.Fatalf("slow export: %+v, %v", res, err)
	}
	if rep.Attachments[0].Color != activities.SlackWarning || field(rep, "Progress") == "" || field(rep, "Hint") == "" {
		t.Errorf("orange report %+v", rep)
	}

	// An import of the first export runs and reports its entities.
	res, err, rep = s.one(t, "ds-import", workflows.DatastoreImportName, flowdata.DatastoreImportInput{
		Project: "demo-project", InputURL: op.OutputURL, Poll: fastPoll})
	if err != nil || res.Outcome != flowdata.OutcomeSucceeded || res.Operation.Type != "IMPORT_ENTITIES" {
		t.Fatalf("import: %+v, %v", res, err)
	}
	if rep.Attachments[0].Color != activities.SlackGood || field(rep, "Entities") != "4,242" || field(rep, "Input URL") != op.OutputURL {
		t.Errorf("import report %+v", rep)
	}
}
