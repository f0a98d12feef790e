package workerapp

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/codec"
	"github.com/vigilops/vigil/internal/metrics"
)

// DefaultDevMetricsAddr is where --dev serves metrics unless told
// otherwise (a free port when it is taken).
const DefaultDevMetricsAddr = "127.0.0.1:9090"

// OpsConfig are the operational flags: logs, metrics, payload encryption,
// version, and running the local cloud alone.
type OpsConfig struct {
	// CloudOnly runs only the local cloud emulators (no Temporal, no
	// worker), on CloudBind:CloudPort.
	CloudOnly bool
	// CloudBind is the interface --cloud-only listens on.
	CloudBind string
	// MetricsAddr serves Prometheus metrics on host:port; empty is off
	// (in --dev, DefaultDevMetricsAddr).
	MetricsAddr string
	// LogFormat is text or json.
	LogFormat string
	// CodecKeysFile holds the payload codec keys (see internal/codec);
	// empty uses VIGIL_CODEC_KEYS / VIGIL_CODEC_KEYS_FILE.
	CodecKeysFile string
	// Version prints the version and exits.
	Version bool
	// Probe GETs this URL and exits 0 on a 2xx answer, 1 otherwise: the
	// container health check of an image without a shell or curl.
	Probe string
}

func addOpsFlags(fs *flag.FlagSet, o *OpsConfig) {
	fs.BoolVar(&o.CloudOnly, "cloud-only", false, "run only the local cloud emulators (S3, SQS, SNS, Glacier, Slack sink) on --cloud-bind:--cloud-port; no Temporal, no worker")
	fs.StringVar(&o.CloudBind, "cloud-bind", "127.0.0.1", "interface --cloud-only listens on (0.0.0.0 in a container)")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics (SDK and vigil's) on host:port at /metrics; off by default, "+DefaultDevMetricsAddr+" with --dev")
	fs.StringVar(&o.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.CodecKeysFile, "codec-keys-file", "", "file with the payload encryption keys (id:base64 per line, newest first); default $"+codec.KeysEnv+" or $"+codec.KeysFileEnv+"; none: payloads are not encrypted")
	fs.BoolVar(&o.Version, "version", false, "print the version and exit")
	fs.StringVar(&o.Probe, "probe", "", "GET this URL and exit 0 on a 2xx answer, 1 otherwise (container health checks, e.g. http://127.0.0.1:9090/healthz)")
}

func (o OpsConfig) validate() error {
	if o.LogFormat != "text" && o.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", o.LogFormat)
	}
	if o.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(o.MetricsAddr); err != nil {
			return fmt.Errorf("--metrics-addr %q: want host:port", o.MetricsAddr)
		}
	}
	return nil
}

// newLogger is the worker's logger in the configured format and level.
func (c Config) newLogger(w io.Writer) (*slog.Logger, error) {
	level, err := c.slogLevel()
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Ops.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// startMetrics serves /metrics when asked to (always in --dev, on a free
// port when the default one is taken) and returns the SDK handler to give
// the client; both are nil when metrics are off.
func startMetrics(cfg Config, logger *slog.Logger) (*metrics.Server, client.MetricsHandler, error) {
	addr := cfg.Ops.MetricsAddr
	if addr == "" && !cfg.Dev {
		return nil, nil, nil
	}
	if addr == "" {
		addr = DefaultDevMetricsAddr
		if ln, err := net.Listen("tcp", addr); err != nil {
			addr = "127.0.0.1:0"
		} else {
			_ = ln.Close()
		}
	}
	h, err := metrics.SDKHandler()
	if err != nil {
		return nil, nil, err
	}
	srv, err := metrics.Serve(addr, logger)
	if err != nil {
		return nil, nil, err
	}
	return srv, h, nil
}

// loadCodec builds the payload codec from the configured keys (it passes
// payloads through when there are none).
func loadCodec(cfg Config) (*codec.Codec, error) {
	keys, err := codec.LoadKeys(cfg.Ops.CodecKeysFile, os.Getenv)
	if err != nil {
		return nil, err
	}
	return codec.New(keys)
}

// probe GETs url within 3 s; the error says why it is not healthy.
func probe(url string) error {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}
