package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// ObjectProcessor is a processor written in Go. Adding one is one
// registered type: implement Process and call
//
//	activities.RegisterProcessor("thumbnail", thumbnailProcessor{})
//
// from an init function in a package linked into the worker and the
// starter (the starter validates pipeline kinds against the registry). A
// pipeline then names it with `processor: {kind: thumbnail, options: {...}}`.
// Process must be idempotent (it may run again after a worker crash); a
// returned error is retried by the pipeline's retry policy unless it is a
// non-retryable application error (temporal.NewNonRetryableApplicationError).
type ObjectProcessor interface {
	Process(ctx context.Context, req ProcessRequest) (summary string, err error)
}

// ProcessRequest is what a Go processor gets.
type ProcessRequest struct {
	// Object is the version being processed.
	Object flowdata.S3ObjectRef
	// Processor is the pipeline's processor section (Options for Go
	// processors).
	Processor flowdata.Processor
	// Deps gives the S3 client, HTTP client, presigner and secret Env.
	Deps *S3Object
}

// Open streams the object version's body.
func (r ProcessRequest) Open(ctx context.Context) (io.ReadCloser, int64, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(r.Object.Bucket), Key: aws.String(r.Object.Key)}
	if r.Object.VersionID != "" {
		in.VersionId = aws.String(r.Object.VersionID)
	}
	if r.Object.ETag != "" {
		in.IfMatch = aws.String(`"` + unquote(r.Object.ETag) + `"`)
	}
	out, err := r.Deps.Client.GetObject(ctx, in)
	if err != nil {
		if isAPICode(err, "PreconditionFailed") {
			return nil, 0, temporal.NewNonRetryableApplicationError("object was replaced by another version", ErrTypeObjectChanged, err)
		}
		return nil, 0, Classify(fmt.Sprintf("S3 GetObject s3://%s/%s", r.Object.Bucket, r.Object.Key), err)
	}
	return out.Body, aws.ToInt64(out.ContentLength), nil
}

// ProcessorFunc adapts a function to ObjectProcessor.
type ProcessorFunc func(ctx context.Context, req ProcessRequest) (string, error)

// Process calls f.
func (f ProcessorFunc) Process(ctx context.Context, req ProcessRequest) (string, error) {
	return f(ctx, req)
}

var (
	processorsMu sync.RWMutex
	processors   = map[string]ObjectProcessor{}
)

// RegisterProcessor registers a Go processor under kind. It panics on a
// duplicate or a built-in kind (exec cannot be replaced: it is host-pinned).
func RegisterProcessor(kind string, p ObjectProcessor) {
	processorsMu.Lock()
	defer processorsMu.Unlock()
	if _, dup := processors[kind]; dup || kind == flowdata.ProcessorExec || kind == "" {
		panic("activities: processor kind " + kind + " registered twice")
	}
	processors[kind] = p
}

// ProcessorKinds lists every processor kind a pipeline may name, sorted.
func ProcessorKinds() []string {
	processorsMu.RLock()
	defer processorsMu.RUnlock()
	kinds := []string{flowdata.ProcessorExec}
	for k := range processors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return slices.Compact(kinds)
}

func lookupProcessor(kind string) (ObjectProcessor, bool) {
	processorsMu.RLock()
	defer processorsMu.RUnlock()
	p, ok := processors[kind]
	return p, ok
}

func init() {
	RegisterProcessor(flowdata.ProcessorNone, ProcessorFunc(func(context.Context, ProcessRequest) (string, error) { return "nothing to do", nil }))
	RegisterProcessor(flowdata.ProcessorCopy, ProcessorFunc(copyProcessor))
	RegisterProcessor(flowdata.ProcessorHTTP, ProcessorFunc(httpProcessor))
}

// ProcessObjectInput is one attempt of a Go processor (http, copy, none,
// registered kinds).
type ProcessObjectInput struct {
	Object    flowdata.S3ObjectRef `json:"object"`
	Processor flowdata.Processor   `json:"processor"`
}

// ProcessObject runs the pipeline's Go processor on the object,
// heartbeating while it waits (an http endpoint's answer, a server-side
// copy), so a processor may take longer than the heartbeat timeout.
func (a *S3Object) ProcessObject(ctx context.Context, in ProcessObjectInput) (JobOutput, error) {
	p, ok := lookupProcessor(in.Processor.Kind)
	if !ok {
		return JobOutput{}, BadInput("processor kind %q is not registered on this worker", in.Processor.Kind)
	}
	defer heartbeatDetailWhile(ctx, "running the "+in.Processor.Kind+" processor")()
	sum, err := p.Process(ctx, ProcessRequest{Object: in.Object, Processor: in.Processor, Deps: a})
	return JobOutput{Summary: sum}, err
}

