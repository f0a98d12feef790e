package activities

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/outbound"
	"github.com/vigilops/vigil/internal/secretenv"
)

// httpClient is c, or the shared client refusing link-local and cloud
// metadata addresses (outbound.Default) when c is nil.
func httpClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return outbound.Default()
}

// secretEnv is e, or the default allow-list (secretenv.DefaultPrefix and
// secretenv.DefaultNames) over the process environment when e is nil.
func secretEnv(e *secretenv.Env) *secretenv.Env {
	if e != nil {
		return e
	}
	return secretenv.New(os.Getenv, secretenv.Policy{})
}

// requestURL is req's URL as messages may show it (location.Redact: no
// user info, no credential-bearing query values).
func requestURL(req *http.Request) string { return location.Redact(req.URL.String()) }

// requestError is a failed request's error: "METHOD URL: cause" with the
// URL redacted in both places (url.Error quotes it with its query), and
// a dial the outbound policy refused as the non-retryable
// outbound.ErrTypeRefused; other causes (refused connections, timeouts,
// resets) stay retryable.
func requestError(req *http.Request, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = location.Redact(ue.URL)
	}
	prefix := req.Method + " " + requestURL(req) + ": "
	if c := outbound.Classify(prefix, err); c != err {
		return c
	}
	return fmt.Errorf("%s%w", prefix, err)
}
