// Package s3lite is the local cloud's S3: gofakes3 on a directory (state
// survives a restart), path-style, accepting what the default
// aws-sdk-go-v2 client sends.
package s3lite

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/spf13/afero"
)

// Options configure the emulator.
type Options struct {
	// DataDir keeps buckets and objects; empty keeps them in memory.
	DataDir string
	// Logger receives errors.
	Logger *slog.Logger
}

// Service is the S3 emulator.
type Service struct {
	backend gofakes3.Backend
	handler http.Handler
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
		backend = pagingBackend{b}
	}
	f := gofakes3.New(backend, gofakes3.WithAutoBucket(false), gofakes3.WithTimeSkewLimit(0))
	return &Service{backend: backend, handler: f.Server()}, nil
}

// Name is "s3".
func (s *Service) Name() string { return "s3" }

// Match accepts everything: S3 is the fallback of the shared endpoint.
func (s *Service) Match(*http.Request) bool { return true }

// ServeHTTP serves the S3 REST API.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close releases the store.
func (s *Service) Close() error { return nil }

// CreateBucket creates a bucket unless it exists.
func (s *Service) CreateBucket(name string) error {
	ok, err := s.backend.BucketExists(name)
	if err != nil || ok {
		return err
	}
	return s.backend.CreateBucket(name)
}

// PutObject stores an object; meta are user metadata (x-amz-meta-*).
func (s *Service) PutObject(bucket, key string, r io.Reader, size int64, meta map[string]string) error {
	stored := make(map[string]string, len(meta))
	for k, v := range meta {
		stored["X-Amz-Meta-"+http.CanonicalHeaderKey(k)] = v
	}
	_, err := s.backend.PutObject(bucket, key, stored, r, size, nil)
	return err
}
