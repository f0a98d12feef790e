// Package devserver embeds a Temporal server (SQLite persistence) and the
// Temporal Web UI in the current process, for `worker --dev`. It follows the
// known pitfalls of embedding: schema set up before NewServer,
// static membership, search attributes registered through the operator API
// with the cache refresh flag on, UI port checked before the UI starts.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// DBFileName is the SQLite file kept in the data directory.
const DBFileName = "temporal.db"

// Options configure an embedded server. Zero values pick sensible defaults.
type Options struct {
	// DataDir holds the SQLite file; empty keeps everything in memory.
	DataDir string
	// IP to bind; default 127.0.0.1.
	IP string
	// FrontendPort for gRPC; 0 picks a free port.
	FrontendPort int
	// UIPort for the Web UI; 0 picks a free port, -1 disables the UI.
	UIPort int
	// Namespace to create; default "default".
	Namespace string
	// SearchAttributes to register (name → type) in Namespace.
	SearchAttributes map[string]enumspb.IndexedValueType
	// Logger receives the server's log lines at or above LogLevel.
	Logger *slog.Logger
	// LogLevel of server logs; default warn (the server is noisy).
	LogLevel slog.Level
	// WorkerController turns on the server's auto-scaled workers with the
	// subprocess compute provider (workercontroller.go).
	WorkerController bool
}

// Server is a running embedded Temporal server and Web UI.
type Server struct {
	opts     Options
	temporal temporal.Server
	ui       *uiserver.Server
	level    *slog.LevelVar
	frontend string
	uiURL    string
}

// Start builds and starts the server, waits until the frontend and the UI
// answer, and registers the search attributes. On error nothing is left
// running.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LogLevel == 0 {
		opts.LogLevel = slog.LevelWarn
	}
	ports, err := pickPorts(opts)
	if err != nil {
		return nil, err
	}
	opts.FrontendPort, opts.UIPort = ports[0], ports[4]
	sqlConf, err := prepareDatabase(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, level: new(slog.LevelVar)}
	s.level.Set(opts.LogLevel)
	s.frontend = net.JoinHostPort(opts.IP, strconv.Itoa(opts.FrontendPort))

	srv, err := temporal.NewServer(s.serverOptions(sqlConf, ports)...)
	if err != nil {
		return nil, fmt.Errorf("building Temporal server: %w", err)
	}
	if opts.UIPort >= 0 {
		s.startUI(opts.UIPort)
	}
	if err := srv.Start(); err != nil {
		s.stopUI()
		return nil, fmt.Errorf("starting Temporal server: %w", err)
	}
	s.temporal = srv
	if err := s.registerSearchAttributes(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	if s.ui != nil {
		if err := waitHTTP(ctx, s.uiURL+"/healthz"); err != nil {
			_ = s.Stop()
			return nil, fmt.Errorf("web UI did not come up: %w", err)
		}
	}
	return s, nil
}

// FrontendAddr is the host:port clients dial.
func (s *Server) FrontendAddr() string { return s.frontend }

// UIURL is the Web UI's base URL, empty when the UI is disabled.
func (s *Server) UIURL() string { return s.uiURL }

// Namespace is the namespace the server created.
func (s *Server) Namespace() string { return s.opts.Namespace }

// Stop stops the subprocess workers it started (AutoScale), the UI, then
// the server. Shutdown warnings are silenced.
func (s *Server) Stop() error {
	s.level.Set(slog.LevelError + 4)
	s.StopWorkers()
	s.stopUI()
	if s.temporal == nil {
		return nil
	}
	err := s.temporal.Stop()
	s.temporal = nil
	return err
}

// pickPorts returns frontend, history, matching, worker and UI ports,
// checking that the requested public ones are free.
func pickPorts(opts Options) ([]int, error) {
	ports := make([]int, 5)
	want := []int{opts.FrontendPort, 0, 0, 0, opts.UIPort}
	for i, p := range want {
		switch {
		case i == 4 && p < 0:
			ports[i] = -1
		case p == 0:
			free, err := FreePort()
			if err != nil {
				return nil, err
			}
			ports[i] = free
		default:
			if err := CheckPortFree(opts.IP, p); err != nil {
				return nil, err
			}
			ports[i] = p
		}
	}
	return ports, nil
}

// prepareDatabase returns the SQLite config, creating the file and its
// schema first when needed (NewServer already connects, so this must come
// before it). An empty file left by a crash is recreated.
func prepareDatabase(opts Options) (*config.SQL, error) {
	conf := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{},
	}
	if opts.DataDir == "" {
		conf.DatabaseName = uuid.NewString()
		conf.ConnectAttributes["mode"] = "memory"
		conf.ConnectAttributes["cache"] = "shared"
	} else {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating data dir: %w", err)
		}
		conf.DatabaseName = filepath.Join(opts.DataDir, DBFileName)
		conf.ConnectAttributes["mode"] = "rwc"
		fi, err := os.Stat(conf.DatabaseName)
		if err == nil && fi.Size() == 0 {
			if err := os.Remove(conf.DatabaseName); err != nil {
				return nil, err
			}
		}
		if err != nil || fi.Size() == 0 {
			if err := sqliteschema.SetupSchema(conf); err != nil {
				return nil, fmt.Errorf("setting up SQLite schema in %s: %w", conf.DatabaseName, err)
			}
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig("active", opts.Namespace, false, nil)
	if err != nil {
		return nil, err
	}
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, fmt.Errorf("creating namespace %q: %w", opts.Namespace, err)
	}
	return conf, nil
}

