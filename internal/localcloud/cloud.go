package localcloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/vigilops/vigil/internal/localcloud/demoapp"
	"github.com/vigilops/vigil/internal/localcloud/glacieremu"
	"github.com/vigilops/vigil/internal/localcloud/s3lite"
	"github.com/vigilops/vigil/internal/localcloud/slacksink"
	"github.com/vigilops/vigil/internal/localcloud/snsemu"
	"github.com/vigilops/vigil/internal/localcloud/sqsemu"
)

// Defaults shared with the AWS configuration of the dev stack.
const (
	Region    = "us-east-1"
	AccountID = "000000000000"
)

// Options configure the local cloud.
type Options struct {
	// Addr to listen on, host:port; port 0 picks a free one.
	Addr string
	// DataDir keeps S3 objects; empty keeps everything in memory.
	DataDir string
	// Logger for the emulators; nil discards.
	Logger *slog.Logger
	// TierDelays is how long Glacier jobs and S3 restores take per tier
	// (Expedited, Standard, Bulk); nil uses the dev defaults.
	TierDelays map[string]time.Duration
	// S3DropRate is the fraction of S3 ObjectCreated events silently
	// dropped (0 delivers all), to rehearse S3's lost events.
	S3DropRate float64
	// S3DuplicateRate and S3DelayMax: see s3lite.EventFaults.
	S3DuplicateRate float64
	S3DelayMax      time.Duration
	// Wrap, when set, wraps the whole handler (tests inject faults with it).
	Wrap func(http.Handler) http.Handler
	// Faults fail or slow a fraction of calls per service and operation
	// with the services' own errors (see Fault; Cloud.SetFaults changes
	// them while serving).
	Faults []Fault
}

// DevTierDelays are the --dev retrieval delays: long enough to watch a
// flow wait in the Web UI, short enough not to get bored.
var DevTierDelays = map[string]time.Duration{"Expedited": 5 * time.Second, "Standard": 30 * time.Second, "Bulk": 90 * time.Second}

// Cloud is the running local cloud: every emulator behind one listener.
type Cloud struct {
	// The emulators, for in-process use (fixtures, tests).
	SQS     *sqsemu.Service
	SNS     *snsemu.Service
	Glacier *glacieremu.Service
	S3      *s3lite.Service
	Slack   *slacksink.Service
	Demo    *demoapp.Service

	services []Service
	faults   faults
	logger   *slog.Logger
	srv      *http.Server
	url      string
}

// New builds the emulators without listening (see Start and ServeHTTP).
func New(opts Options) (*Cloud, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Cloud{logger: logger}
	c.SetFaults(opts.Faults)
	c.SQS = sqsemu.New(sqsemu.Options{Region: Region, AccountID: AccountID, Logger: logger})
	c.SNS = snsemu.New(snsemu.Options{Region: Region, AccountID: AccountID, Logger: logger, Queues: c.SQS, Endpoint: "http://" + opts.Addr})
	c.Slack = slacksink.New(slacksink.Options{Logger: logger})
	tiers := opts.TierDelays
	if tiers == nil {
		tiers = DevTierDelays
	}
	g, err := glacieremu.New(glacieremu.Options{Region: Region, AccountID: AccountID, DataDir: subdir(opts.DataDir, "glacier"),
		Logger: logger, TierDelays: tiers, Topics: c.SNS})
	if err != nil {
		return nil, fmt.Errorf("local Glacier: %w", err)
	}
	c.Glacier = g
	s3, err := s3lite.New(s3lite.Options{DataDir: subdir(opts.DataDir, "s3"), Logger: logger,
		TierDelays: tiers, Region: Region, Queues: c.SQS, Topics: c.SNS, DropRate: opts.S3DropRate,
		DuplicateRate: opts.S3DuplicateRate, DelayMax: opts.S3DelayMax})
	if err != nil {
		_ = g.Close()
		return nil, fmt.Errorf("local S3: %w", err)
	}
	c.S3 = s3
	c.Demo = demoapp.New(s3, logger)
	// Order matters: the first service that matches a request serves it,
	// and S3 matches everything.
	c.services = []Service{c.Slack, c.Demo, c.SQS, c.SNS, c.Glacier, c.S3}
	return c, nil
}

// subdir is dir/name, or "" (in memory or temporary) when dir is "".
func subdir(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

// Start builds the cloud and serves it on opts.Addr.
func Start(opts Options) (*Cloud, error) {
	c, err := New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		_ = c.closeStores()
		return nil, fmt.Errorf("local cloud: %w", err)
	}
	c.url = "http://" + ln.Addr().String()
	var h http.Handler = c
	if opts.Wrap != nil {
		h = opts.Wrap(c)
	}
	c.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := c.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.logger.Error("local cloud stopped", "error", err)
		}
	}()
	return c, nil
}

// URL is the endpoint, e.g. http://127.0.0.1:4566 (empty before Start).
func (c *Cloud) URL() string { return c.url }

// ServeHTTP routes a request to the first service that matches it.
func (c *Cloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, s := range c.services {
		if s.Match(r) {
			if c.faults.inject(w, r, s.Name()) {
				return
			}
			s.ServeHTTP(w, r)
			return
		}
	}
	http.Error(w, "no local cloud service for this request", http.StatusNotFound)
}

// Names lists the services in routing order.
func (c *Cloud) Names() []string {
	out := make([]string, len(c.services))
	for i, s := range c.services {
		out[i] = s.Name()
	}
	return out
}

// Close stops serving (long polls are cut) and closes the stores.
func (c *Cloud) Close() error {
	var err error
	if c.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if e := c.srv.Shutdown(ctx); e != nil {
			err = c.srv.Close()
		}
	}
	return errors.Join(err, c.closeStores())
}

// closeStores closes the emulators that keep state on disk or timers.
func (c *Cloud) closeStores() error {
	return errors.Join(c.Glacier.Close(), c.S3.Close())
}
