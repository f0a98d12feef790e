package workflows

import "github.com/vigilops/vigil/workflows/flowdata"

// glacierTypical is how long a Glacier job of tier usually takes (AWS's
// published figures).
func glacierTypical(tier string) string {
	switch tier {
	case flowdata.TierExpedited:
		return "Expedited tier: typically 1-5 minutes"
	case flowdata.TierBulk:
		return "Bulk tier: typically 5-12 hours"
	default:
		return "Standard tier: typically 3-5 hours"
	}
}

// s3RestoreTypical is how long an S3 restore of tier usually takes (AWS's
// published figures; Deep Archive is slower and has no Expedited tier).
func s3RestoreTypical(tier string) string {
	switch tier {
	case flowdata.TierExpedited:
		return "Expedited tier: typically 1-5 minutes (Glacier Flexible Retrieval only)"
	case flowdata.TierBulk:
		return "Bulk tier: typically 5-12 hours (Deep Archive: within 48 hours)"
	default:
		return "Standard tier: typically 3-5 hours (Deep Archive: within 12 hours)"
	}
}