func (s *Server) serverOptions(sqlConf *config.SQL, ports []int) []temporal.ServerOption {
	ip := s.opts.IP
	addr := func(p int) string { return net.JoinHostPort(ip, strconv.Itoa(p)) }
	service := func(p int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: p, BindOnIP: ip}}
	}
	conf := &config.Config{
		Global: config.Global{
			Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: ip},
		},
		Persistence: config.Persistence{
			DefaultStore:     sqliteplugin.PluginName,
			VisibilityStore:  sqliteplugin.PluginName,
			NumHistoryShards: 1,
			DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlConf}},
		},
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        "active",
			CurrentClusterName:       "active",
			ClusterInformation: map[string]cluster.ClusterInformation{
				"active": {Enabled: true, InitialFailoverVersion: 1, RPCAddress: s.frontend, ClusterID: uuid.NewString()},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services: map[string]config.Service{
			"frontend": service(ports[0]),
			"history":  service(ports[1]),
			"matching": service(ports[2]),
			"worker":   service(ports[3]),
		},
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
			History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
			Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
		}},
		PublicClient: config.PublicClient{HostPort: s.frontend},
	}
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.MakeKey("system.forceSearchAttributesCacheRefreshOnRead"): true,
		dynamicconfig.MakeKey("frontend.namespaceRPS.visibility"):               100,
		dynamicconfig.MakeKey("frontend.persistenceMaxQPS"):                     10000,
		dynamicconfig.MakeKey("history.persistenceMaxQPS"):                      45000,
		dynamicconfig.MakeKey("history.hostLevelCacheMaxSize"):                  8096,
		// One partition per task queue, as Temporal's own dev server: with the
		// default four, a task written to a partition no poller waits on is
		// forwarded or persisted first, 20-50 ms per workflow or activity task
		// (measured with the glacier-notify bench).
		dynamicconfig.MakeKey("matching.numTaskqueueReadPartitions"):  1,
		dynamicconfig.MakeKey("matching.numTaskqueueWritePartitions"): 1,
		// The one history shard's queues are read at most 20 times a second
		// by default (a cluster spreads its load over hundreds of shards):
		// every workflow and activity task then waits up to 50 ms before
		// matching sees it, a timer as long to fire, a run as long to show
		// in visibility. 1000 reads a second on one shard.
		dynamicconfig.MakeKey("history.transferProcessorMaxPollRPS"):   1000,
		dynamicconfig.MakeKey("history.timerProcessorMaxPollRPS"):      1000,
		dynamicconfig.MakeKey("history.visibilityProcessorMaxPollRPS"): 1000,
	}
	for k, v := range versioningConfig {
		dyn[k] = v
	}
	if s.opts.WorkerController {
		for k, v := range workerControllerConfig() {
			dyn[k] = v
		}
	}
	hosts := map[primitives.ServiceName]static.Hosts{
		primitives.FrontendService: static.SingleLocalHost(addr(ports[0])),
		primitives.HistoryService:  static.SingleLocalHost(addr(ports[1])),
		primitives.MatchingService: static.SingleLocalHost(addr(ports[2])),
		primitives.WorkerService:   static.SingleLocalHost(addr(ports[3])),
	}
	return []temporal.ServerOption{
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(&serverLogger{l: s.opts.Logger.With("component", "temporal"), level: s.level}),
		temporal.WithDynamicConfigClient(dyn),
	}
}

func (s *Server) startUI(port int) {
	s.uiURL = "http://" + net.JoinHostPort(s.opts.IP, strconv.Itoa(port))
	s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                s.opts.IP,
		Port:                port,
		TemporalGRPCAddress: s.frontend,
		EnableUI:            true,
		DefaultNamespace:    s.opts.Namespace,
		DisableNewsFetch:    true,
		HideLogs:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
	}))
	go func() {
		// Start blocks until Stop; a bind error would os.Exit, which the
		// CheckPortFree in pickPorts guards against.
		_ = s.ui.Start()
	}()
}

func (s *Server) stopUI() {
	if s.ui != nil {
		s.ui.Stop()
		s.ui = nil
	}
}

// registerSearchAttributes adds the configured attributes through the
// operator API. Adding an existing one is a no-op, so this is safe on every
// start and also adds attributes introduced by a newer vigil.
func (s *Server) registerSearchAttributes(ctx context.Context) error {
	if len(s.opts.SearchAttributes) == 0 {
		return nil
	}
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        s.opts.Namespace,
		SearchAttributes: s.opts.SearchAttributes,
	})
	if err != nil {
		return fmt.Errorf("registering search attributes: %w", err)
	}
	return nil
}

// dial connects a client to the server's namespace.
func (s *Server) dial(ctx context.Context) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{HostPort: s.frontend, Namespace: s.opts.Namespace, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return nil, fmt.Errorf("dialing embedded server: %w", err)
	}
	return c, nil
}

// waitHTTP polls url until it answers 200 or ctx ends.
func waitHTTP(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last: %v)", url, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
