// Package jobspec reads and validates batch job files (YAML, or JSON with
// the same keys) into flowdata.BatchJob. Everything is checked before anything
// is started: unknown keys, kinds, URLs, templates, bucket names, retry
// values. Errors name the file and the offending key.
package jobspec

import (
	"errors"
	"fmt"
	"net/http"

	"regexp"
	"slices"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/specrules"
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

// Validate checks a job; the error lists the first problem.
func Validate(j flowdata.BatchJob) error {
	if err := specrules.Name(j.Name); err != nil {
		return err
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
	if j.Timeout < 0 || j.Timeout.D() > flowdata.MaxJobTimeout {
		return fmt.Errorf("timeout %s: want 0 (the default, 1h) or up to %s (7 days)", j.Timeout, flowdata.MaxJobTimeout)
	}
	if j.Retry != nil {
		if err := validateRetry(*j.Retry); err != nil {
			return err
		}
	}
	if j.TaskQueue != "" {
		if err := flowdata.ValidateTaskQueue("taskQueue", j.TaskQueue); err != nil {
			return err
		}
	}
	return specrules.NotifyOnFailure(j.NotifyOnFailure)
}

var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

func validateHTTP(h flowdata.HTTPJob) error {
	if h.Method != "" && !slices.Contains(methods, h.Method) {
		return fmt.Errorf("http.method %q: want one of %s", h.Method, strings.Join(methods, ", "))
	}
	if err := checkTemplate("http.url", h.URL); err != nil {
		return err
	}
	if err := specrules.HTTP("http", specrules.HTTPTarget{URL: h.URL, Headers: h.Headers, BasicAuth: h.BasicAuth, BearerTokenEnv: h.BearerTokenEnv}); err != nil {
		return err
	}
	if err := checkTemplate("http.body", h.Body); err != nil {
		return err
	}
	for _, c := range h.ExpectStatus {
		if c < 100 || c > 599 {
			return fmt.Errorf("http.expectStatus: %d is not an HTTP status", c)
		}
	}
	return nil
}

func validateExec(e flowdata.ExecJob) error { return specrules.Exec("exec", e) }

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
	if err := specrules.Retry(r); err != nil {
		return err
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
