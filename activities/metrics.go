package activities

import "github.com/vigilops/vigil/internal/metrics"

// Counters of the transfer loops, resolved once (they are bumped per MiB).
var (
	glacierBytes   = metrics.BytesTransferred.WithLabelValues(metrics.FlowGlacier)
	s3restoreBytes = metrics.BytesTransferred.WithLabelValues(metrics.FlowS3Restore)
)

// countSlackPost counts one Slack webhook post by its outcome.
func countSlackPost(err error) {
	outcome := metrics.OutcomeOK
	if err != nil {
		outcome = metrics.OutcomeFailed
	}
	metrics.SlackPosts.WithLabelValues(outcome).Inc()
}
