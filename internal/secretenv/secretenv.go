// Package secretenv is the worker's allow-list of environment variables a
// run may read. Job files, pipelines, backups and alerts name their
// secrets by environment variable (basicAuth.passwordEnv, bearerTokenEnv,
// notifyOnFailure, alertWebhookEnv, ...); without a list, a run could name
// any variable of the worker (its codec keys, its cloud credentials) and
// send it to a URL of its choice. A worker reads only:
//
//   - names starting with the prefix (--secret-env-prefix, default
//     VIGIL_SECRET_),
//   - names listed with --secret-env NAME (repeatable),
//   - vigil's own defaults (DefaultNames: the Slack webhook variable).
//
// Any other name fails the run at once with the non-retryable
// ErrTypeNotAllowed, whose message names the flag that allows it.
package secretenv

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// DefaultPrefix is the prefix of the names a worker reads unless
// --secret-env-prefix says otherwise.
const DefaultPrefix = "VIGIL_SECRET_"

// SlackWebhookEnv is the variable holding the default Slack webhook URL
// (activities.DefaultSlackWebhookEnv).
const SlackWebhookEnv = "VIGIL_SLACK_WEBHOOK_URL"

// DefaultNames are read by every worker: vigil's documented variables.
var DefaultNames = []string{SlackWebhookEnv}

// ErrTypeNotAllowed is the application error type of a run naming a
// variable the worker does not allow.
const ErrTypeNotAllowed = "SecretEnvNotAllowed"

// The worker flags that set a Policy, named in refusals.
const (
	PrefixFlag = "--secret-env-prefix"
	NameFlag   = "--secret-env"
)

// Policy says which variable names runs may read.
type Policy struct {
	// Prefix allows every name starting with it; "" means DefaultPrefix.
	Prefix string
	// Names are allowed by name (--secret-env), besides DefaultNames.
	Names []string
}

// prefix is p.Prefix or the default.
func (p Policy) prefix() string {
	if p.Prefix == "" {
		return DefaultPrefix
	}
	return p.Prefix
}

// Allowed reports whether runs may read name.
func (p Policy) Allowed(name string) bool {
	return name != "" && (strings.HasPrefix(name, p.prefix()) || slices.Contains(p.Names, name) || slices.Contains(DefaultNames, name))
}

// Check is nil when runs may read name, else the non-retryable
// ErrTypeNotAllowed error saying how to allow it.
func (p Policy) Check(name string) error {
	if p.Allowed(name) {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(Refusal(p.prefix(), name), ErrTypeNotAllowed, nil)
}

// Refusal is the message of a name the prefix does not allow: how to
// rename it, and the flag that allows it as it is.
func Refusal(prefix, name string) string {
	return fmt.Sprintf("environment variable %s is not on the worker's secret allow-list: rename it %s%s, "+
		"or start the worker with %s %s (allowed: names starting with %s, names given with %s, and %s)",
		name, prefix, strings.TrimPrefix(name, prefix), NameFlag, name, prefix, NameFlag, strings.Join(DefaultNames, ", "))
}

// Env reads the variables a Policy allows from an environment.
type Env struct {
	policy Policy
	getenv func(string) string
}

// New returns the Env reading allowed names through getenv.
func New(getenv func(string) string, p Policy) *Env {
	return &Env{policy: p, getenv: getenv}
}

// Lookup returns the value of name ("" when unset), or the non-retryable
// ErrTypeNotAllowed error when the policy does not allow it (the variable
// is then not read at all).
func (e *Env) Lookup(name string) (string, error) {
	if err := e.policy.Check(name); err != nil {
		return "", err
	}
	if e.getenv == nil {
		return "", nil
	}
	return e.getenv(name), nil
}

// Policy is the policy e applies.
func (e *Env) Policy() Policy { return e.policy }
