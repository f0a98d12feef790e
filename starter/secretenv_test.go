package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/secretenv"
)

// TestSecretEnvWarning: every verb that hands the worker an input naming
// environment variables (batch run, backup run, schedule create and apply,
// s3 setup-events) warns, before anything is contacted, about each name a
// worker with the default allow-list would refuse, naming the flag that
// allows it; names on the allow-list (the prefix, the Slack default) draw
// no warning.
func TestSecretEnvWarning(t *testing.T) {
	dir := t.TempDir()
	job := func(name, env string) string {
		return writeFile(t, dir, name+".json", fmt.Sprintf(`{"name":%q,"kind":"http","http":{"url":"http://127.0.0.1:1/x","bearerTokenEnv":%q},"notifyOnFailure":"VIGIL_SLACK_WEBHOOK_URL"}`, name, env))
	}
	pipeline := func(name, env string) string {
		return writeFile(t, dir, name+".yaml", fmt.Sprintf("name: %s\nprocessor:\n  kind: http\n  http:\n    url: http://127.0.0.1:1/x\n    basicAuth: {user: u, passwordEnv: %s}\n", name, env))
	}
	schedules := func(name, jobFile string) string {
		return writeFile(t, dir, name+".yaml", fmt.Sprintf("schedules:\n  - id: %s\n    every: 1h\n    workflow: batch\n    input: %s\n", name, jobFile))
	}
	bad, good := "CODEC_KEYS_X", "VIGIL_SECRET_OK"
	// s3 setup-events reaches an endpoint nothing listens on, once.
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": closedEndpoint(t), "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x",
		"AWS_SECRET_ACCESS_KEY": "x", "AWS_MAX_ATTEMPTS": "1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(dir, "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none")} {
		t.Setenv(k, v)
	}
	for _, tc := range []struct {
		name string
		args func(env string) []string
	}{
		{"batch run", func(env string) []string { return []string{"batch", "run", "--job-file", job("j-"+env, env)} }},
		{"backup run", func(env string) []string {
			return []string{"backup", "run", "--name", "b", "--from", "http://127.0.0.1:1/x", "--user", "u", "--password-env", env, "--to", "s3://bkt/", "--skip-env-check"}
		}},
		{"schedule create", func(env string) []string {
			return []string{"schedule", "create", "s", "--every", "1h", "--workflow", "batch", "--input", job("c-"+env, env)}
		}},
		{"schedule apply", func(env string) []string {
			return []string{"schedule", "apply", "-f", schedules("a-"+env, job("a-"+env, env))}
		}},
		{"s3 setup-events", func(env string) []string {
			return []string{"s3", "setup-events", "--bucket", "bkt", "--prefix", "in/", "--pipeline", pipeline("p-"+env, env)}
		}},
	} {
		for _, env := range []string{bad, good} {
			var stdout, stderr syncBuffer
			ctx, cancel := context.WithCancel(context.Background())
			runCLI(ctx, &stdout, &stderr, func(a *app) {
				a.dial = func(context.Context, client.Options) (client.Client, error) { return nil, errors.New("offline") }
			}, tc.args(env)...)
			cancel()
			warned := strings.Contains(stderr.String(), "warning: unless the worker allows it")
			if env == bad && (!warned || !strings.Contains(stderr.String(), secretenv.Refusal(secretenv.DefaultPrefix, bad))) {
				t.Errorf("starter %s naming %s: no warning naming the flag that allows it:\n%s", tc.name, bad, stderr.String())
			}
			if env == good && warned {
				t.Errorf("starter %s naming only allowed variables warned:\n%s", tc.name, stderr.String())
			}
		}
	}
}

// closedEndpoint is an http URL nothing listens on.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
