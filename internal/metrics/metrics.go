// Package metrics holds vigil's own Prometheus counters and serves them,
// together with the Temporal SDK's metrics, on the worker's --metrics-addr.
//
// The counters are package variables registered on Registry, so any package
// can count without plumbing:
//
//	metrics.Notifications.WithLabelValues("glacier-job", metrics.OutcomeHandled).Inc()
//	metrics.BytesTransferred.WithLabelValues("glacier").Add(float64(n))
//	metrics.SlackPosts.WithLabelValues(metrics.OutcomeFailed).Inc()
//
// Counting is cheap and always on; the numbers are only exposed when the
// worker serves them. Workflow code must not use these (they would count
// again on replay): it uses workflow.GetMetricsHandler, whose metrics also
// end up here through SDKHandler.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Outcome label values shared by the counters.
const (
	OutcomeHandled   = "handled"
	OutcomeFailed    = "failed"
	OutcomeDropped   = "dropped"
	OutcomeMalformed = "malformed"
	OutcomeOK        = "ok"
)

// Flow label values for BytesTransferred (the VigilFlow values).
const (
	FlowGlacier   = "glacier"
	FlowS3Restore = "s3restore"
)

// Registry is the registry served on /metrics: vigil's counters, the Go
// runtime and process collectors, and the SDK's metrics (SDKHandler).
var Registry = prometheus.NewRegistry()

var (
	// Notifications counts notifications the router received, by kind
	// (router.Kind, "unknown" when unparsable) and outcome (handled,
	// failed, dropped, malformed).
	Notifications = newCounterVec("vigil_notifications_total",
		"Notifications taken from the notification queues, by kind and outcome.", "kind", "outcome")
	// NotificationsReceived counts messages received per queue URL.
	NotificationsReceived = newCounterVec("vigil_notifications_received_total",
		"SQS messages received by the notification router, by queue.", "queue")
	// BytesTransferred counts bytes delivered by the flows (downloaded,
	// copied, uploaded), by flow.
	BytesTransferred = newCounterVec("vigil_bytes_transferred_total",
		"Bytes moved by the flows' transfer activities, by flow.", "flow")
	// SlackPosts counts Slack webhook posts by outcome (ok, failed).
	SlackPosts = newCounterVec("vigil_slack_posts_total",
		"Slack webhook posts, by outcome.", "outcome")
	// FlowEvents is a general counter for flow-specific events (for
	// example missed S3 events found by a reconciliation), by flow and
	// event name. Flows that land later count here rather than adding a
	// counter each.
	FlowEvents = newCounterVec("vigil_flow_events_total",
		"Flow-specific events, by flow and event.", "flow", "event")
)

// Schedule alerts are counted by the watcher workflow through
// workflow.GetMetricsHandler (replay-safe) under
// workflows.ScheduleAlertsMetric, exported as vigil_schedule_alerts_total.

func newCounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	Registry.MustRegister(c)
	return c
}

func init() {
	Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}
