package router

import (
	"errors"
	"log/slog"
	"strings"
	"time"
)

// Kind says what a notification is about; handlers are registered per Kind.
type Kind string

// The kinds of notification the router recognises.
const (
	// KindGlacierJob is a Glacier vault job (archive or inventory retrieval)
	// that finished; Notification.Glacier is set.
	KindGlacierJob Kind = "glacier-job"
	// KindS3Event is one or more S3 event records (ObjectCreated:*,
	// ObjectRestore:*, ...); Notification.S3 holds at least one record.
	KindS3Event Kind = "s3-event"
	// KindS3TestEvent is the s3:TestEvent S3 sends when a bucket notification
	// configuration is saved; Notification.S3Test is set.
	KindS3TestEvent Kind = "s3-test-event"
)

// Where a notification's payload was found in the SQS message body.
const (
	// SourceSNS means the body was an SNS envelope and the payload was its
	// Message string.
	SourceSNS = "sns"
	// SourceRaw means the body was the payload itself (SNS raw message
	// delivery, or S3 writing straight to SQS).
	SourceRaw = "raw"
)

// Errors returned by Parse. Both are wrapped with a description of what was
// wrong; test with errors.Is.
var (
	// ErrMalformed means the body (or an SNS envelope's Message) is not
	// valid JSON of the expected types, or a recognised notification lacks a
	// field it cannot do without.
	ErrMalformed = errors.New("malformed notification")
	// ErrUnrecognized means the body is well-formed JSON of a shape the
	// router does not know (e.g. an SNS SubscriptionConfirmation).
	ErrUnrecognized = errors.New("unrecognized notification")
)

// Notification is a parsed SQS message body.
type Notification struct {
	// Kind says which of Glacier, S3 and S3Test is set.
	Kind Kind
	// Glacier is the job description for KindGlacierJob.
	Glacier *GlacierJob
	// S3 holds the event records for KindS3Event, in message order (at
	// least one).
	S3 []S3Record
	// S3Test is the test event for KindS3TestEvent.
	S3Test *S3TestEvent
	// Source is SourceSNS or SourceRaw.
	Source string
	// TopicARN is the SNS topic the envelope came from ("" for SourceRaw).
	TopicARN string
}

// GlacierJob is the job description that Glacier publishes to a vault's SNS
// topic when a job completes (the same fields DescribeJob returns). Fields
// that are null in the message are left at their zero value.
type GlacierJob struct {
	// Action is "ArchiveRetrieval", "InventoryRetrieval" or "Select".
	Action string
	// JobID is Glacier's job id.
	JobID string
	// JobDescription is the description given at InitiateJob; vigil sets it
	// to the waiting workflow's ID. Empty for jobs started without one.
	JobDescription string
	// StatusCode is "Succeeded", "Failed" or "InProgress".
	StatusCode string
	// StatusMessage is Glacier's human-readable status.
	StatusMessage string
	// Completed reports whether the job has finished.
	Completed bool
	// CreationDate is when the job was initiated.
	CreationDate time.Time
	// CompletionDate is when the job finished (zero if not finished).
	CompletionDate time.Time
	// VaultARN is the vault's ARN (…:vaults/<name>).
	VaultARN string
	// ArchiveID is the retrieved archive (archive retrievals only).
	ArchiveID string
	// ArchiveSizeInBytes is the archive's size (archive retrievals only).
	ArchiveSizeInBytes int64
	// ArchiveSHA256TreeHash is the tree hash of the whole archive.
	ArchiveSHA256TreeHash string
	// InventorySizeInBytes is the inventory's size (inventory retrievals only).
	InventorySizeInBytes int64
	// SHA256TreeHash is the tree hash of the retrieved range.
	SHA256TreeHash string
	// RetrievalByteRange is the retrieved range, e.g. "0-1048575".
	RetrievalByteRange string
	// Tier is "Expedited", "Standard" or "Bulk".
	Tier string
	// SNSTopic is the topic the notification was published to.
	SNSTopic string
}

// VaultName returns the vault's name, taken from VaultARN ("" if VaultARN has
// no "vaults/" part).
func (j *GlacierJob) VaultName() string {
	_, name, ok := strings.Cut(j.VaultARN, ":vaults/")
	if !ok {
		return ""
	}
	return name
}

// Succeeded reports whether the job completed successfully, i.e. its output
// can be downloaded.
func (j *GlacierJob) Succeeded() bool {
	return j.Completed && j.StatusCode == "Succeeded"
}

// S3Record is one record of an S3 event notification.
type S3Record struct {
	// EventName is the event without the "s3:" prefix, as S3 sends it, e.g.
	// "ObjectCreated:Put" or "ObjectRestore:Completed".
	EventName string
	// EventTime is when the event happened.
	EventTime time.Time
	// Region is the bucket's region (awsRegion).
	Region string
	// Bucket is the bucket name; never empty.
	Bucket string
	// Key is the object key, URL-decoded ('+' is a space, then %XX escapes).
	Key string
	// Size is the object's size in bytes (0 for events that carry none).
	Size int64
	// ETag is the object's ETag without quotes, as S3 sends it.
	ETag string
	// VersionID is the object version, for versioned buckets.
	VersionID string
	// Sequencer orders events for the same key: a greater hex value (compare
	// after left-padding to equal length) is a later event.
	Sequencer string
	// ConfigurationID is the bucket notification configuration's id.
	ConfigurationID string
	// RestoreExpiryTime is when a restored copy expires (ObjectRestore
	// events only; zero otherwise).
	RestoreExpiryTime time.Time
	// RestoreStorageClass is the restored object's storage class, e.g.
	// "GLACIER" or "DEEP_ARCHIVE" (ObjectRestore events only).
	RestoreStorageClass string
}

// S3TestEvent is the s3:TestEvent that S3 sends when notifications are
// configured on a bucket.
type S3TestEvent struct {
	// Bucket is the bucket whose configuration was saved.
	Bucket string
	// Time is when S3 sent the event.
	Time time.Time
	// RequestID is S3's request id.
	RequestID string
}

// LogValue implements slog.LogValuer: the kind, the source and what the
// notification is about (for S3 events, the first record and the count).
func (n Notification) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", string(n.Kind)), slog.String("source", n.Source)}
	switch {
	case n.Glacier != nil:
		attrs = append(attrs,
			slog.String("job_id", n.Glacier.JobID),
			slog.String("job_description", n.Glacier.JobDescription),
			slog.String("status", n.Glacier.StatusCode))
	case n.S3Test != nil:
		attrs = append(attrs, slog.String("bucket", n.S3Test.Bucket))
	case len(n.S3) > 0:
		attrs = append(attrs,
			slog.String("event", n.S3[0].EventName),
			slog.String("bucket", n.S3[0].Bucket),
			slog.String("key", n.S3[0].Key),
			slog.Int("records", len(n.S3)))
	}
	return slog.GroupValue(attrs...)
}
