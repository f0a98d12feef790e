package catalog

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func init() {
	Register(Kind{
		Name:            workflows.BackupFlow,
		WorkflowType:    workflows.BackupName,
		Summary:         "back a source (http, file, dir, s3) up to S3, verified, with retention",
		AlertsOnFailure: true,
		Read: func(n *yaml.Node) (Input, error) {
			var in flowdata.BackupInput
			if err := n.Decode(&in); err != nil {
				return Input{}, fmt.Errorf("backup input: %s", strings.TrimPrefix(err.Error(), "yaml: "))
			}
			if err := ValidateBackup(in, nil); err != nil {
				return Input{}, err
			}
			return Input{Args: []any{in}, Target: in.Name}, nil
		},
	})
}

// SSE modes a backup accepts.
var sseModes = []string{"", "AES256", "aws:kms"}

// ValidateBackup checks a backup input before anything is contacted:
// schemes, absolute paths, bucket names, retention, and (when getenv is
// given) that the env vars named for auth are set.
func ValidateBackup(in flowdata.BackupInput, getenv func(string) string) error {
	switch {
	case in.Name == "":
		return fmt.Errorf("a backup name is required")
	case strings.ContainsAny(in.Name, "/\\ ") || strings.HasPrefix(in.Name, "."):
		return fmt.Errorf("backup name %q: no slashes, spaces or leading dot", in.Name)
	case in.Source == "":
		return fmt.Errorf("a source is required (http(s)://, file:///abs/path, dir:/abs/path or s3://bucket/key)")
	}
	src, err := location.Parse(in.Source)
	if err != nil {
		return fmt.Errorf("source: %v", err)
	}
	if src.Scheme == location.GS {
		return fmt.Errorf("source %s: gs:// is not supported for backups", src.Redacted())
	}
	if src.Scheme == location.S3 && (src.Key == "" || strings.HasSuffix(src.Key, "/")) {
		return fmt.Errorf("source %s: name one object (s3://bucket/key)", src.Redacted())
	}
	tgt, err := location.Parse(in.Target)
	if err != nil {
		return fmt.Errorf("target: %v", err)
	}
	if tgt.Scheme != location.S3 {
		return fmt.Errorf("target %s: want s3://bucket/prefix/", tgt.Redacted())
	}
	switch {
	case in.Keep < 0:
		return fmt.Errorf("keep %d: want 0 (no count limit) or more", in.Keep)
	case in.MaxAge < 0:
		return fmt.Errorf("max age must not be negative")
	case in.MaxAge > 0 && in.MaxAge.D() < time.Minute:
		return fmt.Errorf("max age %s: want at least a minute", in.MaxAge)
	case in.Compression != "" && in.Compression != flowdata.CompressionZstd && in.Compression != flowdata.CompressionGzip:
		return fmt.Errorf("compression %q: want zstd or gzip", in.Compression)
	case in.Compression != "" && src.Scheme != location.Dir:
		return fmt.Errorf("compression applies to dir: sources only")
	case in.PartSize != 0 && (in.PartSize < 5<<20 || in.PartSize > 5<<30):
		return fmt.Errorf("part size %d: want 5 MiB to 5 GiB", in.PartSize)
	case in.Concurrency < 0 || in.Concurrency > 64:
		return fmt.Errorf("concurrency %d: want 1 to 64", in.Concurrency)
	case !containsStr(sseModes, in.SSE):
		return fmt.Errorf("sse %q: want AES256 or aws:kms", in.SSE)
	case in.KMSKeyID != "" && in.SSE != "aws:kms":
		return fmt.Errorf("a KMS key id needs sse aws:kms")
	}
	if err := flowdata.CheckHostWait(in.HostWait); err != nil {
		return err
	}
	if in.Auth != nil && src.Scheme != location.HTTP && src.Scheme != location.HTTPS {
		return fmt.Errorf("auth applies to http(s) sources only")
	}
	return checkAuthEnv(in.Auth, getenv)
}

// ValidateRestore checks a restore input before anything is contacted.
func ValidateRestore(in flowdata.RestoreInput, getenv func(string) string) error {
	from, err := location.Parse(in.From)
	if err != nil {
		return fmt.Errorf("from: %v", err)
	}
	if from.Scheme != location.S3 {
		return fmt.Errorf("from %s: want s3://bucket/prefix/name/ or s3://bucket/key", from.Redacted())
	}
	if in.At != "" {
		if _, err := time.Parse(flowdata.BackupTimeFormat, in.At); err != nil {
			return fmt.Errorf("at %q: want a UTC timestamp like 20261201T030000Z (see 'starter backup list')", in.At)
		}
		if from.Key != "" && !strings.HasSuffix(from.Key, "/") {
			return fmt.Errorf("at applies to a backup name (s3://bucket/prefix/name/), not to one object")
		}
	}
	to, err := location.Parse(in.To)
	if err != nil {
		return fmt.Errorf("to: %v", err)
	}
	switch to.Scheme {
	case location.File, location.Dir, location.HTTP, location.HTTPS:
	default:
		return fmt.Errorf("to %s: want file:///abs/path, dir:/abs/path or http(s)://...", to.Redacted())
	}
	if m := strings.ToUpper(in.Method); m != "" && m != "PUT" && m != "POST" {
		return fmt.Errorf("method %q: want PUT or POST", in.Method)
	}
	if in.Auth != nil && to.Scheme != location.HTTP && to.Scheme != location.HTTPS {
		return fmt.Errorf("auth applies to http(s) destinations only")
	}
	if err := flowdata.CheckHostWait(in.HostWait); err != nil {
		return err
	}
	if err := flowdata.CheckVerify(in.Verify); err != nil {
		return err
	}
	if in.Verify == flowdata.VerifyFull && to.Scheme != location.File {
		return fmt.Errorf("verify full applies to file:// destinations only")
	}
	return checkAuthEnv(in.Auth, getenv)
}

// checkAuthEnv makes sure the env vars an auth names are set (getenv nil
// skips the check: a schedule's worker has its own environment).
func checkAuthEnv(auth *flowdata.HTTPAuth, getenv func(string) string) error {
	if auth == nil {
		return nil
	}
	if auth.BasicAuth != nil {
		if auth.BasicAuth.PasswordEnv == "" {
			return fmt.Errorf("basic auth needs a password env var name")
		}
		if getenv != nil && getenv(auth.BasicAuth.PasswordEnv) == "" {
			return fmt.Errorf("environment variable %s (basic-auth password) is not set", auth.BasicAuth.PasswordEnv)
		}
	}
	if auth.BearerTokenEnv != "" && getenv != nil && getenv(auth.BearerTokenEnv) == "" {
		return fmt.Errorf("environment variable %s (bearer token) is not set", auth.BearerTokenEnv)
	}
	return nil
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
