package flowdata

import (
	"fmt"
	"strings"
)

// Processor kinds a pipeline can name. Other kinds are Go processors
// registered with activities.RegisterProcessor.
const (
	ProcessorHTTP = "http"
	ProcessorExec = "exec"
	ProcessorCopy = "copy"
	ProcessorNone = "none"
)

// Body modes of an http processor.
const (
	HTTPBodyObject       = "object"
	HTTPBodyPresignedURL = "presigned-url"
)

// Default archive and dead-letter prefixes (in the object's bucket).
const (
	DefaultArchivePrefix    = "bak/"
	DefaultDeadLetterPrefix = "failed/"
)

// Pipeline says what happens to each object that lands under a bound
// prefix: a processor, then an archive copy (or a dead-letter copy on
// permanent failure). The starter reads it from a YAML or JSON file (same
// keys) and validates it; see internal/pipeline.
type Pipeline struct {
	// Name identifies the pipeline in alerts and bindings.
	Name string `json:"name" yaml:"name"`
	// Processor processes one object.
	Processor Processor `json:"processor" yaml:"processor"`
	// Archive is where processed objects go; nil means bak/ in the
	// object's bucket.
	Archive *S3Location `json:"archive,omitempty" yaml:"archive,omitempty"`
	// DeadLetter is where objects go whose processing failed for good; nil
	// means failed/ in the object's bucket.
	DeadLetter *S3Location `json:"deadLetter,omitempty" yaml:"deadLetter,omitempty"`
	// Retry is the processor's retry policy; nil uses the BatchJob defaults
	// (10s, x2, 10m cap, 5 attempts).
	Retry *JobRetry `json:"retry,omitempty" yaml:"retry,omitempty"`
	// NotifyOnFailure names the worker env var holding the Slack webhook
	// for dead-letter alerts; empty uses VIGIL_SLACK_WEBHOOK_URL.
	NotifyOnFailure string `json:"notifyOnFailure,omitempty" yaml:"notifyOnFailure,omitempty"`
	// TaskQueue routes the pipeline's S3Object runs to this task queue (a
	// separate worker pool, which can scale from zero); empty is the queue
	// of whoever starts them.
	TaskQueue string `json:"taskQueue,omitempty" yaml:"taskQueue,omitempty"`
}

// Processor is one processor: a kind and the section of that kind.
type Processor struct {
	// Kind is http, exec, copy, none, or a registered Go processor.
	Kind string `json:"kind" yaml:"kind"`
	// HTTP posts the object (kind http).
	HTTP *HTTPProcessor `json:"http,omitempty" yaml:"http,omitempty"`
	// Exec runs a command on a local copy (kind exec).
	Exec *ExecJob `json:"exec,omitempty" yaml:"exec,omitempty"`
	// Copy copies the object elsewhere (kind copy).
	Copy *S3Location `json:"copy,omitempty" yaml:"copy,omitempty"`
	// Options are free-form settings of a Go processor.
	Options map[string]string `json:"options,omitempty" yaml:"options,omitempty"`
}

