package tclient_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/tclient"
	"github.com/vigilops/vigil/internal/testenv"
)

// mapEnv is an envconfig.EnvLookup over a map.
type mapEnv map[string]string

func (m mapEnv) Environ() []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func (m mapEnv) LookupEnv(k string) (string, bool) {
	v, ok := m[k]
	return v, ok
}

func noFile(env mapEnv) mapEnv {
	env["TEMPORAL_CONFIG_FILE"] = "/nonexistent/temporal.toml"
	return env
}

func TestLoadDefaults(t *testing.T) {
	co, err := tclient.Load(tclient.Options{Env: noFile(mapEnv{})})
	if err != nil {
		t.Fatal(err)
	}
	if co.HostPort != tclient.DefaultAddress || co.Namespace != tclient.DefaultNamespace {
		t.Errorf("defaults = %q %q", co.HostPort, co.Namespace)
	}
	if co.Logger == nil {
		t.Error("a quiet logger should be set")
	}
}

func TestLoadEnvThenOverrides(t *testing.T) {
	env := noFile(mapEnv{"TEMPORAL_ADDRESS": "temporal.example:7233", "TEMPORAL_NAMESPACE": "ops", "TEMPORAL_API_KEY": "k"})
	co, err := tclient.Load(tclient.Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if co.HostPort != "temporal.example:7233" || co.Namespace != "ops" {
		t.Errorf("from env = %q %q", co.HostPort, co.Namespace)
	}
	if co.Credentials == nil || co.ConnectionOptions.TLS == nil {
		t.Error("an API key should set credentials and enable TLS")
	}
	co, err = tclient.Load(tclient.Options{Env: env, Address: "10.0.0.1:7233", Namespace: "other",
		Configure: func(o *client.Options) { o.Identity = "me" }})
	if err != nil {
		t.Fatal(err)
	}
	if co.HostPort != "10.0.0.1:7233" || co.Namespace != "other" || co.Identity != "me" {
		t.Errorf("overrides = %q %q %q", co.HostPort, co.Namespace, co.Identity)
	}
}

func TestLoadProfileFromFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "temporal.toml")
	toml := "[profile.default]\naddress = \"a:1\"\n[profile.prod]\naddress = \"prod:7233\"\nnamespace = \"prod-ns\"\n"
	if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	co, err := tclient.Load(tclient.Options{Env: mapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if co.HostPort != "prod:7233" || co.Namespace != "prod-ns" {
		t.Errorf("profile = %q %q", co.HostPort, co.Namespace)
	}
	if _, err := tclient.Load(tclient.Options{Env: mapEnv{"TEMPORAL_CONFIG_FILE": file}, Profile: "missing"}); err == nil {
		t.Error("a missing profile should be an error")
	}
	if _, err := tclient.Load(tclient.Options{ConfigFile: filepath.Join(t.TempDir(), "nope.toml")}); err == nil {
		t.Error("an explicit missing config file should be an error")
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestDialUnreachableIsOneClearLine(t *testing.T) {
	addr := closedPort(t)
	start := time.Now()
	_, err := tclient.Dial(context.Background(), tclient.Options{Address: addr, Env: noFile(mapEnv{}), Timeout: 3 * time.Second})
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Dial took %s", elapsed)
	}
	var de *tclient.DialError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *DialError", err, err)
	}
	msg := err.Error()
	want := "cannot reach Temporal at " + addr + ` (namespace "default"): connection refused — is the worker running with --dev, or TEMPORAL_ADDRESS set?`
	if msg != want {
		t.Errorf("message =\n %q, want\n %q", msg, want)
	}
}

func TestDialSilentServerIsBounded(t *testing.T) {
	// A listener that accepts connections but never speaks.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err = tclient.Dial(context.Background(), tclient.Options{Address: l.Addr().String(), Env: noFile(mapEnv{}), Timeout: time.Second})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Dial took %s with a 1s timeout", elapsed)
	}
	if err == nil || !strings.Contains(err.Error(), "no answer within 1s") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error = %v", err)
	}
}

func TestDialChecksNamespace(t *testing.T) {
	ts := testenv.NewTemporal(t)
	opts := testenv.Options(t, ts)
	c, err := tclient.Dial(context.Background(), opts)
	if err != nil {
		t.Fatalf("dial existing namespace: %v", err)
	}
	c.Close()

	opts.Namespace = "no-such-namespace"
	_, err = tclient.Dial(context.Background(), opts)
	var de *tclient.DialError
	if !errors.As(err, &de) || !de.NamespaceNotFound {
		t.Fatalf("error = %v, want a namespace-not-found DialError", err)
	}
	want := `namespace "no-such-namespace" not found on Temporal at ` + ts.GetFrontendHostPort()
	if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("message = %q, want prefix %q", err.Error(), want)
	}
}
