// Package pipeline reads and validates S3 reprocessing pipeline files (YAML,
// or JSON with the same keys) into flowdata.Pipeline. Everything is checked
// before anything is contacted: unknown keys, processor kinds, URLs,
// templates, env-var names, prefixes, retry values. Errors name the key.
package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/strictyaml"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// ReadFile reads and validates a pipeline file.
func ReadFile(path string) (flowdata.Pipeline, error) {
	return strictyaml.ReadFile(path, "pipeline", Validate)
}

// Parse decodes YAML or JSON (JSON is YAML) strictly (unknown keys are
// errors) and validates it.
func Parse(b []byte) (flowdata.Pipeline, error) { return strictyaml.Parse(b, Validate) }

// FromNode decodes an already-parsed YAML node (an inline pipeline in a schedules file) strictly and
// validates it.
func FromNode(n *yaml.Node) (flowdata.Pipeline, error) { return strictyaml.FromNode(n, Validate) }

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	envRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks a pipeline; the error names the first problem.
func Validate(p flowdata.Pipeline) error {
	if !nameRE.MatchString(p.Name) {
		return fmt.Errorf("name %q: want 1-100 letters, digits, '.', '_' or '-'", p.Name)
	}
	if err := validateProcessor(p.Processor); err != nil {
		return err
	}
	if err := ValidateLocation("archive", p.Archive); err != nil {
		return err
	}
	if err := ValidateLocation("deadLetter", p.DeadLetter); err != nil {
		return err
	}
	a, _ := p.Archive.Resolve("", "", flowdata.DefaultArchivePrefix)
	_, ap := p.Archive.Resolve("", "", flowdata.DefaultArchivePrefix)
	d, _ := p.DeadLetter.Resolve("", "", flowdata.DefaultDeadLetterPrefix)
	_, dp := p.DeadLetter.Resolve("", "", flowdata.DefaultDeadLetterPrefix)
	if a == d && (strings.HasPrefix(ap, dp) || strings.HasPrefix(dp, ap)) {
		return fmt.Errorf("archive prefix %q and deadLetter prefix %q overlap", ap, dp)
	}
	if p.Retry != nil {
		if err := validateRetry(*p.Retry); err != nil {
			return err
		}
	}
	if p.NotifyOnFailure != "" && !envRE.MatchString(p.NotifyOnFailure) {
		return fmt.Errorf("notifyOnFailure %q: want the name of an environment variable", p.NotifyOnFailure)
	}
	if p.TaskQueue != "" {
		return flowdata.ValidateTaskQueue("taskQueue", p.TaskQueue)
	}
	return nil
}

func validateProcessor(pr flowdata.Processor) error {
	kinds := activities.ProcessorKinds()
	if !slices.Contains(kinds, pr.Kind) {
		return fmt.Errorf("processor.kind %q: want one of %s", pr.Kind, strings.Join(kinds, ", "))
	}
	sections := map[string]bool{flowdata.ProcessorHTTP: pr.HTTP != nil, flowdata.ProcessorExec: pr.Exec != nil, flowdata.ProcessorCopy: pr.Copy != nil}
	for kind, present := range sections {
		if kind == pr.Kind && !present {
			return fmt.Errorf("processor.kind %s needs a processor.%s section", kind, kind)
		}
		if kind != pr.Kind && present {
			return fmt.Errorf("processor.%s does not belong to processor.kind %s", kind, pr.Kind)
		}
	}
	switch pr.Kind {
	case flowdata.ProcessorHTTP:
		return validateHTTP(*pr.HTTP)
	case flowdata.ProcessorExec:
		return validateExec(*pr.Exec)
	case flowdata.ProcessorCopy:
		if pr.Copy.Bucket == "" && pr.Copy.Prefix == "" {
			return errors.New("processor.copy: name a bucket, a prefix or both")
		}
		return ValidateLocation("processor.copy", pr.Copy)
	}
	return nil
}

