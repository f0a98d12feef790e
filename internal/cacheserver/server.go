// Package cacheserver is the example cache server vigil ships (seed 003's
// system, rebuilt): an in-memory array of bytes ("cells") behind basic
// auth, with JSON endpoints to read and write cells, GET/PUT /snapshot to
// stream the whole array out and in, /healthz and /readyz. Unlike the
// server it replaces, it does not dump itself to S3: vigil's backup
// workflow GETs /snapshot on a schedule, and at start the server can have
// the restore workflow PUT the latest backup into /snapshot (see Restore).
package cacheserver

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// DefaultSize is the array's size unless configured: 64 MiB.
const DefaultSize = 64 << 20

// MaxCellsPerRequest bounds one JSON read or write.
const MaxCellsPerRequest = 1 << 16

// Options configure a server.
type Options struct {
	// Size of the array in bytes (0: DefaultSize).
	Size int64
	// User and Password guard every endpoint but /healthz and /readyz;
	// an empty Password refuses every guarded request.
	User, Password string
	// Logger (nil: discard).
	Logger *slog.Logger
}

// Server is the cache.
type Server struct {
	opts Options
	log  *slog.Logger
	// mu guards data and shared; it is held only for memory operations,
	// never while a client reads or sends (see getSnapshot).
	mu   sync.RWMutex
	data []byte
	// shared is set while data may be streamed to a snapshot reader:
	// the next write copies the array first (copy on write), so the
	// reader's bytes never change under it.
	shared bool
	ready  atomic.Bool
	// why is the reason /readyz gives while not ready.
	why atomic.Value
}

// New returns an empty (all zero) server, not ready until SetReady.
func New(opts Options) *Server {
	if opts.Size <= 0 {
		opts.Size = DefaultSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Logger, data: make([]byte, opts.Size)}
	s.why.Store("starting")
	return s
}

// Size is the array's size in bytes.
func (s *Server) Size() int64 { return s.opts.Size }

// SetReady marks the server ready (or not, with the reason /readyz gives).
func (s *Server) SetReady(ready bool, why string) {
	s.why.Store(why)
	s.ready.Store(ready)
}

// Fill replaces the array with size bytes from r (fixtures, tests).
func (s *Server) Fill(r io.Reader) error {
	buf := make([]byte, s.opts.Size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return err
	}
	s.replace(buf)
	return nil
}

// replace makes buf the array (a fresh buffer nobody streams yet).
func (s *Server) replace(buf []byte) {
	s.mu.Lock()
	s.data, s.shared = buf, false
	s.mu.Unlock()
}

// writable is the array for a write in place; the caller holds mu for
// writing. An array a snapshot reader may still be streaming is copied
// first, so a write never waits for a slow reader and never changes the
// bytes it is sending.
func (s *Server) writable() []byte {
	if s.shared {
		s.data, s.shared = bytes.Clone(s.data), false
	}
	return s.data
}

