package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/localcloud/slacksink"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// The R1 tests of issue 13 for the Datastore export: a separately started
// worker process is SIGKILLed mid-poll and while its Slack report is in
// flight, then another is started. The run finishes with one export
// operation and one report.

// dsProcesses starts lean worker processes against the stack, with its
// environment (webhooks, the emulator's address).
func dsProcesses(ctx context.Context, t *testing.T, s *dsStack) func() *benchkit.WorkerProcess {
	t.Helper()
	var env []string
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	return workerProcesses(ctx, t, s.ts, s.c, s.cloud.URL(), env)
}

// exportOperations counts the project's export operations, asked of the
// emulator over the long-running operations API as any client would.
func exportOperations(ctx context.Context, t *testing.T, s *dsStack, project string) int {
	t.Helper()
	conn, err := grpc.NewClient(s.emu.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	out, err := longrunningpb.NewOperationsClient(conn).ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "projects/" + project})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.GetOperations())
}

// dsPolls is the run's poll count from its status query, -1 before the
// first poll or when the query fails.
func dsPolls(ctx context.Context, s *dsStack, id string) int {
	v, err := s.c.QueryWorkflow(ctx, id, "", workflows.StatusQuery)
	if err != nil {
		return -1
	}
	var st workflows.Status
	if v.Get(&st) != nil {
		return -1
	}
	n, err := strconv.Atoi(st.Details["polls"])
	if err != nil {
		return -1
	}
	return n
}

// TestDatastoreWorkerProcessKilledMidPoll kills the worker after the run
// has polled the export twice (the export takes 8 s); the next worker
// goes on polling the same operation: no second export, one report.
func TestDatastoreWorkerProcessKilledMidPoll(t *testing.T) {
	opts := dsEmulatorOptions
	opts.Duration = 8 * time.Second
	s := newDSStackWith(t, testenv.NewTemporal(t), opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := dsProcesses(ctx, t, s)
	first := start()
	const id, project = "ds-kill-poll", "demo-project"
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, workflows.DatastoreExportName,
		flowdata.DatastoreExportInput{Project: project, OutputURLPrefix: "gs://e2e-backups/kill-poll", Poll: fastPoll})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, 50*time.Millisecond, "two polls", func() bool { return dsPolls(ctx, s, id) >= 2 })
	atKill := dsPolls(ctx, s, id)
	first.Kill()
	start()
	var res flowdata.DatastoreResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("export after the kill: %v", err)
	}
	if res.Outcome != flowdata.OutcomeSucceeded || !res.Reported {
		t.Fatalf("result %+v", res)
	}
	if res.Polls <= atKill {
		t.Errorf("%d polls in all, %d at the kill: the new worker did not poll", res.Polls, atKill)
	}
	if n := exportOperations(ctx, t, s, project); n != 1 {
		t.Errorf("%d export operations, want 1", n)
	}
	if n := len(s.reports(t, run.GetRunID())); n != 1 {
		t.Errorf("%d Slack reports, want 1", n)
	}
}

// TestDatastoreWorkerProcessKilledDuringTheReport kills the worker while
// Slack holds its report post (Slack never receives it); the next worker
// posts it, and Slack holds exactly one.
func TestDatastoreWorkerProcessKilledDuringTheReport(t *testing.T) {
	s := newDSStackWith(t, testenv.NewTemporal(t), dsEmulatorOptions)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := dsProcesses(ctx, t, s)
	first := start()
	const project = "demo-project"
	run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "ds-kill-report", TaskQueue: workflows.TaskQueue}, workflows.DatastoreExportName,
		flowdata.DatastoreExportInput{Project: project, OutputURLPrefix: "gs://e2e-backups/kill-report", Poll: fastPoll,
			Report: flowdata.DatastoreReport{WebhookEnv: "VIGIL_SECRET_HELD_WEBHOOK"}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.held:
	case <-ctx.Done():
		t.Fatal("the report was never posted")
	}
	first.Kill()
	start()
	var res flowdata.DatastoreResult
	if err := run.Get(ctx, &res); err != nil || res.Outcome != flowdata.OutcomeSucceeded || !res.Reported {
		t.Fatalf("after the kill: %+v, %v", res, err)
	}
	var held []slacksink.Message
	for _, m := range s.cloud.Slack.Messages() {
		if m.Path == "/_slack/held" {
			held = append(held, m)
		}
	}
	if len(held) != 1 {
		t.Fatalf("%d reports reached Slack, want exactly 1", len(held))
	}
	if p, err := held[0].Decode(); err != nil || len(p.Attachments) == 0 || !strings.Contains(p.Attachments[0].Footer, run.GetRunID()) {
		t.Errorf("report %+v (%v) is not this run's", p, err)
	}
	if n := exportOperations(ctx, t, s, project); n != 1 {
		t.Errorf("%d export operations, want 1", n)
	}
}
