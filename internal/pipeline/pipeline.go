// Package pipeline reads and validates S3 reprocessing pipeline files (YAML,
// or JSON with the same keys) into flowdata.Pipeline. Everything is checked
// before anything is contacted: unknown keys, processor kinds, URLs,
// templates, env-var names, prefixes, retry values. Errors name the key.
package pipeline

import (
	"bytes"
	"errors"
	"fmt"

	"slices"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/specrules"
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

// Validate checks a pipeline; the error names the first problem.
func Validate(p flowdata.Pipeline) error {
	if err := specrules.Name(p.Name); err != nil {
		return err
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
		if err := specrules.Retry(*p.Retry); err != nil {
			return err
		}
	}
	if p.TaskQueue != "" {
		if err := flowdata.ValidateTaskQueue("taskQueue", p.TaskQueue); err != nil {
			return err
		}
	}
	return specrules.NotifyOnFailure(p.NotifyOnFailure)
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
	return specrules.HTTP("processor.http", specrules.HTTPTarget{URL: h.URL, Headers: h.Headers, BasicAuth: h.BasicAuth, BearerTokenEnv: h.BearerTokenEnv})
}

func validateExec(e flowdata.ExecJob) error {
	if err := specrules.Exec("processor.exec", e); err != nil {
		return err
	}
	for k, v := range e.Env {
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
