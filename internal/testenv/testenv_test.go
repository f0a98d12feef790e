package testenv_test

import (
	"context"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
)

func flaggedWorkflow(ctx workflow.Context) (string, error) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, workflows.FlowKey.ValueSet("envtest"), workflows.TargetKey.ValueSet("t")); err != nil {
		return "", err
	}
	return "ok", nil
}

func TestNewTemporalRegistersSearchAttributes(t *testing.T) {
	ts := testenv.NewTemporal(t)
	c := testenv.NewClient(t, ts)
	ctx := context.Background()

	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ts.GetDefaultNamespace()})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range workflows.SearchAttributes {
		if got := resp.GetCustomAttributes()[name]; got != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("%s is %v, want Keyword", name, got)
		}
	}

	testenv.StartWorker(t, ts, func(r worker.Registry) { r.RegisterWorkflow(flaggedWorkflow) })
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "envtest/1", TaskQueue: workflows.TaskQueue}, flaggedWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil || out != "ok" {
		t.Fatalf("result %q, %v", out, err)
	}
	testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, "the run to be visible by VigilFlow", func() bool {
		n, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Namespace: ts.GetDefaultNamespace(),
			Query:     workflows.SearchAttrFlow + " = 'envtest' AND " + workflows.SearchAttrTarget + " = 't'",
		})
		return err == nil && n.GetCount() == 1
	})
}
