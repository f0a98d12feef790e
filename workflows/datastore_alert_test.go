package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// A Datastore run whose report is disabled still alerts once when it
// fails or passes its deadline: Datastore is not one of FailureAlerts'
// flows and its schedule's watcher leaves failures to it, so such a run
// failed silently (seen failing: 0 alerts). A run that reports, or
// succeeds, posts no alert besides its report.
func TestDatastoreDisabledReportStillAlertsOnFailure(t *testing.T) {
	for _, tc := range []struct {
		name     string
		states   []string
		disabled bool
		alerts   int
		reports  int
	}{
		{"failed, report disabled", []string{flowdata.DatastoreProcessing, flowdata.DatastoreFailed}, true, 1, 0},
		{"deadline, report disabled", []string{flowdata.DatastoreProcessing}, true, 1, 0},
		{"succeeded, report disabled", []string{flowdata.DatastoreSuccessful}, true, 0, 0},
		{"failed, report on", []string{flowdata.DatastoreFailed}, false, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newDatastoreEnv(t, tc.states...)
			var alerts []activities.SlackMessage
			f.env.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.SlackMessage) error {
				alerts = append(alerts, m)
				return nil
			}).Maybe()
			_, _ = f.export(flowdata.DatastoreExportInput{Deadline: flowdata.Duration(10 * time.Minute),
				Report: flowdata.DatastoreReport{Disabled: tc.disabled, WebhookEnv: "TEAM_SLACK"}})
			if len(alerts) != tc.alerts || len(f.reports) != tc.reports {
				t.Fatalf("%d alerts (want %d), %d reports (want %d): %+v", len(alerts), tc.alerts, len(f.reports), tc.reports, alerts)
			}
			for _, m := range alerts {
				if m.Color != activities.SlackDanger || m.WebhookEnv != "TEAM_SLACK" {
					t.Errorf("alert %+v, want a danger alert to TEAM_SLACK", m)
				}
			}
		})
	}
}
