package workerapp

import (
	"io"
	"strings"
	"testing"
)

// TestSecretsFlags: the worker's flags set the secret-env allow-list and
// the link-local rule; --dev adds the demo cache password's name.
func TestSecretsFlags(t *testing.T) {
	cfg, err := ParseFlags([]string{"--secret-env", "CACHE_PASSWORD,TEAM_HOOK", "--secret-env", "X", "--secret-env-prefix", "OPS_", "--allow-link-local-http"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.secretPolicy()
	for name, want := range map[string]bool{"OPS_A": true, "CACHE_PASSWORD": true, "TEAM_HOOK": true, "X": true, "VIGIL_SECRET_A": false, "VIGIL_SLACK_WEBHOOK_URL": true} {
		if p.Allowed(name) != want {
			t.Errorf("Allowed(%s) = %v, want %v", name, !want, want)
		}
	}
	if !cfg.Secrets.AllowLinkLocalHTTP {
		t.Error("--allow-link-local-http not set")
	}
	def, err := ParseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if p := def.secretPolicy(); p.Allowed("CACHE_PASSWORD") || !p.Allowed("VIGIL_SECRET_CACHE_PASSWORD") || def.Secrets.AllowLinkLocalHTTP {
		t.Errorf("default policy %+v allows CACHE_PASSWORD, or not VIGIL_SECRET_*, or link-local", p)
	}
	def.Dev = true
	if !def.secretPolicy().Allowed(DevCachePasswordEnv) {
		t.Errorf("--dev does not allow %s, which its demos use", DevCachePasswordEnv)
	}
	if v, err := (&Deps{Getenv: func(string) string { return "v" }}).secretEnv().Lookup("AWS_SECRET_ACCESS_KEY"); err == nil || v != "" {
		t.Errorf("zero Deps read AWS_SECRET_ACCESS_KEY: %q, %v", v, err)
	}
	for _, args := range [][]string{{"--secret-env", "A-B"}, {"--secret-env-prefix", ""}} {
		if _, err := ParseFlags(args, io.Discard); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: error %v, want one naming %s", args, err, args[0])
		}
	}
}
