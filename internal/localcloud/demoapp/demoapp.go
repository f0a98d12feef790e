// Package demoapp is the dev stack's stand-in for the server whose data the
// replaced cron dumped to S3: POST /_demo/s3dump writes a blob to the local
// S3, as the real server's authenticated endpoint did. The demo schedules
// of `worker --dev` call it.
package demoapp

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Bucket and Key where dumps go.
const (
	Bucket = "demo-backups"
	Key    = "s3dump/latest.bin"
	// BlobSize is the size of each dump (small: it runs every minute).
	BlobSize = 256 << 10
)

// Store is the in-process S3 the dumps go to.
type Store interface {
	CreateBucket(name string) error
	PutObject(bucket, key string, r io.Reader, size int64, meta map[string]string) error
}

// Service serves /_demo/.
type Service struct {
	store  Store
	logger *slog.Logger
	dumps  atomic.Int64
}

// New returns the demo app writing to store.
func New(store Store, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, logger: logger}
}

// Name is "demo".
func (s *Service) Name() string { return "demo" }

// Match takes paths under /_demo/.
func (s *Service) Match(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/_demo/") }

// ServeHTTP handles POST /_demo/s3dump.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/_demo/s3dump" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	n := s.dumps.Add(1)
	blob := make([]byte, BlobSize)
	seed := sha256.Sum256([]byte(fmt.Sprint(n)))
	for i := range blob {
		blob[i] = seed[i%len(seed)] ^ byte(i)
	}
	if err := s.store.CreateBucket(Bucket); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(blob)
	meta := map[string]string{"dump-number": fmt.Sprint(n), "sha256": fmt.Sprintf("%x", sum)}
	if err := s.store.PutObject(Bucket, Key, bytes.NewReader(blob), int64(len(blob)), meta); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.logger.Info("demo dump written", "bucket", Bucket, "key", Key, "dump", n)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "dump": n, "bytes": len(blob),
		"location": "s3://" + Bucket + "/" + Key, "at": time.Now().UTC().Format(time.RFC3339)})
}
