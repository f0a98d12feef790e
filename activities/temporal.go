package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// Temporal holds activities that read the Temporal server itself (schedule
// watching).
type Temporal struct {
	Client client.Client
}

// ScheduleCheckInput names the schedule to check.
type ScheduleCheckInput struct {
	ScheduleID string `json:"scheduleId"`
	// Since limits RecentRuns to runs started after it.
	Since time.Time `json:"since"`
}

// ScheduledRun is a recent run of a schedule.
type ScheduledRun struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	// WorkflowType is the run's workflow type name (empty in results
	// recorded before it was added).
	WorkflowType  string    `json:"workflowType,omitempty"`
	ScheduledTime time.Time `json:"scheduledTime"`
	ActualTime    time.Time `json:"actualTime"`
	// Status is the run's status name (Running, Completed, Failed, ...).
	Status string `json:"status"`
	// Failure is the failure message of a failed run.
	Failure string `json:"failure,omitempty"`
}

// ScheduleCheck is what CheckSchedule saw.
type ScheduleCheck struct {
	// Exists is false once the schedule was deleted.
	Exists bool `json:"exists"`
	Paused bool `json:"paused"`
	// Counters from the schedule's info.
	Actions        int `json:"actions"`
	SkippedOverlap int `json:"skippedOverlap"`
	MissedCatchup  int `json:"missedCatchup"`
	// RecentRuns started after Since, oldest first.
	RecentRuns []ScheduledRun `json:"recentRuns,omitempty"`
}

// CheckSchedule describes a schedule and its recent runs.
func (a *Temporal) CheckSchedule(ctx context.Context, in ScheduleCheckInput) (ScheduleCheck, error) {
	desc, err := a.Client.ScheduleClient().GetHandle(ctx, in.ScheduleID).Describe(ctx)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return ScheduleCheck{}, nil
	}
	if err != nil {
		return ScheduleCheck{}, err
	}
	out := ScheduleCheck{
		Exists:         true,
		Paused:         desc.Schedule.State != nil && desc.Schedule.State.Paused,
		Actions:        desc.Info.NumActions,
		SkippedOverlap: desc.Info.NumActionsSkippedOverlap,
		MissedCatchup:  desc.Info.NumActionsMissedCatchupWindow,
	}
	for _, ra := range desc.Info.RecentActions {
		if !ra.ActualTime.After(in.Since) || ra.StartWorkflowResult == nil {
			continue
		}
		run := ScheduledRun{WorkflowID: ra.StartWorkflowResult.WorkflowID, RunID: ra.StartWorkflowResult.FirstExecutionRunID,
			ScheduledTime: ra.ScheduleTime, ActualTime: ra.ActualTime}
		wd, err := a.Client.DescribeWorkflowExecution(ctx, run.WorkflowID, run.RunID)
		if err != nil {
			return ScheduleCheck{}, err
		}
		run.Status = wd.WorkflowExecutionInfo.GetStatus().String()
		run.WorkflowType = wd.WorkflowExecutionInfo.GetType().GetName()
		if run.Status != "Running" && run.Status != "Completed" && run.Status != "ContinuedAsNew" {
			if werr := a.Client.GetWorkflow(ctx, run.WorkflowID, run.RunID).Get(ctx, nil); werr != nil {
				run.Failure = innermost(werr)
			}
		}
		out.RecentRuns = append(out.RecentRuns, run)
	}
	return out, nil
}

// innermost returns the message of the deepest wrapped error.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
