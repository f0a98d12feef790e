package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/workflows"
)

// maxListLimit caps --limit.
const maxListLimit = 1000

// listOptions are the flags of `starter list`.
type listOptions struct {
	flow   string
	target string
	status string
	limit  int
	// all lists every match (no --limit).
	all bool
}

// listItem is one workflow in `starter list -o json`.
type listItem struct {
	WorkflowID string     `json:"workflowId"`
	RunID      string     `json:"runId"`
	Type       string     `json:"type"`
	Flow       string     `json:"flow,omitempty"`
	Target     string     `json:"target,omitempty"`
	Status     string     `json:"status"`
	StartTime  time.Time  `json:"startTime"`
	CloseTime  *time.Time `json:"closeTime,omitempty"`
}

func (a *app) listCommand() *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List vigil workflows, newest first",
		Long: `List vigil workflows (those with the ` + workflows.SearchAttrFlow + ` search attribute), newest first,
filtered by flow, target and status. Visibility is eventually consistent: a workflow
started a moment ago may take a second to appear.`,
		Example: `  starter list
  starter list --flow glacier --status running
  starter list --status failed --limit 5 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runList(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.flow, "flow", "", "only this flow ("+workflows.SearchAttrFlow+")")
	f.StringVar(&o.target, "target", "", "only this target ("+workflows.SearchAttrTarget+")")
	f.StringVar(&o.status, "status", "", "only this status: "+strings.Join(cli.StatusNames(), "|"))
	f.IntVar(&o.limit, "limit", 20, fmt.Sprintf("at most this many workflows (1-%d); when more match, a line on stderr says how many", maxListLimit))
	f.BoolVar(&o.all, "all", false, "list every matching workflow (no limit)")
	return cmd
}

// listQuery builds the visibility query for o; the error is a usage error.
func listQuery(o listOptions) (string, error) {
	conds := []string{}
	if o.flow != "" {
		if err := checkKeyword("--flow", o.flow); err != nil {
			return "", err
		}
		conds = append(conds, fmt.Sprintf("%s = '%s'", workflows.SearchAttrFlow, o.flow))
	} else {
		conds = append(conds, workflows.SearchAttrFlow+" IS NOT NULL")
	}
	if o.target != "" {
		if err := checkKeyword("--target", o.target); err != nil {
			return "", err
		}
		conds = append(conds, fmt.Sprintf("%s = '%s'", workflows.SearchAttrTarget, o.target))
	}
	if o.status != "" {
		st, err := cli.ParseStatus(o.status)
		if err != nil {
			return "", err
		}
		conds = append(conds, fmt.Sprintf("ExecutionStatus = '%s'", st.String()))
	}
	if o.all {
		return strings.Join(conds, " AND "), nil
	}
	if o.limit < 1 || o.limit > maxListLimit {
		return "", cli.Usagef("--limit must be between 1 and %d (got %d)", maxListLimit, o.limit)
	}
	return strings.Join(conds, " AND "), nil
}

// checkKeyword rejects values that cannot be put in a visibility query
// literal safely.
func checkKeyword(flag, v string) error {
	if strings.ContainsAny(v, "'\"\\`") || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return cli.Usagef("%s must not contain quotes, backslashes or control characters (got %q)", flag, v)
	}
	return nil
}

func (a *app) runList(ctx context.Context, o listOptions) error {
	query, err := listQuery(o)
	if err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	limit := o.limit
	if o.all {
		limit = int(^uint(0) >> 1)
	}
	var items []listItem
	var token []byte
	for len(items) < limit {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace:     a.namespace,
			PageSize:      int32(min(limit-len(items), maxListLimit)),
			NextPageToken: token,
			Query:         query,
		})
		if err != nil {
			return fmt.Errorf("listing workflows: %w", err)
		}
		for _, info := range resp.GetExecutions() {
			if len(items) < limit {
				items = append(items, toListItem(info))
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	if !o.all && len(items) == o.limit {
		a.noteTruncated(ctx, c, query, len(items))
	}

	if a.format == cli.FormatJSON {
		if items == nil {
			items = []listItem{}
		}
		return cli.WriteJSON(a.stdout, items)
	}
	if len(items) == 0 {
		fmt.Fprintln(a.stdout, "No matching workflows.")
		return nil
	}
	rows := make([][]string, len(items))
	for i, it := range items {
		rows[i] = []string{it.WorkflowID, it.Flow, it.Target, it.Status, cli.FormatTime(it.StartTime)}
	}
	return cli.WriteTable(a.stdout, []string{"ID", "FLOW", "TARGET", "STATUS", "STARTED"}, rows)
}

func toListItem(info *workflowpb.WorkflowExecutionInfo) listItem {
	it := listItem{
		WorkflowID: info.GetExecution().GetWorkflowId(),
		RunID:      info.GetExecution().GetRunId(),
		Type:       info.GetType().GetName(),
		Flow:       keyword(info.GetSearchAttributes(), workflows.SearchAttrFlow),
		Target:     keyword(info.GetSearchAttributes(), workflows.SearchAttrTarget),
		Status:     cli.StatusName(info.GetStatus()),
		StartTime:  info.GetStartTime().AsTime(),
	}
	if info.GetCloseTime() != nil {
		t := info.GetCloseTime().AsTime()
		it.CloseTime = &t
	}
	return it
}

// noteTruncated says on stderr (stdout stays the table or the JSON array)
// that a list stopped at its limit, with how many match in all.
func (a *app) noteTruncated(ctx context.Context, c client.Client, query string, shown int) {
	resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: a.namespace, Query: query})
	switch {
	case err != nil:
		fmt.Fprintf(a.stderr, "%d shown, perhaps more match; --limit N or --all\n", shown)
	case resp.GetCount() > int64(shown):
		fmt.Fprintf(a.stderr, "%d of %d shown; --limit N or --all\n", shown, resp.GetCount())
	}
}
