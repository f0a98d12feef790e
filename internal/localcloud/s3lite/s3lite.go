// Package s3lite is the local cloud's S3: gofakes3 on a directory (state
// survives a restart), path-style, accepting what the default
// aws-sdk-go-v2 client sends.
//
// On top of gofakes3 it emulates archive storage classes (GLACIER,
// DEEP_ARCHIVE) with RestoreObject, and bucket notifications delivered to
// the SQS and SNS emulators as S3 event records.
package s3lite

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/spf13/afero"
)

// Options configure the emulator.
type Options struct {
	// DataDir keeps buckets and objects; empty keeps them in memory.
	DataDir string
	// Logger receives errors and delivery failures; nil discards.
	Logger *slog.Logger
	// TierDelays is how long a restore takes per tier ("Expedited",
	// "Standard", "Bulk"); a missing tier uses DefaultTierDelays.
	TierDelays map[string]time.Duration
	// Region goes into event records (awsRegion); default us-east-1.
	Region string
	// Queues receives notifications for QueueConfigurations; nil drops
	// them (logged).
	Queues QueueSender
	// Topics receives notifications for TopicConfigurations; nil drops
	// them (logged).
	Topics TopicPublisher
	// DropRate is the fraction (0..1) of ObjectCreated events silently
	// lost, as S3 occasionally does.
	DropRate float64
	// DuplicateRate is the fraction (0..1) of ObjectCreated events sent
	// twice (S3 delivers at least once).
	DuplicateRate float64
	// DelayMax delays each ObjectCreated event by a random 0..DelayMax.
	DelayMax time.Duration
}

// Service is the S3 emulator.
type Service struct {
	backend gofakes3.Backend
	// index is backend's key index (listings, conditional deletes).
	index   *indexedBackend
	handler http.Handler
	log     *slog.Logger
	opts    Options
	// statePath is the JSON file of restores and notification
	// configurations; empty keeps them in memory.
	statePath string

	mu       sync.Mutex
	restores map[string]*restoreState              // by objectRef
	notifs   map[string]*notificationConfiguration // by bucket
	timers   map[string]*time.Timer                // pending restores, by objectRef
	seq      uint64                                // event sequencer
	closed   bool
	wg       sync.WaitGroup // timer callbacks delivering events
	faults   faultState     // event drops, duplicates and delays
	// sums remembers full-object checksums (checksum.go), by bucket/key.
	sums sync.Map
}

// New builds the emulator.
func New(opts Options) (*Service, error) {
	var backend gofakes3.Backend
	if opts.DataDir == "" {
		backend = s3mem.New()
	} else {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, err
		}
		fs, err := s3afero.NewBasePathFs(afero.NewOsFs(), opts.DataDir, 0)
		if err != nil {
			return nil, err
		}
		b, err := s3afero.MultiBucket(fs)
		if err != nil {
			return nil, fmt.Errorf("S3 store in %s: %w", opts.DataDir, err)
		}
		backend = b
	}
	backend, index, err := newIndexed(backend)
	if err != nil {
		return nil, fmt.Errorf("S3 key index: %w", err)
	}
	f := gofakes3.New(backend, gofakes3.WithAutoBucket(false), gofakes3.WithTimeSkewLimit(0))
	s := &Service{backend: backend, index: index, handler: f.Server(), log: opts.Logger, opts: opts,
		restores: map[string]*restoreState{}, notifs: map[string]*notificationConfiguration{},
		timers: map[string]*time.Timer{}, seq: uint64(time.Now().UnixNano())}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.faults.f = EventFaults{DropRate: opts.DropRate, DuplicateRate: opts.DuplicateRate, DelayMax: opts.DelayMax}
	if s.opts.Region == "" {
		s.opts.Region = "us-east-1"
	}
	if opts.DataDir != "" {
		s.statePath = filepath.Join(opts.DataDir, stateFile)
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Name is "s3".
func (s *Service) Name() string { return "s3" }

// Match accepts everything: S3 is the fallback of the shared endpoint.
func (s *Service) Match(*http.Request) bool { return true }

// Close stops pending restore timers and waits for the deliveries they
// started; the store itself needs no closing.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	for ref, t := range s.timers {
		t.Stop()
		delete(s.timers, ref)
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// CreateBucket creates a bucket unless it exists.
func (s *Service) CreateBucket(name string) error {
	ok, err := s.backend.BucketExists(name)
	if err != nil || ok {
		return err
	}
	return s.backend.CreateBucket(name)
}

// PutObject stores a STANDARD object; meta are user metadata
// (x-amz-meta-*). Like any write it emits ObjectCreated:Put.
func (s *Service) PutObject(bucket, key string, r io.Reader, size int64, meta map[string]string) error {
	return s.putObject(bucket, key, r, size, meta, "")
}

// PutArchivedObject stores an object in the given storage class (GLACIER,
// DEEP_ARCHIVE, or any other valid class), as PUT with
// x-amz-storage-class would. It emits ObjectCreated:Put.
func (s *Service) PutArchivedObject(bucket, key string, r io.Reader, size int64, class string) error {
	if !validStorageClass(class) {
		return fmt.Errorf("invalid storage class %q", class)
	}
	return s.putObject(bucket, key, r, size, nil, class)
}

func (s *Service) putObject(bucket, key string, r io.Reader, size int64, meta map[string]string, class string) error {
	stored := make(map[string]string, len(meta)+2)
	for k, v := range meta {
		stored["X-Amz-Meta-"+http.CanonicalHeaderKey(k)] = v
	}
	if class != "" && class != classStandard {
		stored[storageClassHeader] = class
	}
	stored["Last-Modified"] = time.Now().UTC().Format(http.TimeFormat)
	if _, err := s.backend.PutObject(bucket, key, stored, r, size, nil); err != nil {
		return err
	}
	s.forgetRestore(bucket, key)
	s.emitObject(bucket, key, "ObjectCreated:Put", requestInfo{})
	return nil
}