// HTTPProcessor sends an object to an endpoint. Secrets are named by env
// var and read by the worker.
type HTTPProcessor struct {
	// URL is an http(s) URL; it may use the object templates.
	URL string `json:"url" yaml:"url"`
	// Method defaults to POST.
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	// Body is "object" (the object's bytes, streamed; default) or
	// "presigned-url" (a JSON document with a presigned GET URL).
	Body string `json:"body,omitempty" yaml:"body,omitempty"`
	// Headers are sent as they are (no secrets here).
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	// BearerTokenEnv names the env var holding a bearer token.
	BearerTokenEnv string `json:"bearerTokenEnv,omitempty" yaml:"bearerTokenEnv,omitempty"`
	// BasicAuth sends a user and a password read from an env var.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty" yaml:"basicAuth,omitempty"`
	// Timeout bounds one attempt; 0 means 5m.
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// S3Location is a bucket (empty: the object's own) and a key prefix.
type S3Location struct {
	// Bucket; empty means the object's own.
	Bucket string `json:"bucket,omitempty" yaml:"bucket,omitempty"`
	// Prefix put before the object's key.
	Prefix string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
}

// Resolve returns the location's bucket (defaulting to bucket) and the key
// of key in it.
func (l *S3Location) Resolve(bucket, key, defaultPrefix string) (string, string) {
	if l == nil {
		return bucket, defaultPrefix + key
	}
	b := l.Bucket
	if b == "" {
		b = bucket
	}
	return b, l.Prefix + key
}

// ExcludedPrefixes are the prefixes of bucket that hold the pipeline's own
// output (archive, dead letter, copy destination) and must never be
// processed as input.
func (p Pipeline) ExcludedPrefixes(bucket string) []string {
	var out []string
	add := func(l *S3Location, def string) {
		b, pre := l.Resolve(bucket, "", def)
		if b == bucket && pre != "" {
			out = append(out, pre)
		}
	}
	add(p.Archive, DefaultArchivePrefix)
	add(p.DeadLetter, DefaultDeadLetterPrefix)
	if p.Processor.Kind == ProcessorCopy && p.Processor.Copy != nil {
		add(p.Processor.Copy, "")
	}
	return out
}

// Excludes reports whether key lies under one of the pipeline's output
// prefixes in bucket.
func (p Pipeline) Excludes(bucket, key string) bool {
	for _, pre := range p.ExcludedPrefixes(bucket) {
		if strings.HasPrefix(key, pre) {
			return true
		}
	}
	return false
}

// S3ObjectRef names one version of an object.
type S3ObjectRef struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// ETag without quotes.
	ETag string `json:"etag"`
	// VersionID when the bucket is versioned.
	VersionID string `json:"versionId,omitempty"`
	// Size in bytes, when known.
	Size int64 `json:"size,omitempty"`
}

// S3ObjectWorkflowID is the ID of the S3Object run of one object version:
// events, duplicates and sweeps of the same version converge on it. The
// key is kept as it is except for bytes outside printable ASCII and '%',
// which are percent-encoded (Temporal carries the ID in a gRPC header that
// must be printable ASCII), so distinct keys keep distinct IDs.
func S3ObjectWorkflowID(bucket, key, etag string) string {
	return "s3obj/" + bucket + "/" + escapeIDKey(key) + "@" + strings.Trim(etag, `"`)
}

func escapeIDKey(key string) string {
	var b strings.Builder
	for _, c := range []byte(key) {
		if c < 0x20 || c >= 0x7f || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// S3Binding binds a bucket and key prefix to a pipeline.
type S3Binding struct {
	Bucket   string   `json:"bucket"`
	Prefix   string   `json:"prefix"`
	Pipeline Pipeline `json:"pipeline"`
}

// Matches reports whether the binding covers key in bucket.
func (b S3Binding) Matches(bucket, key string) bool {
	return b.Bucket == bucket && strings.HasPrefix(key, b.Prefix)
}

// S3SweepCounts are what a sweep found.
type S3SweepCounts struct {
	// Listed objects under the prefix (excluded prefixes not counted).
	Listed int64 `json:"listed"`
	// Found stale objects (older than the threshold).
	Found int64 `json:"found"`
	// Started runs: objects no event had started, i.e. missed events.
	Started int64 `json:"started"`
	// AlreadyRunning objects had a run in progress.
	AlreadyRunning int64 `json:"alreadyRunning"`
	// AlreadyDone objects had a closed run (within retention).
	AlreadyDone int64 `json:"alreadyDone"`
	// Pages of ListObjectsV2 read.
	Pages int64 `json:"pages"`
}

// Add adds o to c.
func (c *S3SweepCounts) Add(o S3SweepCounts) {
	c.Listed += o.Listed
	c.Found += o.Found
	c.Started += o.Started
	c.AlreadyRunning += o.AlreadyRunning
	c.AlreadyDone += o.AlreadyDone
	c.Pages += o.Pages
}

// S3ObjectInput is the S3Object workflow's input.
type S3ObjectInput struct {
	Object   S3ObjectRef `json:"object"`
	Pipeline Pipeline    `json:"pipeline"`
	// Source says who started the run: event, sweep or manual.
	Source string `json:"source,omitempty"`
	// SweptBy names the sweep that started the run ("<workflow ID>/<run
	// ID>"); it goes to the run's memo, where the sweep, retried after a
	// crash, recognizes the runs it started before.
	SweptBy string `json:"sweptBy,omitempty"`
}

// Sources of S3Object runs.
const (
	SourceEvent  = "event"
	SourceSweep  = "sweep"
	SourceManual = "manual"
)
