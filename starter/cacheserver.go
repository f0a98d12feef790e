package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilops/vigil/internal/cacheserver"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/location"
)

// cacheServerCommand is `starter cache-server`: vigil's example cache
// server, in the starter because its --restore-from is a Temporal client
// like the starter's other verbs (same connection flags and environment).
func (a *app) cacheServerCommand() *cobra.Command {
	var listen, user, passwordEnv, restoreFrom, selfURL string
	var sizeMiB int64
	cmd := &cobra.Command{
		Use:   "cache-server [--listen ADDR] [--restore-from s3://bucket/prefix/name/]",
		Short: "Run the example cache server (in-memory cells, /snapshot for backups, restores itself at start)",
		Long: `cache-server serves an in-memory array (default 64 MiB) behind basic auth (user --user,
password from the env var --password-env): GET/PUT /cells/{i} and /cells?offset=&count=
(JSON, bounds checked), GET /snapshot streams the array, PUT /snapshot replaces it (exact
size), /healthz, and /readyz (503 until a --restore-from restore is done).
With --restore-from it starts the 'restore' workflow into its own /snapshot: the worker PUTs
the latest backup to --self-url with the same user and reads the password from its own env
var of the same name. With no backup yet it starts empty and says so in one line.
Back it up with: starter backup run --name cache --from <self-url>/snapshot --user ... --password-env ...`,
		Example: `  CACHE_PASSWORD=secret starter cache-server --listen 127.0.0.1:8090 --restore-from s3://demo-backups/cache/`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			password := os.Getenv(passwordEnv)
			switch {
			case sizeMiB < 1:
				return cli.Usagef("--size %d: want at least 1 (MiB)", sizeMiB)
			case user == "":
				return cli.Usagef("--user must not be empty")
			case password == "":
				return cli.Usagef("environment variable %s (the basic-auth password) is not set", passwordEnv)
			}
			if restoreFrom != "" {
				loc, err := location.Parse(restoreFrom)
				if err != nil || loc.Scheme != location.S3 {
					return cli.Usagef("--restore-from %q: want s3://bucket/prefix/name/", restoreFrom)
				}
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return cli.Usagef("--listen %s: %v", listen, err)
			}
			if selfURL == "" {
				selfURL = "http://" + ln.Addr().String()
			}
			selfURL = strings.TrimSuffix(selfURL, "/")
			return a.runCacheServer(cmd.Context(), ln, cacheserver.Options{Size: sizeMiB << 20, User: user, Password: password},
				restoreFrom, selfURL, passwordEnv)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8090", "address to listen on")
	f.Int64Var(&sizeMiB, "size", cacheserver.DefaultSize>>20, "array size in MiB")
	f.StringVar(&user, "user", "vigil", "basic-auth user")
	f.StringVar(&passwordEnv, "password-env", "CACHE_PASSWORD", "env var holding the basic-auth password (the worker needs it too for --restore-from)")
	f.StringVar(&restoreFrom, "restore-from", "", "restore the latest backup of s3://bucket/prefix/name/ at start")
	f.StringVar(&selfURL, "self-url", "", "URL the worker reaches this server at (default http://<listen address>)")
	return cmd
}

func (a *app) runCacheServer(ctx context.Context, ln net.Listener, opts cacheserver.Options, restoreFrom, selfURL, passwordEnv string) error {
	logger := slog.New(slog.NewTextHandler(a.stderr, nil))
	opts.Logger = logger
	s := cacheserver.New(opts)
	srv := cacheserver.NewHTTPServer(s.Handler())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("cache server listening", "url", selfURL, "bytes", s.Size())
	if restoreFrom == "" {
		s.SetReady(true, "")
	} else {
		c, err := a.connect(ctx)
		if err != nil {
			_ = srv.Close()
			return err
		}
		defer c.Close()
		if err := s.Restore(ctx, cacheserver.RestoreOptions{Client: c, TaskQueue: a.flags.taskQueue, From: restoreFrom,
			SelfURL: selfURL, User: opts.User, PasswordEnv: passwordEnv}); err != nil {
			_ = srv.Close()
			return fmt.Errorf("cache server: %w", err)
		}
	}
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
