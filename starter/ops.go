package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/codec"
	"github.com/vigilops/vigil/internal/version"
)

// The operational side of the CLI: logs, payload encryption, the codec
// server, shell completion, version, Web UI links.

// UI address variables, first set wins.
const (
	uiURLEnv         = "VIGIL_UI_URL"
	temporalUIURLEnv = "TEMPORAL_UI_URL"
	defaultLocalUI   = "http://127.0.0.1:8233"
)

// opsFlags are the global operational flags.
type opsFlags struct {
	logFormat     string
	logLevel      string
	codecKeysFile string
}

func (a *app) addOpsFlags(pf *pflag.FlagSet) {
	pf.StringVar(&a.flags.ops.logFormat, "log-format", "text", "format of the client's log lines on stderr: text or json")
	pf.StringVar(&a.flags.ops.logLevel, "log-level", "warn", "client log level: debug, info, warn or error")
	pf.StringVar(&a.flags.ops.codecKeysFile, "codec-keys-file", "", "payload encryption keys (id:base64 per line, newest first); default $"+codec.KeysEnv+" or $"+codec.KeysFileEnv)
}

// validateOps checks the operational flags (called by validateGlobals).
func (a *app) validateOps() error {
	if f := a.flags.ops.logFormat; f != "text" && f != "json" {
		return cli.Usagef("--log-format %q: want text or json", f)
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(a.flags.ops.logLevel)); err != nil {
		return cli.Usagef("--log-level %q: want debug, info, warn or error", a.flags.ops.logLevel)
	}
	return nil
}

// logger is the client's logger on stderr in the chosen format and level.
func (a *app) logger() *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(a.flags.ops.logLevel))
	opts := &slog.HandlerOptions{Level: l}
	if a.flags.ops.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

// getenv reads the process environment, or a.env in tests.
func (a *app) getenv(k string) string {
	if a.env != nil {
		v, _ := a.env.LookupEnv(k)
		return v
	}
	return os.Getenv(k)
}

// payloadCodec loads the codec keys (none: payloads pass through, and an
// encrypted one fails to decode with one clear line).
func (a *app) payloadCodec() (*codec.Codec, error) {
	keys, err := codec.LoadKeys(a.flags.ops.codecKeysFile, a.getenv)
	if err != nil {
		return nil, err
	}
	return codec.New(keys)
}

// configureClient sets what every starter client gets: identity and the
// payload codec.
func (a *app) configureClient(pc *codec.Codec) func(*client.Options) {
	return func(co *client.Options) {
		co.Identity = identity()
		pc.Configure(co)
	}
}

// uiURL is the Web UI's base URL: VIGIL_UI_URL, TEMPORAL_UI_URL, or the
// --dev UI when the Temporal address is local; "" when unknown.
func (a *app) uiURL(address string) string {
	for _, k := range []string{uiURLEnv, temporalUIURLEnv} {
		if v := strings.TrimRight(a.getenv(k), "/"); v != "" {
			return v
		}
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return ""
	}
	if host == "localhost" || host == "" || net.ParseIP(host).IsLoopback() {
		return defaultLocalUI
	}
	return ""
}

// workflowLink is the Web UI page of one workflow run ("" when the UI
// address is unknown).
func (a *app) workflowLink(id, runID string) string {
	base := a.uiURL(a.address)
	if base == "" {
		return ""
	}
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", base, pathEscape(a.namespace), pathEscape(id), pathEscape(runID))
}

// pathEscape escapes a workflow ID for a UI path ('/' included, as the UI
// expects).
func pathEscape(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "/", "%2F")
}

// opsCommands are version, completion and codec-server.
func (a *app) opsCommands() []*cobra.Command {
	return []*cobra.Command{a.versionCommand(), a.completionCommand(), a.codecServerCommand()}
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and VCS commit of this binary",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			in := version.Get()
			if a.format == cli.FormatJSON {
				return cli.WriteJSON(a.stdout, in)
			}
			_, err := fmt.Fprintln(a.stdout, in)
			return err
		},
	}
}

