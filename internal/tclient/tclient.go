// Package tclient dials the Temporal server for vigil's worker and starter.
//
// The connection is loaded with go.temporal.io/sdk/contrib/envconfig (a TOML
// profile from TEMPORAL_CONFIG_FILE or the default config path, selected by
// TEMPORAL_PROFILE, then TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS*,
// TEMPORAL_API_KEY ... from the environment), explicit options override the
// address and namespace, and the defaults are 127.0.0.1:7233 and "default".
// Dial is bounded in time and reports failure as one clear line.
package tclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigilops/vigil/internal/cli"
)

// Defaults applied when neither options, config file nor environment set a
// value.
const (
	// DefaultAddress is the frontend of a local server (`worker --dev`).
	DefaultAddress = "127.0.0.1:7233"
	// DefaultNamespace is Temporal's default namespace.
	DefaultNamespace = "default"
	// DefaultTimeout bounds connecting and checking the namespace.
	DefaultTimeout = 5 * time.Second
)

// Options selects the Temporal server to dial. The zero value uses the
// environment and config file, then the defaults.
type Options struct {
	// Address overrides the configured host:port when non-empty.
	Address string
	// Namespace overrides the configured namespace when non-empty.
	Namespace string
	// Profile selects the config-file profile; empty means TEMPORAL_PROFILE
	// or "default".
	Profile string
	// ConfigFile is the TOML config file; empty means TEMPORAL_CONFIG_FILE or
	// envconfig's default path. An explicit file must exist.
	ConfigFile string
	// Timeout bounds Dial (connection, server check, namespace check); zero
	// means DefaultTimeout.
	Timeout time.Duration
	// Logger receives the SDK's logs; nil means warnings and errors only,
	// as text on stderr.
	Logger *slog.Logger
	// Env replaces the process environment (tests); nil means the OS.
	Env envconfig.EnvLookup
	// Configure, when set, adjusts the client options last (identity,
	// interceptors, data converter...).
	Configure func(*client.Options)
}

// Load resolves opts into SDK client options without contacting anything.
func Load(opts Options) (client.Options, error) {
	if opts.ConfigFile != "" {
		if _, err := os.Stat(opts.ConfigFile); err != nil {
			return client.Options{}, fmt.Errorf("temporal config file: %w", err)
		}
	}
	co, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{
		ConfigFilePath:    opts.ConfigFile,
		ConfigFileProfile: opts.Profile,
		EnvLookup:         opts.Env,
	})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client config: %w", err)
	}
	if opts.Address != "" {
		co.HostPort = opts.Address
	}
	if opts.Namespace != "" {
		co.Namespace = opts.Namespace
	}
	if co.HostPort == "" {
		co.HostPort = DefaultAddress
	}
	if co.Namespace == "" {
		co.Namespace = DefaultNamespace
	}
	logger := opts.Logger
	if logger == nil {
		logger = QuietLogger()
	}
	co.Logger = sdklog.NewStructuredLogger(logger)
	if opts.Configure != nil {
		opts.Configure(&co)
	}
	return co, nil
}

// QuietLogger returns the default SDK logger: warnings and errors as text
// on stderr.
func QuietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// Dial loads the options (see Load) and connects (see DialOptions).
func Dial(ctx context.Context, opts Options) (client.Client, error) {
	co, err := Load(opts)
	if err != nil {
		return nil, err
	}
	return DialOptions(ctx, co, opts.Timeout)
}

// DialOptions connects with already-resolved options, checks that the
// server answers and the namespace exists, all within timeout (zero means
// DefaultTimeout). Failures are a *DialError whose message is one line
// naming the address, the namespace and the likely fix.
func DialOptions(ctx context.Context, co client.Options, timeout time.Duration) (client.Client, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	c, err := client.DialContext(ctx, co)
	if err != nil {
		return nil, newDialError(ctx, co, timeout, err)
	}
	_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: co.Namespace})
	var denied *serviceerror.PermissionDenied
	if err != nil && !errors.As(err, &denied) {
		// A namespace-scoped credential may not be allowed to describe its
		// namespace; that is no reason to refuse to work.
		c.Close()
		return nil, newDialError(ctx, co, timeout, err)
	}
	return c, nil
}

// DialError reports that the Temporal server could not be used.
type DialError struct {
	// Address is the host:port dialled.
	Address string
	// Namespace is the namespace requested.
	Namespace string
	// Reason is a short description of what went wrong.
	Reason string
	// Hint suggests a fix; it may be empty.
	Hint string
	// NamespaceNotFound is true when the server answered but the namespace
	// does not exist.
	NamespaceNotFound bool
	// Err is the underlying error.
	Err error
}

