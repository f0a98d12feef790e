package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/vigilops/vigil/internal/localcloud/slacksink"
	"github.com/vigilops/vigil/workflows"
)

// secretScan looks for planted secrets in what a server and a sink keep:
// raw records (binary protobuf and JSON) and decoded payloads.
type secretScan struct {
	t       *testing.T
	secrets []string
	// dc and fc decode payloads and failures as the worker's client does
	// (the payload codec on).
	dc converter.DataConverter
	fc converter.FailureConverter
}

// check fails the test for every secret in b.
func (s *secretScan) check(where string, b []byte) {
	s.t.Helper()
	for _, sec := range s.secrets {
		if i := bytes.Index(b, []byte(sec)); i >= 0 {
			s.t.Errorf("secret %q in %s: …%s…", sec, where, b[max(0, i-120):min(len(b), i+40)])
		}
	}
}

// decode is a payload's value as JSON (nil for none).
func (s *secretScan) decode(p *commonpb.Payload) []byte {
	s.t.Helper()
	if p == nil {
		return nil
	}
	var v any
	if err := s.dc.FromPayload(p, &v); err != nil {
		s.t.Errorf("decoding a payload: %v", err)
	}
	b, _ := json.Marshal(v)
	return b
}

// searchAttributes checks search attributes as stored (protojson shows
// their payloads' data base64-encoded) and decoded: each payload's data,
// and its value as the default converter reads it.
func (s *secretScan) searchAttributes(where string, sa *commonpb.SearchAttributes) {
	s.t.Helper()
	js, _ := protojson.Marshal(sa)
	s.check(where, js)
	for k, p := range sa.GetIndexedFields() {
		s.check(where+" ("+k+")", p.GetData())
		var v any
		if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err != nil {
			s.t.Errorf("decoding search attribute %s of %s: %v", k, where, err)
		}
		b, _ := json.Marshal(v)
		s.check(where+" ("+k+", decoded)", b)
	}
}

// executions scans every workflow execution of the namespace: its ID,
// search attributes, memo, static summary and details, its status query
// (current details), and every history event (raw, its summary, its
// failure message decoded). It returns how many executions it scanned and
// how many answered the status query.
func (s *secretScan) executions(ctx context.Context, c client.Client, ns string) (scanned, queried int) {
	s.t.Helper()
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns, PageSize: 1000})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, ex := range resp.GetExecutions() {
		id, runID := ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId()
		s.check("the workflow ID "+id, []byte(id))
		s.searchAttributes("the search attributes of "+id, ex.GetSearchAttributes())
		for k, p := range ex.GetMemo().GetFields() {
			s.check("memo "+k+" of "+id, s.decode(p))
		}
		d, err := c.DescribeWorkflowExecution(ctx, id, runID)
		if err != nil {
			s.t.Fatal(err)
		}
		md := d.GetExecutionConfig().GetUserMetadata()
		s.check("the static summary of "+id, s.decode(md.GetSummary()))
		s.check("the static details of "+id, s.decode(md.GetDetails()))
		if v, err := c.QueryWorkflow(ctx, id, runID, workflows.StatusQuery); err == nil {
			var st workflows.Status
			if err := v.Get(&st); err == nil {
				b, _ := json.Marshal(st)
				s.check("the status (current details) of "+id, append(b, st.CurrentDetails()...))
				queried++
			}
		}
		s.history(ctx, c, id, runID)
		scanned++
	}
	return scanned, queried
}

// history scans one run's events.
func (s *secretScan) history(ctx context.Context, c client.Client, id, runID string) {
	s.t.Helper()
	hist := c.GetWorkflowHistory(ctx, id, runID, false, 0)
	for hist.HasNext() {
		ev, err := hist.Next()
		if err != nil {
			s.t.Fatal(err)
		}
		where := fmt.Sprintf("the history of %s, event %d (%s)", id, ev.GetEventId(), ev.GetEventType())
		bin, _ := proto.Marshal(ev)
		js, _ := protojson.Marshal(ev)
		s.check(where, bin)
		s.check(where, js)
		s.check("the summary of "+where, s.decode(ev.GetUserMetadata().GetSummary()))
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			s.searchAttributes("the search attributes of "+where, a.GetSearchAttributes())
		}
		if a := ev.GetUpsertWorkflowSearchAttributesEventAttributes(); a != nil {
			s.searchAttributes("the search attributes of "+where, a.GetSearchAttributes())
		}
		for _, f := range []*failurepb.Failure{ev.GetActivityTaskFailedEventAttributes().GetFailure(), ev.GetWorkflowExecutionFailedEventAttributes().GetFailure(),
			ev.GetChildWorkflowExecutionFailedEventAttributes().GetFailure(), ev.GetWorkflowTaskFailedEventAttributes().GetFailure()} {
			if f != nil {
				s.check("the failure message of "+where, []byte(s.fc.FailureToError(f).Error()))
			}
		}
	}
}

// schedule scans a schedule as the server keeps it (raw) and its action's
// summary, details and memo decoded.
func (s *secretScan) schedule(ctx context.Context, c client.Client, ns, id string) {
	s.t.Helper()
	raw, err := c.WorkflowService().DescribeSchedule(ctx, &workflowservice.DescribeScheduleRequest{Namespace: ns, ScheduleId: id})
	if err != nil {
		s.t.Fatal(err)
	}
	bin, _ := proto.Marshal(raw)
	js, _ := protojson.Marshal(raw)
	s.check("the schedule "+id, bin)
	s.check("the schedule "+id, js)
	s.searchAttributes("the search attributes of the schedule "+id, raw.GetSearchAttributes())
	act := raw.GetSchedule().GetAction().GetStartWorkflow()
	s.check("the action summary of the schedule "+id, s.decode(act.GetUserMetadata().GetSummary()))
	s.check("the action details of the schedule "+id, s.decode(act.GetUserMetadata().GetDetails()))
	for k, p := range act.GetMemo().GetFields() {
		s.check("the action memo "+k+" of the schedule "+id, s.decode(p))
	}
}

// slack scans the messages a Slack sink received (their payloads: the
// path is the webhook URL, the secret itself).
func (s *secretScan) slack(msgs []slacksink.Message) {
	s.t.Helper()
	for i, m := range msgs {
		s.check(fmt.Sprintf("Slack message %d", i), m.Payload)
	}
}