func (a *app) completionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script",
		Long: `Print the completion script for bash, zsh or fish. For example:

  source <(starter completion bash)
  starter completion zsh > "${fpath[1]}/_starter"
  starter completion fish > ~/.config/fish/completions/starter.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh" && args[0] != "fish") {
				return cli.Usagef("completion needs one shell: bash, zsh or fish")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(a.stdout, true)
			case "zsh":
				return root.GenZshCompletion(a.stdout)
			default:
				return root.GenFishCompletion(a.stdout, true)
			}
		},
	}
}

// codecServerOptions are the flags of `starter codec-server`.
type codecServerOptions struct {
	bind      string
	port      int
	origins   []string
	authToken string
	// insecureNoAuth allows a non-loopback bind without a token.
	insecureNoAuth bool
}

func (a *app) codecServerCommand() *cobra.Command {
	var o codecServerOptions
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Serve the remote payload codec for the Temporal Web UI and CLI",
		Long: `Serve POST /encode and /decode (the Temporal remote codec protocol) with the
payload encryption keys, so the Web UI (Settings → Codec Server, or the UI's
TEMPORAL_CODEC_ENDPOINT) and 'temporal workflow show --codec-endpoint' show
decrypted payloads. CORS allows the --origin addresses (the Web UI's); with
--origin '*' any page may call, never with the browser's credentials.
With --auth-token-env, requests must carry "Authorization: Bearer <token>".
An address other than loopback (--bind 0.0.0.0) needs --auth-token-env, or
--insecure-no-auth where the port is published to loopback only (a container).`,
		Example: `  VIGIL_CODEC_KEYS=k2:...,k1:... starter codec-server --port 8234
  starter codec-server --origin https://temporal.example.com --auth-token-env CODEC_TOKEN`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runCodecServer(cmd.Context(), o, nil) },
	}
	f := cmd.Flags()
	f.StringVar(&o.bind, "bind", "127.0.0.1", "interface to listen on")
	f.IntVar(&o.port, "port", 8234, "port to listen on")
	f.StringSliceVar(&o.origins, "origin", []string{defaultLocalUI, "http://localhost:8233"}, "Web UI origins allowed by CORS (repeatable; * for any)")
	var tokenEnv string
	f.StringVar(&tokenEnv, "auth-token-env", "", "environment variable holding the bearer token requests must carry (none: no check; required unless --bind is loopback)")
	f.BoolVar(&o.insecureNoAuth, "insecure-no-auth", false, "allow a non-loopback --bind without --auth-token-env (only where the port is published to loopback alone, e.g. in a container)")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if o.port < 0 || o.port > 65535 {
			return cli.Usagef("--port %d is not a port number", o.port)
		}
		if tokenEnv == "" && !o.insecureNoAuth && !codec.IsLoopback(o.bind) {
			return cli.Usagef("--bind %q is not a loopback address: set --auth-token-env VAR so every request must carry its bearer token", o.bind)
		}
		if tokenEnv != "" {
			if o.authToken = a.getenv(tokenEnv); o.authToken == "" {
				return cli.Usagef("--auth-token-env %s: the variable is empty", tokenEnv)
			}
		}
		return nil
	}
	return cmd
}

// runCodecServer serves until ctx ends; listening reports the address
// once it listens (tests).
func (a *app) runCodecServer(ctx context.Context, o codecServerOptions, listening func(addr string)) error {
	pc, err := a.payloadCodec()
	if err != nil {
		return err
	}
	if !pc.Enabled() {
		return fmt.Errorf("codec-server: no keys: set %s or %s, or --codec-keys-file", codec.KeysEnv, codec.KeysFileEnv)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.bind, strconv.Itoa(o.port)))
	if err != nil {
		return fmt.Errorf("codec-server: %w", err)
	}
	srv := codec.NewHTTPServer(codec.Handler(pc, codec.ServerOptions{Origins: o.origins, AuthToken: o.authToken}))
	fmt.Fprintf(a.stderr, "codec server on http://%s (encrypting key %s; CORS origins %s)\n", ln.Addr(), pc.KeyID(), strings.Join(o.origins, ", "))
	if listening != nil {
		listening(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
