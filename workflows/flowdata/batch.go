package flowdata

// Job kinds a BatchJob can run.
const (
	JobKindHTTP    = "http"
	JobKindExec    = "exec"
	JobKindS3Put   = "s3-put"
	JobKindSQSSend = "sqs-send"
)

// JobKinds lists the valid BatchJob kinds.
var JobKinds = []string{JobKindHTTP, JobKindExec, JobKindS3Put, JobKindSQSSend}

// BatchJob is a job spec: a name and exactly one kind. The starter reads it
// from a YAML or JSON file (same keys) and validates it before starting
// anything; see internal/jobspec.
type BatchJob struct {
	// Name identifies the job in results, alerts and search attributes.
	Name string `json:"name" yaml:"name"`
	// Kind selects which of the kind sections below applies.
	Kind string `json:"kind" yaml:"kind"`
	// HTTP is the request for kind http.
	HTTP *HTTPJob `json:"http,omitempty" yaml:"http,omitempty"`
	// Exec is the command for kind exec.
	Exec *ExecJob `json:"exec,omitempty" yaml:"exec,omitempty"`
	// S3Put is the object for kind s3-put.
	S3Put *S3PutJob `json:"s3Put,omitempty" yaml:"s3Put,omitempty"`
	// SQSSend is the message for kind sqs-send.
	SQSSend *SQSSendJob `json:"sqsSend,omitempty" yaml:"sqsSend,omitempty"`
	// Retry is the job's retry policy; nil uses DefaultJobRetry.
	Retry *JobRetry `json:"retry,omitempty" yaml:"retry,omitempty"`
	// Timeout bounds the whole run, all attempts included; 0 means 1h, at
	// most 7 days (MaxJobTimeout).
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// NotifyOnFailure names the worker environment variable holding a
	// Slack webhook URL for failure alerts; empty uses VIGIL_SLACK_WEBHOOK_URL.
	NotifyOnFailure string `json:"notifyOnFailure,omitempty" yaml:"notifyOnFailure,omitempty"`
	// TaskQueue routes the job's runs to this task queue (a separate
	// worker pool, which can scale from zero); empty is the starter's.
	TaskQueue string `json:"taskQueue,omitempty" yaml:"taskQueue,omitempty"`
}

// HTTPJob is one HTTP request. Secrets are named by environment variable,
// read by the worker, and never stored in the workflow.
type HTTPJob struct {
	// Method defaults to GET.
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	// URL is absolute http or https; it may use the job templates.
	URL string `json:"url" yaml:"url"`
	// Headers are sent as they are (no secrets here: use the *Env fields).
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	// Body is sent as it is; it may use the job templates.
	Body string `json:"body,omitempty" yaml:"body,omitempty"`
	// BasicAuth sends a user and a password read from an env var.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty" yaml:"basicAuth,omitempty"`
	// BearerTokenEnv names the env var holding a bearer token.
	BearerTokenEnv string `json:"bearerTokenEnv,omitempty" yaml:"bearerTokenEnv,omitempty"`
	// ExpectStatus lists the status codes that count as success; empty
	// means any 2xx.
	ExpectStatus []int `json:"expectStatus,omitempty" yaml:"expectStatus,omitempty"`
	// Timeout bounds one attempt; 0 means 30s.
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// BasicAuth names a user and the env var holding its password.
type BasicAuth struct {
	// User is the basic-auth user name.
	User string `json:"user" yaml:"user"`
	// PasswordEnv names the worker env var holding the password.
	PasswordEnv string `json:"passwordEnv" yaml:"passwordEnv"`
}

// ExecJob runs a command on the worker host.
type ExecJob struct {
	// Command is the program (looked up in PATH).
	Command string `json:"command" yaml:"command"`
	// Args are passed as they are (no shell).
	Args []string `json:"args,omitempty" yaml:"args,omitempty"`
	// Env adds variables to the worker's environment for the command.
	Env map[string]string `json:"env,omitempty" yaml:"env,omitempty"`
	// Dir is the working directory; empty is the worker's.
	Dir string `json:"dir,omitempty" yaml:"dir,omitempty"`
	// Timeout bounds one attempt; 0 means 10m. The command is killed then.
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Host runs the command on this worker host (started with --host);
	// empty runs it on any one worker (a processor: the one that holds
	// its download), named in the run's status.
	Host string `json:"host,omitempty" yaml:"host,omitempty"`
	// HostWait bounds how long a run waits for Host's worker (0: 24h, at
	// most 7 days (MaxHostWait), and never past a batch job's timeout);
	// then it fails with HostUnavailable.
	HostWait Duration `json:"hostWait,omitempty" yaml:"hostWait,omitempty"`
}

// S3PutJob writes one object; Key and Content are job templates.
type S3PutJob struct {
	// Bucket to write to.
	Bucket string `json:"bucket" yaml:"bucket"`
	// Key of the object; a job template.
	Key string `json:"key" yaml:"key"`
	// Content of the object; a job template.
	Content string `json:"content" yaml:"content"`
	// ContentType of the object (default: S3's).
	ContentType string `json:"contentType,omitempty" yaml:"contentType,omitempty"`
}

// SQSSendJob sends one message; Body is a job template.
type SQSSendJob struct {
	// Queue is a queue URL or name.
	Queue string `json:"queue" yaml:"queue"`
	// Body of the message; a job template.
	Body string `json:"body" yaml:"body"`
	// Attributes are string message attributes.
	Attributes map[string]string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
}

// JobRetry is a job's retry policy.
type JobRetry struct {
	// InitialInterval before the second attempt; 0 means 10s, else at
	// least 1s (MinRetryInterval).
	InitialInterval Duration `json:"initialInterval,omitempty" yaml:"initialInterval,omitempty"`
	// BackoffCoefficient multiplies the interval each time; 0 means 2.
	BackoffCoefficient float64 `json:"backoffCoefficient,omitempty" yaml:"backoffCoefficient,omitempty"`
	// MaximumInterval caps the interval; 0 means 10m, else at least 1s.
	MaximumInterval Duration `json:"maximumInterval,omitempty" yaml:"maximumInterval,omitempty"`
	// MaximumAttempts; 0 means 5, 1 means no retry, at most 100
	// (MaxJobAttempts).
	MaximumAttempts int `json:"maximumAttempts,omitempty" yaml:"maximumAttempts,omitempty"`
	// NonRetryableStatus lists HTTP status codes that end the job at once.
	NonRetryableStatus []int `json:"nonRetryableStatus,omitempty" yaml:"nonRetryableStatus,omitempty"`
}
