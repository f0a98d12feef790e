package specrules

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilops/vigil/workflows/flowdata"
)

func TestHTTPAndExec(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"ok", HTTP("http", HTTPTarget{URL: "https://example.com/x", BearerTokenEnv: "TOKEN"}), ""},
		{"userinfo", HTTP("processor.http", HTTPTarget{URL: "https://u:p@example.com/"}), "processor.http.url: do not put credentials"},
		{"relative", HTTP("http", HTTPTarget{URL: "/x"}), `http.url "/x": want an absolute`},
		{"authorization", HTTP("http", HTTPTarget{URL: "http://h/", Headers: map[string]string{"authorization": "x"}}), "http.headers: Authorization"},
		{"basic user", HTTP("http", HTTPTarget{URL: "http://h/", BasicAuth: &flowdata.BasicAuth{PasswordEnv: "P"}}), "http.basicAuth.user is empty"},
		{"basic env", HTTP("http", HTTPTarget{URL: "http://h/", BasicAuth: &flowdata.BasicAuth{User: "u", PasswordEnv: "1P"}}), "passwordEnv \"1P\""},
		{"bearer env", HTTP("http", HTTPTarget{URL: "http://h/", BearerTokenEnv: "A-B"}), "bearerTokenEnv \"A-B\""},
		{"exec ok", Exec("exec", flowdata.ExecJob{Command: "true", Dir: "/tmp", Env: map[string]string{"A_1": "x"}}), ""},
		{"exec empty", Exec("processor.exec", flowdata.ExecJob{Command: "  "}), "processor.exec.command is empty"},
		{"exec dir", Exec("exec", flowdata.ExecJob{Command: "true", Dir: "rel"}), "exec.dir \"rel\" must be an absolute path"},
		{"exec env", Exec("exec", flowdata.ExecJob{Command: "true", Env: map[string]string{"A=B": "x"}}), "exec.env: \"A=B\" is not a variable name"},
		{"exec host wait", Exec("exec", flowdata.ExecJob{Command: "true", Host: "h", HostWait: flowdata.Duration(flowdata.MaxHostWait)}), ""},
		{"exec host wait max", Exec("processor.exec", flowdata.ExecJob{Command: "true", Host: "h", HostWait: flowdata.Duration(2000 * time.Hour)}),
			"processor.exec.hostWait: host wait 2000h0m0s: want 0 (24h) or up to 168h0m0s"},
		{"notify", NotifyOnFailure("bad name"), "notifyOnFailure"},
		{"name", Name("-x"), "name \"-x\""},
		{"retry", Retry(flowdata.JobRetry{BackoffCoefficient: 0.5}), "backoffCoefficient"},
		{"retry bounds ok", Retry(flowdata.JobRetry{MaximumAttempts: flowdata.MaxJobAttempts, InitialInterval: flowdata.Duration(time.Second)}), ""},
		{"retry attempts", Retry(flowdata.JobRetry{MaximumAttempts: flowdata.MaxJobAttempts + 1}), "retry.maximumAttempts 101: want 0 (the default, 5) to 100"},
		{"retry initial", Retry(flowdata.JobRetry{InitialInterval: flowdata.Duration(time.Millisecond)}), "retry.initialInterval 1ms: want 0 (the default, 10s) or at least 1s"},
		{"retry maximum", Retry(flowdata.JobRetry{MaximumInterval: flowdata.Duration(-time.Second)}), "retry.maximumInterval"},
	} {
		got := ""
		if tc.err != nil {
			got = tc.err.Error()
		}
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
