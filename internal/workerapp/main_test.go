package workerapp

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilops/vigil/internal/devserver"
)

func TestMainErrorsAreOneLine(t *testing.T) {
	port, err := devserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantText string
	}{
		{"bad flag value", []string{"--log-level", "loud"}, nil, 2, "--log-level"},
		{"stray argument", []string{"dev"}, nil, 2, "unexpected argument"},
		{"bad port", []string{"--dev", "--ui-port", "70000"}, nil, 2, "not a port"},
		{"no region", []string{}, map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_CONFIG_FILE": "/nonexistent", "AWS_PROFILE": ""}, 1, "AWS_REGION"},
		{"unreachable temporal", []string{"--address", "127.0.0.1:" + strconv.Itoa(port)}, map[string]string{"AWS_REGION": "us-east-1"}, 1, "127.0.0.1:" + strconv.Itoa(port)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := Main(tc.args, &out, &errb)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.wantCode, errb.String())
			}
			msg := strings.TrimSpace(errb.String())
			if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, tc.wantText) {
				t.Errorf("want one line mentioning %q, got:\n%s", tc.wantText, msg)
			}
		})
	}
}
