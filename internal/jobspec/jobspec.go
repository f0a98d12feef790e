// Package jobspec reads and validates batch job files (YAML, or JSON with
// the same keys) into flowdata.BatchJob. Everything is checked before anything
// is started: unknown keys, kinds, URLs, templates, bucket names, retry
// values. Errors name the file and the offending key.
package jobspec

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/strictyaml"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// ReadFile reads and validates a job file.
func ReadFile(path string) (flowdata.BatchJob, error) {
	return strictyaml.ReadFile(path, "job", Validate)
}

// Parse decodes YAML or JSON (JSON is YAML) strictly (unknown keys are
// errors) and validates it.
func Parse(b []byte) (flowdata.BatchJob, error) { return strictyaml.Parse(b, Validate) }

// FromNode decodes an already-parsed YAML node (an inline job in a schedules file) strictly and
// validates it.
func FromNode(n *yaml.Node) (flowdata.BatchJob, error) { return strictyaml.FromNode(n, Validate) }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// Validate checks a job; the error lists the first problem.
func Validate(j flowdata.BatchJob) error {
	if !nameRE.MatchString(j.Name) {
		return fmt.Errorf("name %q: want 1-100 letters, digits, '.', '_' or '-'", j.Name)
	}
	if !slices.Contains(flowdata.JobKinds, j.Kind) {
		return fmt.Errorf("kind %q: want one of %s", j.Kind, strings.Join(flowdata.JobKinds, ", "))
	}
	sections := map[string]bool{
		flowdata.JobKindHTTP: j.HTTP != nil, flowdata.JobKindExec: j.Exec != nil,
		flowdata.JobKindS3Put: j.S3Put != nil, flowdata.JobKindSQSSend: j.SQSSend != nil,
	}
	keys := map[string]string{flowdata.JobKindHTTP: "http", flowdata.JobKindExec: "exec", flowdata.JobKindS3Put: "s3Put", flowdata.JobKindSQSSend: "sqsSend"}
	for kind, present := range sections {
		if kind == j.Kind && !present {
			return fmt.Errorf("kind %s needs a %q section", j.Kind, keys[kind])
		}
		if kind != j.Kind && present {
			return fmt.Errorf("section %q does not belong to kind %s", keys[kind], j.Kind)
		}
	}
	var err error
	switch j.Kind {
	case flowdata.JobKindHTTP:
		err = validateHTTP(*j.HTTP)
	case flowdata.JobKindExec:
		err = validateExec(*j.Exec)
	case flowdata.JobKindS3Put:
		err = validateS3Put(*j.S3Put)
	case flowdata.JobKindSQSSend:
		err = validateSQSSend(*j.SQSSend)
	}
	if err != nil {
		return err
	}
	if j.Retry != nil {
		if err := validateRetry(*j.Retry); err != nil {
			return err
		}
	}
	if j.NotifyOnFailure != "" && !envRE.MatchString(j.NotifyOnFailure) {
		return fmt.Errorf("notifyOnFailure %q: want the name of an environment variable", j.NotifyOnFailure)
	}
	if j.TaskQueue != "" {
		return flowdata.ValidateTaskQueue("taskQueue", j.TaskQueue)
	}
	return nil
}

var envRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

