package flowdata

// Glacier retrieval tiers.
const (
	TierExpedited = "Expedited"
	TierStandard  = "Standard"
	TierBulk      = "Bulk"
)

// Tiers lists the valid retrieval tiers.
var Tiers = []string{TierExpedited, TierStandard, TierBulk}

// GlacierJob identifies a Glacier job and what it retrieves.
type GlacierJob struct {
	// AccountID is "-" for the credentials' own account.
	AccountID string `json:"accountId"`
	Vault     string `json:"vault"`
	// JobID is set once the job is initiated.
	JobID string `json:"jobId,omitempty"`
}

// GlacierJobState is what DescribeJob or a notification says of a job.
type GlacierJobState struct {
	JobID string `json:"jobId"`
	// StatusCode is InProgress, Succeeded or Failed.
	StatusCode    string `json:"statusCode"`
	StatusMessage string `json:"statusMessage,omitempty"`
	Completed     bool   `json:"completed"`
	// CompletionDate as Glacier writes it (RFC 3339).
	CompletionDate string `json:"completionDate,omitempty"`
	// Size of the output: the archive, the range or the inventory.
	OutputSize int64 `json:"outputSize"`
	// TreeHash of the output, when Glacier gives one (not for inventories).
	TreeHash string `json:"treeHash,omitempty"`
	// Description is the JobDescription (vigil puts the workflow ID there).
	Description string `json:"description,omitempty"`
	// Source is "notification" or "poll".
	Source string `json:"source,omitempty"`
}

// Succeeded reports whether the job completed successfully.
func (s GlacierJobState) Succeeded() bool { return s.Completed && s.StatusCode == "Succeeded" }

// ByteRange is an inclusive range of bytes.
type ByteRange struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// Len is the number of bytes in the range.
func (r ByteRange) Len() int64 { return r.End - r.Start + 1 }
