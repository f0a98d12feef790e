package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// checkConfigOutputs is the part of TestCLIOutputHasNoSecret about what
// stays on the server between runs: a pipeline bound with s3 setup-events
// and listed with s3 bindings, and a backup schedule applied, described
// and triggered. Its source and processor URLs carry outQuerySecret in
// their queries; no output shows it. A backup input or schedules file with
// user info is refused with exit 2, pointing to the …Env fields.
func checkConfigOutputs(t *testing.T, s *secretsOutputStack, dir string) {
	t.Helper()
	h := s.h
	const wait = 2 * time.Minute
	pipeline := writeFile(t, dir, "bound.yaml", fmt.Sprintf("name: out-bound\nprocessor:\n  kind: http\n  http:\n    url: %q\n    bearerTokenEnv: VIGIL_SECRET_OUT_TOKEN\n",
		s.api.URL+"/process?access_token="+outQuerySecret))
	backup := func(source string) string {
		return fmt.Sprintf("name: sched-b\nsource: %q\ntarget: s3://bkt/\nauth: {basicAuth: {user: ops, passwordEnv: VIGIL_SECRET_OUT_PASSWORD}}\n", source)
	}
	scheduleFile := func(name, source string) string {
		in := strings.ReplaceAll(strings.TrimSuffix(backup(source), "\n"), "\n", "\n      ")
		return writeFile(t, dir, name, "schedules:\n  - id: out-backup\n    every: 24h\n    workflow: backup\n    input:\n      "+in+"\n")
	}
	sched := scheduleFile("sched.yaml", s.api.URL+"/snapshot?sig="+outQuerySecret)
	// The same schedule, another query: an update whose plan lists changes.
	sched2 := scheduleFile("sched2.yaml", s.api.URL+"/snapshot?v=2&sig="+outQuerySecret)

	ok := [][]string{
		{"s3", "setup-events", "--bucket", "inbox", "--prefix", "bound/", "--pipeline", pipeline},
		{"s3", "bindings"},
		{"-o", "json", "s3", "bindings"},
		{"schedule", "apply", "-f", sched, "--dry-run"},
		{"-o", "json", "schedule", "apply", "-f", sched},
		{"schedule", "apply", "-f", sched2, "--dry-run"},
		{"schedule", "apply", "-f", sched2},
		{"schedule", "trigger", "out-backup"},
		{"schedule", "describe", "out-backup"},
		{"-o", "json", "schedule", "describe", "out-backup"},
		{"schedule", "list"},
		{"-o", "json", "schedule", "list"},
	}
	for _, args := range ok {
		res := h.runWithin(wait, args...)
		if res.code != 0 {
			t.Errorf("starter %v: exit %d\n%s\n%s", args, res.code, res.stdout, res.stderr)
		}
		scanOutput(t, strings.Join(args, " "), res)
	}

	ui := "http://ops:" + outUserSecret + "@127.0.0.1:1/snapshot"
	uiInput := writeFile(t, dir, "ui-backup.yaml", backup(ui))
	refused := [][]string{
		{"schedule", "apply", "-f", scheduleFile("ui-sched.yaml", ui)},
		{"schedule", "create", "out-ui", "--every", "1h", "--workflow", "backup", "--input", uiInput},
		{"-o", "json", "schedule", "create", "out-ui", "--every", "1h", "--workflow", "backup", "--input", uiInput},
	}
	for _, args := range refused {
		res := h.runWithin(wait, args...)
		if res.code != 2 {
			t.Errorf("starter %v: exit %d, want 2 (user info refused)\n%s\n%s", args, res.code, res.stdout, res.stderr)
		}
		checkUserinfoRefusal(t, strings.Join(args, " "), res)
		scanOutput(t, strings.Join(args, " "), res)
	}
}

// checkUserinfoRefusal fails the test unless a refusal of user info names
// the fields meant for credentials.
func checkUserinfoRefusal(t *testing.T, what string, r cliResult) {
	t.Helper()
	for _, want := range []string{"user:password@", "passwordEnv", "bearerTokenEnv"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("starter %s: the refusal does not name %q:\n%s", what, want, r.stderr)
		}
	}
}