func validateHTTP(h flowdata.HTTPJob) error {
	if h.Method != "" && !slices.Contains(methods, h.Method) {
		return fmt.Errorf("http.method %q: want one of %s", h.Method, strings.Join(methods, ", "))
	}
	if err := checkTemplate("http.url", h.URL); err != nil {
		return err
	}
	if location.HasUserinfo(h.URL) {
		return errors.New("http.url: do not put credentials in the URL; use basicAuth.passwordEnv or bearerTokenEnv")
	}
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("http.url %q: want an absolute http:// or https:// URL", location.Redact(h.URL))
	}
	if u.User != nil {
		return errors.New("http.url: do not put credentials in the URL; use basicAuth.passwordEnv or bearerTokenEnv")
	}
	if err := checkTemplate("http.body", h.Body); err != nil {
		return err
	}
	for k := range h.Headers {
		if strings.EqualFold(k, "Authorization") {
			return errors.New("http.headers: Authorization would put a secret in the workflow history; use basicAuth.passwordEnv or bearerTokenEnv")
		}
	}
	for _, c := range h.ExpectStatus {
		if c < 100 || c > 599 {
			return fmt.Errorf("http.expectStatus: %d is not an HTTP status", c)
		}
	}
	if h.BasicAuth != nil {
		if h.BasicAuth.User == "" {
			return errors.New("http.basicAuth.user is empty")
		}
		if !envRE.MatchString(h.BasicAuth.PasswordEnv) {
			return fmt.Errorf("http.basicAuth.passwordEnv %q: want the name of an environment variable on the worker", h.BasicAuth.PasswordEnv)
		}
	}
	if h.BearerTokenEnv != "" && !envRE.MatchString(h.BearerTokenEnv) {
		return fmt.Errorf("http.bearerTokenEnv %q: want the name of an environment variable on the worker", h.BearerTokenEnv)
	}
	return nil
}

func validateExec(e flowdata.ExecJob) error {
	if strings.TrimSpace(e.Command) == "" {
		return errors.New("exec.command is empty")
	}
	if e.Dir != "" && !filepath.IsAbs(e.Dir) {
		return fmt.Errorf("exec.dir %q must be an absolute path", e.Dir)
	}
	for k := range e.Env {
		if !envRE.MatchString(k) {
			return fmt.Errorf("exec.env: %q is not a variable name", k)
		}
	}
	return nil
}

func validateS3Put(p flowdata.S3PutJob) error {
	if err := location.ValidateBucket(p.Bucket); err != nil {
		return fmt.Errorf("s3Put.bucket: %w", err)
	}
	if p.Key == "" {
		return errors.New("s3Put.key is empty")
	}
	if err := checkTemplate("s3Put.key", p.Key); err != nil {
		return err
	}
	return checkTemplate("s3Put.content", p.Content)
}

func validateSQSSend(s flowdata.SQSSendJob) error {
	if s.Queue == "" {
		return errors.New("sqsSend.queue is empty (a queue URL or name)")
	}
	return checkTemplate("sqsSend.body", s.Body)
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
	for _, c := range r.NonRetryableStatus {
		if c < 100 || c > 599 {
			return fmt.Errorf("retry.nonRetryableStatus: %d is not an HTTP status", c)
		}
	}
	return nil
}

// templateFields are the names job templates may use.
var templateFields = map[string]bool{"ScheduledTime": true, "RunID": true, "WorkflowID": true, "JobName": true, "ScheduleID": true, "Attempt": true}

var fieldRE = regexp.MustCompile(`\.([A-Z][A-Za-z]*)`)

// checkTemplate parses a template and checks the fields it names.
func checkTemplate(key, text string) error {
	if !strings.Contains(text, "{{") {
		return nil
	}
	if _, err := template.New(key).Parse(text); err != nil {
		return fmt.Errorf("%s: %v", key, strings.TrimPrefix(err.Error(), "template: "))
	}
	for _, m := range fieldRE.FindAllStringSubmatch(actions(text), -1) {
		if !templateFields[m[1]] && !isTimeMethod(m[1]) {
			return fmt.Errorf("%s: unknown template field .%s (have .ScheduledTime, .RunID, .WorkflowID, .JobName, .ScheduleID, .Attempt)", key, m[1])
		}
	}
	return nil
}

// actions returns the text inside {{ }} only.
func actions(text string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			return b.String()
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			return b.String()
		}
		b.WriteString(text[i : i+j])
		b.WriteByte(' ')
		text = text[i+j:]
	}
}

func isTimeMethod(name string) bool {
	switch name {
	case "Format", "UTC", "Unix", "Year", "Month", "Day", "Hour", "Minute", "Second", "YearDay", "Weekday", "In", "Local", "Add", "Truncate":
		return true
	}
	return false
}
