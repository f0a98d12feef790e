package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/testenv"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cliResult is what one in-process CLI run produced.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs the CLI in-process with ctx and args. configure may adjust
// the app (injected dialer, refresh interval) before it runs.
func runCLI(ctx context.Context, stdout, stderr *syncBuffer, configure func(*app), args ...string) int {
	a := newApp(stdout, stderr)
	a.env = testenv.EmptyEnv{}
	a.refresh = 100 * time.Millisecond
	if configure != nil {
		configure(a)
	}
	return a.execute(ctx, args)
}

// runOffline runs the CLI with a dialer that fails the test if called: the
// command line must be rejected before anything is contacted.
func runOffline(t *testing.T, args ...string) cliResult {
	t.Helper()
	var stdout, stderr syncBuffer
	code := runCLI(context.Background(), &stdout, &stderr, func(a *app) {
		a.dial = func(context.Context, client.Options) (client.Client, error) {
			t.Errorf("starter %v: dialled Temporal although the command line is invalid", args)
			return nil, context.Canceled
		}
	}, args...)
	return cliResult{code, stdout.String(), stderr.String()}
}

func TestUsageErrorsExitTwoWithoutConnecting(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the whole stderr
	}{
		{[]string{"--output", "yaml", "list"}, "starter: --output must be text or json (got \"yaml\")\n"},
		{[]string{"list", "--status", "sleeping"}, "starter: --status must be one of running, completed, failed, canceled, terminated, timed_out, continued_as_new, paused (got \"sleeping\")\n"},
		{[]string{"list", "--limit", "0"}, "starter: --limit must be between 1 and 1000 (got 0)\n"},
		{[]string{"list", "--flow", "x' OR 1=1"}, "starter: --flow must not contain quotes, backslashes or control characters (got \"x' OR 1=1\")\n"},
		{[]string{"status"}, "starter: status needs exactly one workflow ID (got 0 arguments)\n"},
		{[]string{"wait", "a", "b"}, "starter: wait needs exactly one workflow ID (got 2 arguments)\n"},
		{[]string{"cancel", ""}, "starter: cancel: the workflow ID must not be empty\n"},
		{[]string{"--address", "nohostport", "status", "x"}, "starter: --address must be host:port (got \"nohostport\")\n"},
		{[]string{"--task-queue", "", "list"}, "starter: --task-queue must be a non-empty name without spaces (got \"\")\n"},
		{[]string{"status", "x", "--bogus"}, "starter: unknown flag: --bogus (see 'starter status --help')\n"},
		{[]string{"frobnicate"}, "starter: unknown command \"frobnicate\" for \"starter\" (see 'starter --help')\n"},
		{[]string{"list", "extra"}, "starter: unknown command \"extra\" for \"starter list\" (see 'starter list --help')\n"},
	} {
		r := runOffline(t, tc.args...)
		if r.code != 2 {
			t.Errorf("starter %q: exit %d, want 2 (stderr %q)", tc.args, r.code, r.stderr)
		}
		if r.stderr != tc.want {
			t.Errorf("starter %q: stderr\n %q, want\n %q", tc.args, r.stderr, tc.want)
		}
		if r.stdout != "" {
			t.Errorf("starter %q: unexpected stdout %q", tc.args, r.stdout)
		}
	}
}

func TestRunEntryPointRejectsBadOutput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-o", "xml", "list"}, &stdout, &stderr); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.HasPrefix(stderr.String(), "starter: --output must be text or json") {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"list", "--help"}, {"status", "--help"}, {"wait", "--help"}, {"cancel", "--help"}} {
		r := runOffline(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "starter ") {
			t.Errorf("starter %v: exit %d, help without examples:\n%s", args, r.code, r.stdout)
		}
	}
}

func TestUnreachableServerIsOneLineExitFour(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	for _, args := range [][]string{{"status", "x"}, {"list"}, {"wait", "x"}, {"cancel", "x"}} {
		var stdout, stderr syncBuffer
		start := time.Now()
		code := runCLI(context.Background(), &stdout, &stderr, nil, append([]string{"--address", addr}, args...)...)
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("starter %v took %s against a closed port", args, elapsed)
		}
		want := "starter: cannot reach Temporal at " + addr + ` (namespace "default"): connection refused — is the worker running with --dev, or TEMPORAL_ADDRESS set?` + "\n"
		if code != 4 || stderr.String() != want {
			t.Errorf("starter %v: exit %d, stderr\n %q, want exit 4 (unreachable) and\n %q", args, code, stderr.String(), want)
		}
	}
	// Under -o json the error is one JSON object on stderr.
	var stdout, stderr syncBuffer
	code := runCLI(context.Background(), &stdout, &stderr, nil, "--address", addr, "-o", "json", "status", "x")
	var obj struct {
		Error    string `json:"error"`
		ExitCode int    `json:"exitCode"`
	}
	if err := json.Unmarshal([]byte(stderr.String()), &obj); err != nil || code != 4 || obj.ExitCode != 4 ||
		!strings.HasPrefix(obj.Error, "cannot reach Temporal at ") || stdout.String() != "" {
		t.Errorf("-o json: exit %d, stdout %q, stderr %q (%v); want one JSON error object and exit 4", code, stdout.String(), stderr.String(), err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"glacier/vault/abc":             "glacier/vault/abc",
		"backup/c/2025-01-01T00:00:00Z": "backup/c/2025-01-01T00:00:00Z",
		"has space":                     "'has space'",
		"it's":                          `'it'\''s'`,
		"":                              "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