// ObjectTemplateData is what pipeline templates see.
type ObjectTemplateData struct {
	Bucket, Key, ETag string
	Size              int64
	// Path is the local copy (exec processors only).
	Path string
}

func templateData(o flowdata.S3ObjectRef, path string) ObjectTemplateData {
	return ObjectTemplateData{Bucket: o.Bucket, Key: o.Key, ETag: unquote(o.ETag), Size: o.Size, Path: path}
}

// renderObject expands a pipeline template; templates are checked by the
// starter, so an error here is a bad input.
func renderObject(name, text string, d ObjectTemplateData) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", BadInput("template %s: %v", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", BadInput("template %s: %v", name, err)
	}
	return b.String(), nil
}

func copyProcessor(ctx context.Context, r ProcessRequest) (string, error) {
	c := r.Processor.Copy
	if c == nil {
		return "", BadInput("copy processor without a copy section")
	}
	b, k := c.Resolve(r.Object.Bucket, r.Object.Key, "")
	req := &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(k), CopySource: aws.String(CopySource(r.Object.Bucket, r.Object.Key, r.Object.VersionID))}
	if r.Object.ETag != "" {
		req.CopySourceIfMatch = aws.String(`"` + unquote(r.Object.ETag) + `"`)
	}
	if _, err := r.Deps.Client.CopyObject(ctx, req); err != nil {
		if isAPICode(err, "PreconditionFailed") {
			return "", temporal.NewNonRetryableApplicationError("object was replaced by another version", ErrTypeObjectChanged, err)
		}
		return "", Classify("S3 CopyObject to s3://"+b+"/"+k, err)
	}
	return "copied to s3://" + b + "/" + k, nil
}

// presignedBody is the JSON an http processor with body presigned-url sends.
type presignedBody struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	ETag   string `json:"etag"`
	Size   int64  `json:"size"`
	URL    string `json:"url"`
}

func httpProcessor(ctx context.Context, r ProcessRequest) (string, error) {
	h := r.Processor.HTTP
	if h == nil {
		return "", BadInput("http processor without an http section")
	}
	u, err := renderObject("url", h.URL, templateData(r.Object, ""))
	if err != nil {
		return "", err
	}
	if err := location.CheckURL(u); err != nil {
		return "", BadInput("http processor: %v", err)
	}
	timeout := h.Timeout.D()
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	var length int64
	contentType := "application/octet-stream"
	if h.Body == flowdata.HTTPBodyPresignedURL {
		if r.Deps.Presign == nil {
			return "", temporal.NewNonRetryableApplicationError("http processor: this worker cannot presign URLs", ErrTypeConfig, nil)
		}
		signed, err := r.Deps.Presign(ctx, r.Object.Bucket, r.Object.Key, r.Object.VersionID)
		if err != nil {
			return "", fmt.Errorf("presigning: %w", err)
		}
		b, _ := json.Marshal(presignedBody{Bucket: r.Object.Bucket, Key: r.Object.Key, ETag: unquote(r.Object.ETag), Size: r.Object.Size, URL: signed})
		body, length, contentType = bytes.NewReader(b), int64(len(b)), "application/json"
	} else {
		rc, n, err := r.Open(ctx)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		body, length = rc, n
	}
	method := h.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return "", BadInput("http processor: %v", err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", contentType)
	for k, v := range h.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("X-Vigil-Bucket", r.Object.Bucket)
	req.Header.Set("X-Vigil-Key", url.PathEscape(r.Object.Key))
	req.Header.Set("X-Vigil-ETag", unquote(r.Object.ETag))
	job := flowdata.HTTPJob{BasicAuth: h.BasicAuth, BearerTokenEnv: h.BearerTokenEnv}
	if err := (&HTTPJob{Env: r.Deps.Env}).authorize(req, job); err != nil {
		return "", err
	}
	resp, err := httpClient(r.Deps.HTTP).Do(req)
	if err != nil {
		return "", requestError(req, err)
	}
	defer resp.Body.Close()
	tail := &tailBuffer{limit: 4 << 10}
	_, _ = io.Copy(tail, resp.Body)
	sum := statusSummary(resp.StatusCode, tail.String())
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return sum, nil
	case PermanentHTTPStatus(c):
		return sum, temporal.NewNonRetryableApplicationError(sum, ErrTypeProcessorRejected, nil)
	default:
		return sum, temporal.NewApplicationError(sum, ErrTypeUnexpectedStatus)
	}
}