func validateHTTP(h flowdata.HTTPProcessor) error {
	if h.Method != "" && h.Method != "POST" && h.Method != "PUT" {
		return fmt.Errorf("processor.http.method %q: want POST or PUT", h.Method)
	}
	if h.Body != "" && h.Body != flowdata.HTTPBodyObject && h.Body != flowdata.HTTPBodyPresignedURL {
		return fmt.Errorf("processor.http.body %q: want %s or %s", h.Body, flowdata.HTTPBodyObject, flowdata.HTTPBodyPresignedURL)
	}
	if err := checkTemplate("processor.http.url", h.URL, false); err != nil {
		return err
	}
	if location.HasUserinfo(h.URL) {
		return errors.New("processor.http.url: do not put credentials in the URL; use basicAuth.passwordEnv or bearerTokenEnv")
	}
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("processor.http.url %q: want an absolute http:// or https:// URL", location.Redact(h.URL))
	}
	if u.User != nil {
		return errors.New("processor.http.url: do not put credentials in the URL; use basicAuth.passwordEnv or bearerTokenEnv")
	}
	for k := range h.Headers {
		if strings.EqualFold(k, "Authorization") {
			return errors.New("processor.http.headers: Authorization would put a secret in the workflow history; use basicAuth.passwordEnv or bearerTokenEnv")
		}
	}
	if h.BasicAuth != nil {
		if h.BasicAuth.User == "" {
			return errors.New("processor.http.basicAuth.user is empty")
		}
		if !envRE.MatchString(h.BasicAuth.PasswordEnv) {
			return fmt.Errorf("processor.http.basicAuth.passwordEnv %q: want the name of an environment variable on the worker", h.BasicAuth.PasswordEnv)
		}
	}
	if h.BearerTokenEnv != "" && !envRE.MatchString(h.BearerTokenEnv) {
		return fmt.Errorf("processor.http.bearerTokenEnv %q: want the name of an environment variable on the worker", h.BearerTokenEnv)
	}
	return nil
}

func validateExec(e flowdata.ExecJob) error {
	if strings.TrimSpace(e.Command) == "" {
		return errors.New("processor.exec.command is empty")
	}
	if e.Dir != "" && !filepath.IsAbs(e.Dir) {
		return fmt.Errorf("processor.exec.dir %q must be an absolute path", e.Dir)
	}
	for k, v := range e.Env {
		if !envRE.MatchString(k) {
			return fmt.Errorf("processor.exec.env: %q is not a variable name", k)
		}
		if err := checkTemplate("processor.exec.env."+k, v, true); err != nil {
			return err
		}
	}
	for i, a := range e.Args {
		if err := checkTemplate(fmt.Sprintf("processor.exec.args[%d]", i), a, true); err != nil {
			return err
		}
	}
	return nil
}

// ValidateLocation checks an archive, dead-letter or copy location.
func ValidateLocation(key string, l *flowdata.S3Location) error {
	if l == nil {
		return nil
	}
	if l.Bucket != "" {
		if err := location.ValidateBucket(l.Bucket); err != nil {
			return fmt.Errorf("%s.bucket: %w", key, err)
		}
	}
	if l.Bucket == "" && l.Prefix == "" {
		return fmt.Errorf("%s: an empty prefix in the object's own bucket would archive objects onto themselves", key)
	}
	return ValidatePrefix(key+".prefix", l.Prefix)
}

// ValidatePrefix checks a key prefix: empty, or ending with '/', without
// a leading '/' or "..".
func ValidatePrefix(key, p string) error {
	switch {
	case p == "":
		return nil
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("%s %q: must not start with '/'", key, p)
	case !strings.HasSuffix(p, "/"):
		return fmt.Errorf("%s %q: must end with '/'", key, p)
	case slices.Contains(strings.Split(p, "/"), ".."):
		return fmt.Errorf("%s %q: must not contain '..'", key, p)
	}
	return nil
}

func validateRetry(r flowdata.JobRetry) error {
	switch {
	case r.BackoffCoefficient != 0 && r.BackoffCoefficient < 1:
		return fmt.Errorf("retry.backoffCoefficient %v: must be at least 1", r.BackoffCoefficient)
	case r.MaximumAttempts < 0:
		return fmt.Errorf("retry.maximumAttempts %d: must not be negative", r.MaximumAttempts)
	case r.MaximumInterval > 0 && r.MaximumInterval < r.InitialInterval:
		return fmt.Errorf("retry.maximumInterval %s is shorter than initialInterval %s", r.MaximumInterval, r.InitialInterval)
	}
	return nil
}

// checkTemplate parses a template and executes it against sample object
// data, so unknown fields fail here rather than on the worker.
func checkTemplate(key, text string, withPath bool) error {
	if !strings.Contains(text, "{{") {
		return nil
	}
	t, err := template.New(key).Option("missingkey=error").Parse(text)
	if err != nil {
		return fmt.Errorf("%s: %v", key, strings.TrimPrefix(err.Error(), "template: "))
	}
	data := activities.ObjectTemplateData{Bucket: "b", Key: "k", ETag: "e", Size: 1}
	if withPath {
		data.Path = "/tmp/x"
	}
	if err := t.Execute(new(bytes.Buffer), data); err != nil {
		return fmt.Errorf("%s: %v (have .Bucket, .Key, .ETag, .Size%s)", key, strings.TrimPrefix(err.Error(), "template: "),
			map[bool]string{true: ", .Path", false: ""}[withPath])
	}
	if !withPath && strings.Contains(text, ".Path") {
		return fmt.Errorf("%s: .Path is only known to exec processors", key)
	}
	return nil
}
