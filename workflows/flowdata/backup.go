package flowdata

import "time"

// Backup object layout and compression names.
const (
	// BackupLatestFile is the pointer object next to a backup name's
	// objects: <prefix><name>/latest.json.
	BackupLatestFile = "latest.json"
	// BackupTimeFormat is the UTC timestamp in backup object keys.
	BackupTimeFormat = "20060102T150405Z"
	// CompressionZstd and CompressionGzip compress dir sources.
	CompressionZstd = "zstd"
	CompressionGzip = "gzip"
)

// HTTPAuth authenticates an http source or destination; secrets are
// named by worker environment variable, never given.
type HTTPAuth struct {
	// BasicAuth sends a user and a password read from an env var.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty" yaml:"basicAuth,omitempty"`
	// BearerTokenEnv names the env var holding a bearer token.
	BearerTokenEnv string `json:"bearerTokenEnv,omitempty" yaml:"bearerTokenEnv,omitempty"`
}

// BackupInput describes one backup run.
type BackupInput struct {
	// Name of the backup: objects go under <target prefix><name>/.
	Name string `json:"name" yaml:"name"`
	// Source: http(s)://..., file:///abs/path, dir:/abs/path or s3://bucket/key.
	Source string `json:"source" yaml:"source"`
	// Target is s3://bucket/prefix/.
	Target string `json:"target" yaml:"target"`
	// Auth for an http source.
	Auth *HTTPAuth `json:"auth,omitempty" yaml:"auth,omitempty"`
	// Keep the newest N backups (0: no count limit).
	Keep int `json:"keep,omitempty" yaml:"keep,omitempty"`
	// MaxAge keeps everything newer than this (0: no age limit). With
	// both Keep and MaxAge, a backup is kept when either keeps it.
	MaxAge Duration `json:"maxAge,omitempty" yaml:"maxAge,omitempty"`
	// Verify re-reads the stored object and compares its SHA-256 before
	// latest.json moves.
	Verify bool `json:"verify,omitempty" yaml:"verify,omitempty"`
	// Compression of a dir source: zstd (default) or gzip.
	Compression string `json:"compression,omitempty" yaml:"compression,omitempty"`
	// PartSize of the multipart upload in bytes (0: 8 MiB).
	PartSize int64 `json:"partSize,omitempty" yaml:"partSize,omitempty"`
	// Concurrency is how many parts upload at once (0: 4).
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
	// SSE is "", "AES256" (SSE-S3) or "aws:kms" (SSE-KMS, with KMSKeyID).
	SSE      string `json:"sse,omitempty" yaml:"sse,omitempty"`
	KMSKeyID string `json:"kmsKeyId,omitempty" yaml:"kmsKeyId,omitempty"`
	// StorageClass of the objects (empty: the bucket's default).
	StorageClass string `json:"storageClass,omitempty" yaml:"storageClass,omitempty"`
	// Host reads a file or dir source on this worker host (empty: the
	// host the source URL names, file://HOST/path, or else the host of
	// whichever worker answers first; the whole read stays there).
	Host string `json:"host,omitempty" yaml:"host,omitempty"`
	// HostWait bounds how long the run waits for that host's worker
	// (0: 24h); then it fails with HostUnavailable.
	HostWait Duration `json:"hostWait,omitempty" yaml:"hostWait,omitempty"`
	// AlertWebhookEnv names the env var of the Slack webhook for failure
	// alerts (empty: the default one).
	AlertWebhookEnv string `json:"alertWebhookEnv,omitempty" yaml:"alertWebhookEnv,omitempty"`
	// NotifySuccess posts a one-line summary of every successful run.
	NotifySuccess bool `json:"notifySuccess,omitempty" yaml:"notifySuccess,omitempty"`
}

// BackupResult reports a backup run.
type BackupResult struct {
	// Key of the new object; Location is its s3:// URL.
	Key      string `json:"key"`
	Location string `json:"location"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256"`
	Verified bool   `json:"verified,omitempty"`
	// Duration of the whole run and upload throughput in bytes/s.
	Duration       Duration `json:"duration"`
	BytesPerSecond float64  `json:"bytesPerSecond"`
	// Deleted lists the keys retention removed.
	Deleted []string `json:"deleted,omitempty"`
	// Host is the worker host that read a file or dir source.
	Host string `json:"host,omitempty"`
}

// BackupLatest is the content of latest.json: the newest complete and
// verified backup of a name.
type BackupLatest struct {
	Key     string    `json:"key"`
	SHA256  string    `json:"sha256"`
	Size    int64     `json:"size"`
	Time    time.Time `json:"time"`
	Source  string    `json:"source"`
	Version string    `json:"version,omitempty"`
}

// BackupEntry is one stored backup, as `starter backup list` shows it.
type BackupEntry struct {
	Key    string    `json:"key"`
	Time   time.Time `json:"time"`
	Size   int64     `json:"size"`
	SHA256 string    `json:"sha256,omitempty"`
	Latest bool      `json:"latest,omitempty"`
}

// RestoreInput describes one restore run.
type RestoreInput struct {
	// From is s3://bucket/prefix/name/ (the latest backup, or the one of
	// At) or the s3:// URL of one backup object.
	From string `json:"from" yaml:"from"`
	// At picks the backup of this UTC timestamp (BackupTimeFormat).
	At string `json:"at,omitempty" yaml:"at,omitempty"`
	// To is file:///abs/path, dir:/abs/path or http(s)://...
	To string `json:"to" yaml:"to"`
	// Auth for an http destination.
	Auth *HTTPAuth `json:"auth,omitempty" yaml:"auth,omitempty"`
	// Method for an http destination: PUT (default) or POST.
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	// Host writes a file or dir destination on this worker host (empty:
	// the host the destination URL names, file://HOST/path, or else the
	// host of whichever worker answers first).
	Host string `json:"host,omitempty" yaml:"host,omitempty"`
	// HostWait bounds how long the run waits for that host's worker
	// (0: 24h); then it fails with HostUnavailable.
	HostWait Duration `json:"hostWait,omitempty" yaml:"hostWait,omitempty"`
	// Verify is VerifyFull to re-read a file destination from disk and
	// check its SHA-256 again before it replaces the file ("" checks the
	// SHA-256 as the file is written).
	Verify string `json:"verify,omitempty" yaml:"verify,omitempty"`
	// AlertWebhookEnv names the env var of the Slack webhook for failure
	// alerts (empty: the default one).
	AlertWebhookEnv string `json:"alertWebhookEnv,omitempty" yaml:"alertWebhookEnv,omitempty"`
	// MissingOK makes a backup name with no backup yet a success with
	// RestoreResult.NoBackup (a server restoring itself at its first
	// start), not a failure and an alert.
	MissingOK bool `json:"missingOk,omitempty" yaml:"missingOk,omitempty"`
}

// RestoreResult reports a restore run.
type RestoreResult struct {
	Key      string   `json:"key"`
	Location string   `json:"location"`
	Bytes    int64    `json:"bytes"`
	SHA256   string   `json:"sha256"`
	Duration Duration `json:"duration"`
	// Host is the worker host that wrote a file or dir destination.
	Host string `json:"host,omitempty"`
	// NoBackup: MissingOK and the name has no backup yet; nothing was
	// restored.
	NoBackup bool `json:"noBackup,omitempty"`
}
