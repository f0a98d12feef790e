package secretenv

import (
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
)

func TestLookup(t *testing.T) {
	env := map[string]string{"VIGIL_SECRET_TOKEN": "t", "CACHE_PASSWORD": "c", "VIGIL_CODEC_KEYS": "k", SlackWebhookEnv: "w", "TEAM_TOKEN": "tt"}
	e := New(func(k string) string { return env[k] }, Policy{Names: []string{"CACHE_PASSWORD"}})
	for name, want := range map[string]string{"VIGIL_SECRET_TOKEN": "t", "CACHE_PASSWORD": "c", SlackWebhookEnv: "w", "VIGIL_SECRET_UNSET": ""} {
		if got, err := e.Lookup(name); err != nil || got != want {
			t.Errorf("Lookup(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"VIGIL_CODEC_KEYS", "TEAM_TOKEN", "AWS_SECRET_ACCESS_KEY", ""} {
		got, err := e.Lookup(name)
		var ae *temporal.ApplicationError
		if got != "" || !errors.As(err, &ae) || ae.Type() != ErrTypeNotAllowed || !ae.NonRetryable() {
			t.Errorf("Lookup(%s) = %q, %v; want a non-retryable %s", name, got, err, ErrTypeNotAllowed)
			continue
		}
		if name != "" && (!strings.Contains(err.Error(), NameFlag+" "+name) || !strings.Contains(err.Error(), DefaultPrefix+name)) {
			t.Errorf("Lookup(%s): message %q does not name the flag or the prefixed name", name, err)
		}
	}
}

func TestCustomPrefix(t *testing.T) {
	p := Policy{Prefix: "OPS_"}
	if !p.Allowed("OPS_TOKEN") || p.Allowed("VIGIL_SECRET_TOKEN") || !p.Allowed(SlackWebhookEnv) {
		t.Error("a custom prefix replaces the default one; the defaults stay")
	}
	if err := p.Check("X"); err == nil || !strings.Contains(err.Error(), "OPS_X") {
		t.Errorf("Check(X) = %v, want the rename under OPS_", err)
	}
}
