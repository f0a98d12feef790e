package workerapp

import (
	"flag"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/vigilops/vigil/internal/outbound"
	"github.com/vigilops/vigil/internal/secretenv"
)

// SecretsConfig says which environment variables runs may read and
// whether their requests may reach link-local addresses.
type SecretsConfig struct {
	// EnvPrefix allows every variable name starting with it
	// (--secret-env-prefix).
	EnvPrefix string
	// EnvNames are allowed by name (--secret-env, repeatable).
	EnvNames []string
	// AllowLinkLocalHTTP lets jobs, backups, processors and webhooks reach
	// link-local and cloud metadata addresses (--allow-link-local-http).
	AllowLinkLocalHTTP bool
}

// addSecretsFlags registers the secrets flags.
func addSecretsFlags(fs *flag.FlagSet, s *SecretsConfig) {
	fs.StringVar(&s.EnvPrefix, "secret-env-prefix", secretenv.DefaultPrefix,
		"runs may read worker environment variables whose names start with this prefix (basicAuth.passwordEnv, bearerTokenEnv, webhook env names)")
	fs.Var((*envNamesFlag)(&s.EnvNames), "secret-env",
		"also let runs read this environment variable (repeatable, comma-separated); "+secretenv.SlackWebhookEnv+" is always allowed")
	fs.BoolVar(&s.AllowLinkLocalHTTP, "allow-link-local-http", false,
		"let http jobs, backups, processors and webhooks reach link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254); refused by default")
}

// envNamesFlag is a repeatable, comma-separated list of names.
type envNamesFlag []string

func (l *envNamesFlag) String() string { return (*listFlag)(l).String() }
func (l *envNamesFlag) Set(v string) error {
	return (*listFlag)(l).Set(v)
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validate checks the prefix and names are environment variable names.
func (s SecretsConfig) validate() error {
	if !envNameRE.MatchString(s.EnvPrefix) {
		return fmt.Errorf("--secret-env-prefix %q: want the start of a variable name (letters, digits, '_'), e.g. %s", s.EnvPrefix, secretenv.DefaultPrefix)
	}
	for _, n := range s.EnvNames {
		if !envNameRE.MatchString(n) {
			return fmt.Errorf("--secret-env %q: want an environment variable name", n)
		}
	}
	return nil
}

// DevCachePasswordEnv names the demo cache server's basic-auth password;
// --dev sets it in the worker's environment unless it is set already, and
// allows runs to read it. Defined here, not with the dev stack, because
// the lean (nodev) build's secretPolicy names it too.
const DevCachePasswordEnv = "CACHE_PASSWORD"

// policy is the allow-list the flags give; --dev adds the demo cache
// server's password variable (DevCachePasswordEnv), so the demos keep
// their names.
func (c Config) secretPolicy() secretenv.Policy {
	p := secretenv.Policy{Prefix: c.Secrets.EnvPrefix, Names: append([]string(nil), c.Secrets.EnvNames...)}
	if c.Dev {
		p.Names = append(p.Names, DevCachePasswordEnv)
	}
	return p
}

// secretEnv is the allow-list activities read secrets through: d.Getenv
// filtered by d.SecretEnv.
func (d *Deps) secretEnv() *secretenv.Env {
	return secretenv.New(d.Getenv, d.SecretEnv)
}

// httpClient is the client activities send requests with: link-local
// addresses refused unless d.AllowLinkLocalHTTP (outbound).
func (d *Deps) httpClient() *http.Client {
	return outbound.Client(d.AllowLinkLocalHTTP, 0)
}

// slackTimeout bounds one Slack webhook post.
const slackTimeout = 10 * time.Second

// slackClient is httpClient with the webhook post's timeout.
func (d *Deps) slackClient() *http.Client {
	return outbound.Client(d.AllowLinkLocalHTTP, slackTimeout)
}
