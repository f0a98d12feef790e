package workerapp

import (
	"log/slog"
	"slices"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/workflows"
)

// pinnedElsewhere holds names pinned by a flow's own names_<flow>_test.go;
// TestRegisteredNames leaves them out.
var pinnedElsewhere = map[string]bool{}

// nameRecorder is a worker.Registry that keeps the names it is given.
type nameRecorder struct {
	worker.Registry       // the methods vigil never calls (they would panic)
	workflows, activities []string
	implicit              int
}

func (n *nameRecorder) RegisterWorkflow(any) { n.implicit++ }
func (n *nameRecorder) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	n.workflows = append(n.workflows, o.Name)
}
func (n *nameRecorder) RegisterActivity(any) { n.implicit++ }
func (n *nameRecorder) RegisterActivityWithOptions(_ any, o activity.RegisterOptions) {
	n.activities = append(n.activities, o.Name)
}

// TestRegisteredNames pins every registered workflow type and activity
// name: they are what schedules, running workflows and recorded histories
// refer to, so a Go rename must not change them, and nothing may be
// registered under a name derived from a Go identifier.
func TestRegisteredNames(t *testing.T) {
	rec := &nameRecorder{}
	d := &Deps{AWS: &awsconf.Clients{}, Logger: slog.Default()}
	RegisterFlows(rec, router.New(nil, router.Options{}), d)
	if rec.implicit != 0 {
		t.Fatalf("%d registrations without an explicit name", rec.implicit)
	}
	wantWF := []string{workflows.BatchJobName, workflows.GlacierRetrieveName, workflows.RouterQueuesName,
		workflows.S3RestoreName, workflows.ScheduleWatchName, workflows.SelfCheckName}
	// The literal values are the contract with running workflows.
	literal := []string{"BatchJobWorkflow", "GlacierRetrieveWorkflow", "RouterQueuesWorkflow",
		"S3RestoreWorkflow", "ScheduleWatchWorkflow", "SelfCheckWorkflow"}
	if !slices.Equal(wantWF, literal) {
		t.Fatalf("workflow name constants changed: %v, want %v", wantWF, literal)
	}
	rec.workflows = slices.DeleteFunc(rec.workflows, func(n string) bool { return pinnedElsewhere[n] })
	slices.Sort(rec.workflows)
	if !slices.Equal(rec.workflows, wantWF) {
		t.Errorf("registered workflows %v, want %v", rec.workflows, wantWF)
	}
	wantAct := []string{activities.AbortDestinationName, activities.HTTPCallName, activities.CheckScheduleName,
		activities.DeliverObjectName, activities.DescribeJobName, activities.DownloadRangeName,
		activities.FinishDestinationName, activities.HeadRestoreName, activities.InitiateJobName,
		activities.SlackNotifyName, activities.PrepareDestinationName, activities.ProbeName,
		activities.PutJobObjectName, activities.RestoreObjectName, activities.RunCommandName,
		activities.SendJobMessageName}
	literalAct := []string{"AbortDestination", "Call", "CheckSchedule", "DeliverObject", "DescribeJob", "DownloadRange",
		"FinishDestination", "HeadRestore", "InitiateJob", "Notify", "PrepareDestination", "Probe", "PutJobObject",
		"RestoreObject", "RunCommand", "SendJobMessage"}
	if !slices.Equal(wantAct, literalAct) {
		t.Fatalf("activity name constants changed: %v, want %v", wantAct, literalAct)
	}
	rec.activities = slices.DeleteFunc(rec.activities, func(n string) bool { return pinnedElsewhere[n] })
	slices.Sort(rec.activities)
	if !slices.Equal(rec.activities, wantAct) {
		t.Errorf("registered activities %v, want %v", rec.activities, wantAct)
	}
}