// Handler serves the endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /snapshot", s.auth(s.getSnapshot))
	mux.Handle("PUT /snapshot", s.auth(s.putSnapshot))
	mux.Handle("GET /cells", s.auth(s.getCells))
	mux.Handle("PUT /cells", s.auth(s.putCells))
	mux.Handle("GET /cells/{index}", s.auth(s.getCell))
	mux.Handle("PUT /cells/{index}", s.auth(s.putCell))
	return mux
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "not ready: "+s.why.Load().(string), http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// auth requires the configured basic-auth user and password.
func (s *Server) auth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || s.opts.Password == "" || subtle.ConstantTimeCompare([]byte(u), []byte(s.opts.User)) != 1 ||
			subtle.ConstantTimeCompare([]byte(p), []byte(s.opts.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="vigil cache"`)
			jsonError(w, http.StatusUnauthorized, "authentication required")
			return
		}
		h(w, r)
	})
}

// getSnapshot streams the array as it is now, without holding the lock
// while the client reads: the array is marked shared under a short lock
// and the next write copies it instead of writing into it.
func (s *Server) getSnapshot(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	data := s.data
	s.shared = true
	s.mu.Unlock()
	extendDeadline(w, int64(len(data)), false)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(int64(len(data)), 10))
	_, _ = w.Write(data)
}

// putSnapshot replaces the array with the body, which must be exactly
// the array's size; a short or long body changes nothing.
func (s *Server) putSnapshot(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != s.opts.Size {
		jsonError(w, http.StatusBadRequest, fmt.Sprintf("snapshot must be exactly %d bytes (Content-Length %d)", s.opts.Size, r.ContentLength))
		return
	}
	extendDeadline(w, s.opts.Size, true)
	buf := make([]byte, s.opts.Size)
	if _, err := io.ReadFull(r.Body, buf); err != nil {
		s.log.Warn("snapshot upload incomplete; cache unchanged", "error", err)
		jsonError(w, http.StatusBadRequest, "incomplete snapshot: "+err.Error())
		return
	}
	if n, _ := r.Body.Read(make([]byte, 1)); n > 0 {
		jsonError(w, http.StatusBadRequest, "snapshot longer than the array")
		return
	}
	s.replace(buf)
	s.log.Info("snapshot replaced", "bytes", len(buf))
	w.WriteHeader(http.StatusNoContent)
}

// Cell is one cell (a byte) of the array.
type Cell struct {
	Index int64 `json:"index"`
	Value int   `json:"value"`
}

// Cells is a run of cells from Offset.
type Cells struct {
	Offset int64 `json:"offset"`
	Values []int `json:"values"`
}

func (s *Server) index(w http.ResponseWriter, raw string) (int64, bool) {
	i, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || i < 0 || i >= s.opts.Size {
		jsonError(w, http.StatusBadRequest, fmt.Sprintf("cell index %q: want an integer from 0 to %d", raw, s.opts.Size-1))
		return 0, false
	}
	return i, true
}

func (s *Server) getCell(w http.ResponseWriter, r *http.Request) {
	i, ok := s.index(w, r.PathValue("index"))
	if !ok {
		return
	}
	s.mu.RLock()
	v := int(s.data[i])
	s.mu.RUnlock()
	writeJSON(w, Cell{Index: i, Value: v})
}

func (s *Server) putCell(w http.ResponseWriter, r *http.Request) {
	i, ok := s.index(w, r.PathValue("index"))
	if !ok {
		return
	}
	var c struct {
		Value *int `json:"value"`
	}
	if err := decode(r, &c); err != nil || c.Value == nil || *c.Value < 0 || *c.Value > 255 {
		jsonError(w, http.StatusBadRequest, `body: want {"value": 0..255}`)
		return
	}
	s.mu.Lock()
	s.writable()[i] = byte(*c.Value)
	s.mu.Unlock()
	writeJSON(w, Cell{Index: i, Value: *c.Value})
}

// getCells reads ?offset=&count= cells.
func (s *Server) getCells(w http.ResponseWriter, r *http.Request) {
	off, ok := s.index(w, r.URL.Query().Get("offset"))
	if !ok {
		return
	}
	n, err := strconv.ParseInt(r.URL.Query().Get("count"), 10, 64)
	if err != nil || n < 1 || n > MaxCellsPerRequest || off+n > s.opts.Size {
		jsonError(w, http.StatusBadRequest, fmt.Sprintf("count: want 1 to %d cells, ending at or before %d", MaxCellsPerRequest, s.opts.Size))
		return
	}
	out := Cells{Offset: off, Values: make([]int, n)}
	s.mu.RLock()
	for i := range out.Values {
		out.Values[i] = int(s.data[off+int64(i)])
	}
	s.mu.RUnlock()
	writeJSON(w, out)
}

// putCells writes a run of cells.
func (s *Server) putCells(w http.ResponseWriter, r *http.Request) {
	var in Cells
	if err := decode(r, &in); err != nil {
		jsonError(w, http.StatusBadRequest, `body: want {"offset": N, "values": [0..255, ...]}: `+err.Error())
		return
	}
	n := int64(len(in.Values))
	switch {
	case in.Offset < 0 || in.Offset >= s.opts.Size:
		jsonError(w, http.StatusBadRequest, fmt.Sprintf("offset %d: want 0 to %d", in.Offset, s.opts.Size-1))
		return
	case n < 1 || n > MaxCellsPerRequest || in.Offset+n > s.opts.Size:
		jsonError(w, http.StatusBadRequest, fmt.Sprintf("values: want 1 to %d cells, ending at or before %d", MaxCellsPerRequest, s.opts.Size))
		return
	}
	for i, v := range in.Values {
		if v < 0 || v > 255 {
			jsonError(w, http.StatusBadRequest, fmt.Sprintf("values[%d] = %d: want 0..255", i, v))
			return
		}
	}
	s.mu.Lock()
	data := s.writable()
	for i, v := range in.Values {
		data[in.Offset+int64(i)] = byte(v)
	}
	s.mu.Unlock()
	writeJSON(w, map[string]int64{"offset": in.Offset, "written": n})
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty body")
		}
		return err
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
