package activities

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/secretenv"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// HTTPJob runs http batch jobs.
type HTTPJob struct {
	// Client sends the requests; nil uses outbound.Default (no overall
	// timeout, each call has its own; link-local addresses refused).
	Client *http.Client
	// Env resolves secrets named in the job (never logged or returned)
	// through the worker's allow-list; nil is the default allow-list over
	// the process environment.
	Env *secretenv.Env
}

// HTTPCallInput is one http job attempt.
type HTTPCallInput struct {
	Job flowdata.HTTPJob `json:"job"`
	Ctx JobContext       `json:"ctx"`
	// NonRetryableStatus lists statuses that end the job at once.
	NonRetryableStatus []int `json:"nonRetryableStatus,omitempty"`
}

// Call sends the request and checks the status. An unexpected 4xx other
// than 408/429 (PermanentHTTPStatus) or a status listed in
// NonRetryableStatus ends the job at once; other unexpected statuses are
// retryable. A missing secret or a bad URL is a BadInput/Config error.
func (a *HTTPJob) Call(ctx context.Context, in HTTPCallInput) (JobOutput, error) {
	j := in.Job
	url, err := Render("url", j.URL, in.Ctx)
	if err != nil {
		return JobOutput{}, err
	}
	if err := location.CheckURL(url); err != nil {
		return JobOutput{}, BadInput("http job: %v", err)
	}
	body, err := Render("body", j.Body, in.Ctx)
	if err != nil {
		return JobOutput{}, err
	}
	method := j.Method
	if method == "" {
		method = http.MethodGet
	}
	timeout := j.Timeout.D()
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return JobOutput{}, BadInput("http job: %s", location.RedactText(err.Error()))
	}
	for k, v := range j.Headers {
		req.Header.Set(k, v)
	}
	if err := a.authorize(req, j); err != nil {
		return JobOutput{}, err
	}
	stop := heartbeatUntil(ctx, HTTPHeartbeatInterval, "waiting for the answer")
	defer stop()
	resp, err := httpClient(a.Client).Do(req)
	if err != nil {
		// Connection refused, timeouts, resets: retry.
		return JobOutput{}, requestError(req, err)
	}
	defer resp.Body.Close()
	tail := &tailBuffer{limit: OutputLimit}
	_, _ = io.Copy(tail, resp.Body)
	out := JobOutput{StatusCode: resp.StatusCode, Output: tail.String(), Truncated: tail.truncated,
		Summary: statusSummary(resp.StatusCode, tail.String())}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if len(j.ExpectStatus) > 0 {
		ok = slices.Contains(j.ExpectStatus, resp.StatusCode)
	}
	switch {
	case ok:
		return out, nil
	case slices.Contains(in.NonRetryableStatus, resp.StatusCode), PermanentHTTPStatus(resp.StatusCode):
		return out, temporal.NewNonRetryableApplicationError(out.Summary, ErrTypeNonRetryableStatus, nil, out)
	default:
		return out, temporal.NewApplicationError(out.Summary, ErrTypeUnexpectedStatus, out)
	}
}

// HTTPHeartbeatInterval is how often Call heartbeats while it waits for
// the answer and reads it: a job's timeout may be long (up to its
// MaxJobTimeout), and the workflow gives calls of more than a minute a
// heartbeat timeout (HTTPHeartbeatTimeout) so a worker that died
// mid-call is noticed in that time, not at the end of the timeout. A
// variable for tests.
var HTTPHeartbeatInterval = 10 * time.Second

// HTTPHeartbeatTimeout is the heartbeat timeout of long HTTP job calls.
const HTTPHeartbeatTimeout = time.Minute

// heartbeatUntil records details as a heartbeat every interval until the
// returned stop is called or ctx ends; outside an activity (a direct call)
// it does nothing.
func heartbeatUntil(ctx context.Context, interval time.Duration, details ...any) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, details...)
			}
		}
	}()
	return func() { close(done) }
}

func (a *HTTPJob) authorize(req *http.Request, j flowdata.HTTPJob) error {
	return setAuth(req, secretEnv(a.Env), j.BasicAuth, j.BearerTokenEnv, "http job: ")
}
