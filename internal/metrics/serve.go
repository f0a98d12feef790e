package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// SDKHandler returns a Temporal SDK metrics handler whose metrics (worker
// task slots, poll and schedule-to-start latencies, activity and workflow
// task counts, ...) are exported on Registry through OpenTelemetry's
// Prometheus exporter. Pass it as client.Options.MetricsHandler; every
// call returns the same handler.
func SDKHandler() (client.MetricsHandler, error) {
	sdkOnce.Do(func() { sdkHandler, sdkErr = newSDKHandler() })
	return sdkHandler, sdkErr
}

// The exporter registers on Registry, which accepts it once per process.
var (
	sdkOnce    sync.Once
	sdkHandler client.MetricsHandler
	sdkErr     error
)

func newSDKHandler() (client.MetricsHandler, error) {
	exp, err := otelprom.New(otelprom.WithRegisterer(Registry), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                provider.Meter("temporal-sdk-go"),
		UseMonotonicCounters: true,
		OnError:              func(err error) { slog.Warn("metrics: SDK metric", "error", err) },
	}), nil
}

// Handler serves Registry in the Prometheus text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry})
}

// Server is a running /metrics endpoint.
type Server struct {
	srv   *http.Server
	ln    net.Listener
	ready atomic.Bool
}

// Serve listens on addr ("host:port"; port 0 picks a free one) and serves
// /metrics until Close, and /healthz (200 once SetReady was called, 503
// before). The listen error is returned at once.
func Serve(addr string, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler())
	s := &Server{ln: ln}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics endpoint stopped", "error", err)
		}
	}()
	return s, nil
}

// URL is the endpoint's address, http://host:port/metrics.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/metrics" }

// SetReady makes /healthz answer 200.
func (s *Server) SetReady() { s.ready.Store(true) }

// Close stops serving.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}
