// Package glacieremu emulates Amazon S3 Glacier (the vault API) for vigil's
// local cloud. It speaks REST-JSON as aws-sdk-go-v2/service/glacier sends
// it: vaults, archives (single and multipart upload, checked against the
// x-amz-sha256-tree-hash header), retrieval jobs that complete after a
// per-tier delay and then notify an SNS topic in the shape Glacier uses,
// ranged job output with the tree hash of aligned ranges, and vault
// notification configurations.
//
// Archives are files on disk (DataDir, or a temporary directory removed on
// Close), so multi-gigabyte archives cost no memory; vaults, archive
// metadata and jobs are kept in a JSON state file and survive a restart,
// pending jobs included.
package glacieremu

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Publisher publishes a message to an SNS topic; the SNS emulator
// implements it.
type Publisher interface {
	Publish(topicARN, subject, message string) (messageID string, err error)
}

// Options configure the emulator.
type Options struct {
	// Region and AccountID go into vault ARNs; defaults us-east-1 and
	// 000000000000.
	Region, AccountID string
	// DataDir keeps archives and state; empty uses a temporary directory
	// that Close removes.
	DataDir string
	// Logger receives request errors and notification failures; nil discards.
	Logger *slog.Logger
	// TierDelays is how long a job takes per tier (Expedited, Standard,
	// Bulk); missing tiers use DefaultTierDelays.
	TierDelays map[string]time.Duration
	// OutputTTL is how long a completed job's output stays available;
	// default 24 h, as in Glacier.
	OutputTTL time.Duration
	// Topics receives job completion notifications; nil drops them.
	Topics Publisher
}

// DefaultTierDelays are used for tiers Options.TierDelays does not set.
var DefaultTierDelays = map[string]time.Duration{"Expedited": time.Second, "Standard": 5 * time.Second, "Bulk": 10 * time.Second}

// Service is the Glacier emulator. It implements the local cloud's service
// interface (Name, Match, ServeHTTP) and an in-process API for fixtures
// and tests (CreateVault, PutArchive, GetJobOutputCalls).
type Service struct {
	opts    Options
	log     *slog.Logger
	dir     string
	tempDir bool
	now     func() time.Time

	mu      sync.Mutex
	st      state
	uploads map[string]*upload     // multipart uploads by id (not persisted)
	timers  map[string]*time.Timer // pending job completions by job id
	calls   map[string][]string    // served GetJobOutput ranges by job id
	closed  bool
	wg      sync.WaitGroup // completions publishing notifications
}

// New opens (or creates) the emulator's store and re-arms pending jobs.
func New(opts Options) (*Service, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.OutputTTL <= 0 {
		opts.OutputTTL = 24 * time.Hour
	}
	s := &Service{opts: opts, log: opts.Logger, dir: opts.DataDir, now: time.Now,
		uploads: map[string]*upload{}, timers: map[string]*time.Timer{}, calls: map[string][]string{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.dir == "" {
		d, err := os.MkdirTemp("", "vigil-glacier-")
		if err != nil {
			return nil, err
		}
		s.dir, s.tempDir = d, true
	}
	if err := os.MkdirAll(filepath.Join(s.dir, "archives"), 0o755); err != nil {
		return nil, err
	}
	// Uploads in progress are not kept across a restart: drop their files.
	if leftovers, err := filepath.Glob(filepath.Join(s.dir, "archives", "*", ".*")); err == nil {
		for _, f := range leftovers {
			_ = os.Remove(f)
		}
	}
	if err := s.load(); err != nil {
		return nil, fmt.Errorf("glacier state in %s: %w", s.dir, err)
	}
	s.mu.Lock()
	for _, j := range s.st.Jobs {
		if !j.Desc.Completed {
			s.armLocked(j)
		}
	}
	s.mu.Unlock()
	return s, nil
}

// Name is "glacier".
func (s *Service) Name() string { return "glacier" }

// Match accepts requests the Glacier SDK sends: they carry the API version
// header, or are signed for the glacier service.
func (s *Service) Match(r *http.Request) bool {
	return r.Header.Get("X-Amz-Glacier-Version") != "" || strings.Contains(r.Header.Get("Authorization"), "/glacier/aws4_request")
}

// Close stops pending job timers and removes a temporary store.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	for id, t := range s.timers {
		t.Stop()
		delete(s.timers, id)
	}
	s.mu.Unlock()
	s.wg.Wait()
	if s.tempDir {
		return os.RemoveAll(s.dir)
	}
	return nil
}

// tierDelay is how long a job of the tier takes.
func (s *Service) tierDelay(tier string) time.Duration {
	if d, ok := s.opts.TierDelays[tier]; ok {
		return d
	}
	return DefaultTierDelays[tier]
}

// vaultARN names a vault.
func (s *Service) vaultARN(name string) string {
	return fmt.Sprintf("arn:aws:glacier:%s:%s:vaults/%s", s.opts.Region, s.opts.AccountID, name)
}

// isoTime is Glacier's date format.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
