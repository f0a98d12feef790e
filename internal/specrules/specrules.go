// Package specrules holds the checks that job files (internal/jobspec) and
// pipeline files (internal/pipeline) share: names, environment-variable
// names, HTTP targets and their credentials, exec commands, notification
// variables and retry policies. Each check takes the key prefix it reports
// under ("http", "processor.http"...), so both file kinds name the
// offending key the same way.
package specrules

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	envRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Name checks a job's or pipeline's name: 1-100 letters, digits, '.', '_'
// or '-', starting with a letter or digit.
func Name(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("name %q: want 1-100 letters, digits, '.', '_' or '-'", name)
	}
	return nil
}

// IsEnvName reports whether s is a valid environment-variable name.
func IsEnvName(s string) bool { return envRE.MatchString(s) }

// NotifyOnFailure checks the notifyOnFailure key: empty, or the name of an
// environment variable.
func NotifyOnFailure(v string) error {
	if v != "" && !IsEnvName(v) {
		return fmt.Errorf("notifyOnFailure %q: want the name of an environment variable", v)
	}
	return nil
}

// HTTPTarget is what an HTTP job and an HTTP processor share: the URL and
// how they authenticate.
type HTTPTarget struct {
	// URL is the (possibly templated) target.
	URL string
	// Headers are sent as they are.
	Headers map[string]string
	// BasicAuth and BearerTokenEnv name the credentials' variables.
	BasicAuth      *flowdata.BasicAuth
	BearerTokenEnv string
}

// credentialsHint says where credentials go instead of the URL or headers.
const credentialsHint = "use basicAuth.passwordEnv or bearerTokenEnv"

// HTTP checks t under prefix: an absolute http(s) URL without userinfo, no
// Authorization header (a secret would land in the workflow history), and
// credentials named by environment variable. The URL's template is
// checked by the caller first.
func HTTP(prefix string, t HTTPTarget) error {
	if location.HasUserinfo(t.URL) {
		return fmt.Errorf("%s.url: do not put credentials in the URL; %s", prefix, credentialsHint)
	}
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s.url %q: want an absolute http:// or https:// URL", prefix, location.Redact(t.URL))
	}
	if u.User != nil {
		return fmt.Errorf("%s.url: do not put credentials in the URL; %s", prefix, credentialsHint)
	}
	for k := range t.Headers {
		if strings.EqualFold(k, "Authorization") {
			return fmt.Errorf("%s.headers: Authorization would put a secret in the workflow history; %s", prefix, credentialsHint)
		}
	}
	if t.BasicAuth != nil {
		if t.BasicAuth.User == "" {
			return fmt.Errorf("%s.basicAuth.user is empty", prefix)
		}
		if !IsEnvName(t.BasicAuth.PasswordEnv) {
			return fmt.Errorf("%s.basicAuth.passwordEnv %q: want the name of an environment variable on the worker", prefix, t.BasicAuth.PasswordEnv)
		}
	}
	if t.BearerTokenEnv != "" && !IsEnvName(t.BearerTokenEnv) {
		return fmt.Errorf("%s.bearerTokenEnv %q: want the name of an environment variable on the worker", prefix, t.BearerTokenEnv)
	}
	return nil
}

// Exec checks an exec section under prefix: a command, an absolute
// directory, variable names in env. Templates in env values and args are
// the caller's (they differ between jobs and processors).
func Exec(prefix string, e flowdata.ExecJob) error {
	if strings.TrimSpace(e.Command) == "" {
		return fmt.Errorf("%s.command is empty", prefix)
	}
	if e.Dir != "" && !filepath.IsAbs(e.Dir) {
		return fmt.Errorf("%s.dir %q must be an absolute path", prefix, e.Dir)
	}
	for k := range e.Env {
		if !IsEnvName(k) {
			return fmt.Errorf("%s.env: %q is not a variable name", prefix, k)
		}
	}
	if err := flowdata.CheckHostWait(e.HostWait); err != nil {
		return fmt.Errorf("%s.hostWait: %v", prefix, err)
	}
	return nil
}

// Retry checks what jobs' and pipelines' retry policies share, with
// flowdata's bounds (MaxJobAttempts, MinRetryInterval).
func Retry(r flowdata.JobRetry) error {
	switch {
	case r.BackoffCoefficient != 0 && r.BackoffCoefficient < 1:
		return fmt.Errorf("retry.backoffCoefficient %v: must be at least 1", r.BackoffCoefficient)
	case r.MaximumAttempts < 0 || r.MaximumAttempts > flowdata.MaxJobAttempts:
		return fmt.Errorf("retry.maximumAttempts %d: want 0 (the default, 5) to %d", r.MaximumAttempts, flowdata.MaxJobAttempts)
	case r.InitialInterval != 0 && r.InitialInterval.D() < flowdata.MinRetryInterval:
		return fmt.Errorf("retry.initialInterval %s: want 0 (the default, 10s) or at least %s", r.InitialInterval, flowdata.MinRetryInterval)
	case r.MaximumInterval != 0 && r.MaximumInterval.D() < flowdata.MinRetryInterval:
		return fmt.Errorf("retry.maximumInterval %s: want 0 (the default, 10m) or at least %s", r.MaximumInterval, flowdata.MinRetryInterval)
	case r.MaximumInterval > 0 && r.MaximumInterval < r.InitialInterval:
		return fmt.Errorf("retry.maximumInterval %s is shorter than initialInterval %s", r.MaximumInterval, r.InitialInterval)
	}
	return nil
}