// Error returns one line: what failed, where, why, and a hint.
func (e *DialError) Error() string {
	var msg string
	if e.NamespaceNotFound {
		msg = fmt.Sprintf("namespace %q not found on Temporal at %s", e.Namespace, e.Address)
	} else {
		msg = fmt.Sprintf("cannot reach Temporal at %s (namespace %q): %s", e.Address, e.Namespace, e.Reason)
	}
	if e.Hint != "" {
		msg += " — " + e.Hint
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *DialError) Unwrap() error { return e.Err }

const reachHint = "is the worker running with --dev, or TEMPORAL_ADDRESS set?"

func newDialError(ctx context.Context, co client.Options, timeout time.Duration, err error) *DialError {
	e := &DialError{Address: co.HostPort, Namespace: co.Namespace, Err: err, Hint: reachHint}
	var notFound *serviceerror.NamespaceNotFound
	var nsNotFound *serviceerror.NotFound
	var denied *serviceerror.PermissionDenied
	msg := err.Error()
	lower := strings.ToLower(msg)
	code := status.Code(err)
	if tlsCfg := co.ConnectionOptions.TLS; tlsCfg != nil && !isTLS(err, lower) && closedEarly(lower) {
		// A server that refuses the client certificate closes the
		// connection, and gRPC often sees only a broken pipe: ask once
		// more, over plain TLS, to read the server's alert.
		if perr := probeTLS(ctx, co.HostPort, tlsCfg); perr != nil {
			if _, ok := cli.TLSFailure(perr); ok {
				err, msg = perr, perr.Error()
				lower = strings.ToLower(msg)
			}
		}
	}
	switch {
	case errors.As(err, &notFound) || errors.As(err, &nsNotFound):
		e.NamespaceNotFound = true
		e.Reason = "namespace not found"
		e.Hint = fmt.Sprintf("create it (temporal operator namespace create %s) or set TEMPORAL_NAMESPACE / --namespace", co.Namespace)
	case strings.Contains(lower, "connection refused"):
		e.Reason = "connection refused"
	case strings.Contains(lower, "no such host") || strings.Contains(lower, "no children to pick from") ||
		strings.Contains(lower, "produced zero addresses"):
		e.Reason = "host name does not resolve"
		e.Hint = "check TEMPORAL_ADDRESS / --address"
	case isTLS(err, lower):
		// Before the gRPC check: a refused client certificate surfaces
		// while reading the server preface.
		e.Reason = "TLS handshake failed (" + tlsReason(err, msg) + ")"
		e.Hint = "check TEMPORAL_TLS* settings (client certificate and key, server CA), or TEMPORAL_TLS=false for a plain-text server"
	case strings.Contains(lower, "server preface") || strings.Contains(lower, "http/1.1"):
		e.Reason = "the server there does not speak gRPC"
		e.Hint = "is that the Web UI port? The Temporal frontend usually listens on :7233"
	case errors.As(err, &denied) ||
		code == codes.Unauthenticated || code == codes.PermissionDenied:
		e.Reason = "not authorized (" + lastPart(msg) + ")"
		e.Hint = "check TEMPORAL_API_KEY or the client certificate"
	case errors.Is(err, context.DeadlineExceeded) || code == codes.DeadlineExceeded ||
		strings.Contains(lower, "deadline exceeded") || ctx.Err() != nil:
		if errors.Is(ctx.Err(), context.Canceled) {
			e.Reason = "interrupted"
			e.Hint = ""
		} else {
			e.Reason = fmt.Sprintf("no answer within %s", timeout)
		}
	default:
		e.Reason = lastPart(msg)
	}
	return e
}

// lastPart keeps the innermost part of a wrapped gRPC error message, which
// is the informative one ("... desc = ...: connect: connection refused").
func lastPart(msg string) string {
	if i := strings.LastIndex(msg, "desc = "); i >= 0 {
		msg = msg[i+len("desc = "):]
	}
	msg = strings.Trim(msg, "\" ")
	return strings.Join(strings.Fields(msg), " ")
}

// isTLS reports whether a dial failure is a TLS one.
func isTLS(err error, lower string) bool {
	if _, ok := cli.TLSFailure(err); ok {
		return true
	}
	return strings.Contains(lower, "tls:") || strings.Contains(lower, "x509") || strings.Contains(lower, "certificate")
}

// tlsReason describes a TLS dial failure in the user's terms.
func tlsReason(err error, msg string) string {
	if why, ok := cli.TLSFailure(err); ok {
		return why
	}
	return lastPart(msg)
}

// closedEarly reports whether a dial failure says the server closed the
// connection (what a refused TLS handshake can look like to gRPC).
func closedEarly(lower string) bool {
	return strings.Contains(lower, "broken pipe") || strings.Contains(lower, "connection reset") || strings.Contains(lower, "eof")
}

// probeTLS opens a TLS connection to addr and reads, so that an alert the
// server sends after the handshake (a refused client certificate, in TLS
// 1.3) is returned as an error; nil when the server accepts.
func probeTLS(ctx context.Context, addr string, cfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	c := cfg.Clone()
	c.NextProtos = []string{"h2"}
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			c.ServerName = host
		}
	}
	conn, err := (&tls.Dialer{Config: c}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetReadDeadline(deadline)
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return err
}
