package activities

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/internal/outbound"
	"github.com/vigilops/vigil/internal/secretenv"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func TestHTTPJobCall(t *testing.T) {
	var gotAuth, gotBody, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, _ := r.BasicAuth()
		gotAuth = user + ":" + pw
		b, _ := io.ReadAll(r.Body)
		gotBody, gotPath = string(b), r.URL.Path
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(http.StatusNoContent)
		case "/busy":
			http.Error(w, "try later", http.StatusServiceUnavailable)
		case "/denied":
			http.Error(w, "bad credentials", http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	env := map[string]string{"CACHE_PASSWORD": "s3cret", "VIGIL_CODEC_KEYS": "codec-k3y"}
	cases := []struct {
		name    string
		job     flowdata.HTTPJob
		nonRetr []int
		wantErr string
		wantNR  bool
		wantMsg string
		notMsg  string
		check   func(t *testing.T, out JobOutput)
	}{
		{name: "expected 204 with basic auth and template",
			job: flowdata.HTTPJob{Method: "POST", URL: srv.URL + "/ok", Body: "run {{.RunID}}", ExpectStatus: []int{200, 204},
				BasicAuth: &flowdata.BasicAuth{User: "ops", PasswordEnv: "CACHE_PASSWORD"}},
			check: func(t *testing.T, out JobOutput) {
				if out.StatusCode != 204 || gotAuth != "ops:s3cret" || gotBody != "run r9" || gotPath != "/ok" {
					t.Errorf("out %+v auth %q body %q", out, gotAuth, gotBody)
				}
				if strings.Contains(out.Output+out.Summary, "s3cret") {
					t.Error("secret leaked into the result")
				}
			}},
		{name: "503 retryable", job: flowdata.HTTPJob{URL: srv.URL + "/busy"}, wantErr: ErrTypeUnexpectedStatus},
		{name: "401 non-retryable when listed", job: flowdata.HTTPJob{URL: srv.URL + "/denied"}, nonRetr: []int{401}, wantErr: ErrTypeNonRetryableStatus, wantNR: true},
		{name: "missing secret", job: flowdata.HTTPJob{URL: srv.URL + "/ok", BearerTokenEnv: "VIGIL_SECRET_NOPE"}, wantErr: ErrTypeConfig, wantNR: true},
		// A variable off the worker's allow-list is not read: the run
		// fails at once, saying which flag allows it.
		{name: "env not allowed", job: flowdata.HTTPJob{URL: srv.URL + "/ok", BearerTokenEnv: "VIGIL_CODEC_KEYS"}, wantErr: secretenv.ErrTypeNotAllowed, wantNR: true,
			wantMsg: "--secret-env VIGIL_CODEC_KEYS"},
		// User info in a URL that bypassed the starter (a schedule) is
		// refused before any request, and not echoed.
		{name: "user info refused", job: flowdata.HTTPJob{URL: "http://ops:in-url-pw@127.0.0.1:1/x"}, wantErr: ErrTypeBadInput, wantNR: true,
			wantMsg: "passwordEnv", notMsg: "in-url-pw"},
		// The instance metadata address is refused at dial time.
		{name: "metadata address refused", job: flowdata.HTTPJob{URL: "http://169.254.169.254/latest/meta-data/?token=t0k"}, wantErr: outbound.ErrTypeRefused, wantNR: true,
			wantMsg: "--allow-link-local-http", notMsg: "t0k"},
		{name: "bad template", job: flowdata.HTTPJob{URL: srv.URL + "/{{.Nope}}"}, wantErr: ErrTypeBadInput, wantNR: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			aenv := s.NewTestActivityEnvironment()
			(&HTTPJob{Env: secretenv.New(func(k string) string { return env[k] }, secretenv.Policy{Names: []string{"CACHE_PASSWORD"}})}).Register(aenv)
			var a *HTTPJob
			v, err := aenv.ExecuteActivity(a.Call, HTTPCallInput{Job: tc.job, Ctx: JobContext{RunID: "r9"}, NonRetryableStatus: tc.nonRetr})
			if tc.wantErr != "" {
				var appErr *temporal.ApplicationError
				if !errors.As(err, &appErr) || appErr.Type() != tc.wantErr || appErr.NonRetryable() != tc.wantNR {
					t.Fatalf("want %s (non-retryable %v), got %v", tc.wantErr, tc.wantNR, err)
				}
				if !strings.Contains(err.Error(), tc.wantMsg) || (tc.notMsg != "" && strings.Contains(err.Error(), tc.notMsg)) || strings.Contains(err.Error(), "codec-k3y") {
					t.Errorf("error %q: want %q in it, not %q nor the variable's value", err, tc.wantMsg, tc.notMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var out JobOutput
			if err := v.Get(&out); err != nil {
				t.Fatal(err)
			}
			tc.check(t, out)
		})
	}
}
