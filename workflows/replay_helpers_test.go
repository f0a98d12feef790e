package workflows

import (
	"context"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"
)

func getHistoryRequest(ns string, run client.WorkflowRun) *workflowservice.GetWorkflowExecutionHistoryRequest {
	return &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace: ns,
		Execution: &commonpb.WorkflowExecution{WorkflowId: run.GetID(), RunId: run.GetRunID()},
	}
}

// fullHistory reads every page of a run's history (a long run's history,
// like a wait's that continues as new, spans several pages).
func fullHistory(ctx context.Context, c client.Client, req *workflowservice.GetWorkflowExecutionHistoryRequest) (*workflowservice.GetWorkflowExecutionHistoryResponse, error) {
	var all *workflowservice.GetWorkflowExecutionHistoryResponse
	for {
		page, err := c.WorkflowService().GetWorkflowExecutionHistory(ctx, req)
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = page
		} else {
			all.History.Events = append(all.History.Events, page.History.GetEvents()...)
		}
		if len(page.NextPageToken) == 0 {
			return all, nil
		}
		req.NextPageToken = page.NextPageToken
	}
}

func registerSearchAttributes(t *testing.T, ts *temporaltest.TestServer) {
	sa := map[string]enumspb.IndexedValueType{}
	for _, n := range SearchAttributes {
		sa[n] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	_, err := ts.GetDefaultClient().OperatorService().AddSearchAttributes(context.Background(),
		&operatorservice.AddSearchAttributesRequest{Namespace: ts.GetDefaultNamespace(), SearchAttributes: sa})
	if err != nil {
		t.Fatal(err)
	}
}
