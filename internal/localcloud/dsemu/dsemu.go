// Package dsemu is the Datastore Admin emulator of vigil's local cloud: a
// gRPC server implementing google.datastore.admin.v1.DatastoreAdmin
// (ExportEntities, ImportEntities) and google.longrunning.Operations (Get,
// List, Cancel, Delete) on one endpoint, so the real
// cloud.google.com/go/datastore/admin/apiv1 client talks to it through an
// endpoint override without credentials.
//
// Operations are computed lazily from the emulator's clock: an operation
// is INITIALIZING for the first 10% of its duration, PROCESSING until 85%,
// FINALIZING until 100%, then SUCCESSFUL (or FAILED). Nothing sleeps;
// tests inject a clock and durations. With Options.DataDir the operations
// are kept on disk with their absolute start times, so a restarted
// emulator reports the progress it would have reported had it kept running.
//
// Labels on the request choose the outcome (for demos and tests):
//
//	vigil-emulator: fail   the operation ends FAILED (code INTERNAL)
//	vigil-emulator: slow   the operation takes Options.SlowDuration
//	vigil-emulator-entities: N   the export holds N entities
package dsemu

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/datastore/admin/apiv1/adminpb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Label keys and values that request an outcome.
const (
	// LabelOutcome is the label key choosing a failing or slow run.
	LabelOutcome = "vigil-emulator"
	// OutcomeFail makes the operation end FAILED.
	OutcomeFail = "fail"
	// OutcomeSlow makes the operation take Options.SlowDuration.
	OutcomeSlow = "slow"
	// LabelEntities sets the entity count of an export.
	LabelEntities = "vigil-emulator-entities"
)

// Defaults of Options.
const (
	DefaultDuration     = 20 * time.Second
	DefaultSlowDuration = 3 * time.Hour
	DefaultEntities     = 1280000
	// bytesPerEntity sizes exports from their entity count.
	bytesPerEntity = 758
)

// Options configure the emulator.
type Options struct {
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// Duration is how long an operation takes; 0 means DefaultDuration.
	Duration time.Duration
	// SlowDuration is how long a "slow" operation takes; 0 means
	// DefaultSlowDuration.
	SlowDuration time.Duration
	// Entities is an export's entity count unless a label sets it; 0
	// means DefaultEntities.
	Entities int64
	// Logger receives one line per started operation; nil discards.
	Logger *slog.Logger
	// DataDir, when set, is where the emulator keeps its operations (and
	// the entity counts of finished exports) as JSON, saved after every
	// change and loaded by New, so a restarted emulator still answers for
	// the operations it started. Empty keeps them in memory only.
	DataDir string
}

// Server is the emulator's state and gRPC services.
type Server struct {
	adminpb.UnimplementedDatastoreAdminServer
	longrunningpb.UnimplementedOperationsServer

	opts Options
	mu   sync.Mutex
	ops  map[string]*operation
	seq  int
	// exported maps an export's output URL to its entity count, so that
	// importing it reports the same count.
	exported map[string]int64
}

// operation is one started export or import.
type operation struct {
	name      string
	project   string
	seq       int
	kind      adminpb.OperationType
	start     time.Time
	duration  time.Duration
	fail      bool
	cancelled time.Time
	labels    map[string]string
	filter    *adminpb.EntityFilter
	prefix    string // export output URL prefix
	outputURL string // export output URL
	inputURL  string // import input URL
	entities  int64
}

// New returns an emulator holding the operations saved in opts.DataDir, or
// none.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Duration <= 0 {
		opts.Duration = DefaultDuration
	}
	if opts.SlowDuration <= 0 {
		opts.SlowDuration = DefaultSlowDuration
	}
	if opts.Entities <= 0 {
		opts.Entities = DefaultEntities
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, ops: map[string]*operation{}, exported: map[string]int64{}}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Register adds both services to g.
func (s *Server) Register(g *grpc.Server) {
	adminpb.RegisterDatastoreAdminServer(g, s)
	longrunningpb.RegisterOperationsServer(g, s)
}

// Listener is a running emulator.
type Listener struct {
	*Server
	grpc *grpc.Server
	addr string
}

// Listen serves a new emulator on addr (host:port; port 0 picks one).
func Listen(addr string, opts Options) (*Listener, error) {
	srv, err := New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("datastore emulator: %w", err)
	}
	l := &Listener{Server: srv, grpc: grpc.NewServer(), addr: ln.Addr().String()}
	l.Register(l.grpc)
	go func() { _ = l.grpc.Serve(ln) }()
	return l, nil
}

// Addr is the host:port served.
func (l *Listener) Addr() string { return l.addr }

// Close stops serving.
func (l *Listener) Close() error {
	l.grpc.Stop()
	return nil
}

// ExportEntities starts an export.
func (s *Server) ExportEntities(_ context.Context, req *adminpb.ExportEntitiesRequest) (*longrunningpb.Operation, error) {
	if err := checkProject(req.GetProjectId()); err != nil {
		return nil, err
	}
	bucket, path, err := parseGS(req.GetOutputUrlPrefix(), "output_url_prefix")
	if err != nil {
		return nil, err
	}
	entities, err := entitiesLabel(req.GetLabels(), s.opts.Entities)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	op := s.newOperation(req.GetProjectId(), adminpb.OperationType_EXPORT_ENTITIES, req.GetLabels(), req.GetEntityFilter())
	op.prefix = strings.TrimSuffix(req.GetOutputUrlPrefix(), "/")
	op.entities = entities
	folder := op.start.UTC().Format("2006-01-02T15:04:05") + "_" + strconv.Itoa(10000+op.seq)
	if path != "" {
		folder = path[strings.LastIndex(path, "/")+1:]
		op.outputURL = op.prefix + "/" + folder + ".overall_export_metadata"
	} else {
		op.outputURL = "gs://" + bucket + "/" + folder + "/" + folder + ".overall_export_metadata"
	}
	s.opts.Logger.Info("datastore export started", "operation", op.name, "output", op.outputURL)
	s.saveLocked()
	return s.render(op), nil
}

// ImportEntities starts an import of an export's overall_export_metadata:
// one a finished export of this emulator wrote, else NotFound.
func (s *Server) ImportEntities(_ context.Context, req *adminpb.ImportEntitiesRequest) (*longrunningpb.Operation, error) {
	if err := checkProject(req.GetProjectId()); err != nil {
		return nil, err
	}
	if _, _, err := parseGS(req.GetInputUrl(), "input_url"); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(req.GetInputUrl(), ".overall_export_metadata") {
		return nil, status.Errorf(codes.InvalidArgument, "input_url %q: want the .overall_export_metadata file of an export", req.GetInputUrl())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	entities, known := s.exported[req.GetInputUrl()]
	if !known {
		// As on GCP, the metadata file must exist: only an export that
		// finished wrote one.
		return nil, status.Errorf(codes.NotFound, "input_url %q: no such file (no finished export wrote it)", req.GetInputUrl())
	}
	if n, err := entitiesLabel(req.GetLabels(), entities); err == nil {
		entities = n
	}
	op := s.newOperation(req.GetProjectId(), adminpb.OperationType_IMPORT_ENTITIES, req.GetLabels(), req.GetEntityFilter())
	op.inputURL, op.entities = req.GetInputUrl(), entities
	s.opts.Logger.Info("datastore import started", "operation", op.name, "input", op.inputURL)
	s.saveLocked()
	return s.render(op), nil
}

// newOperation records a new operation; s.mu is held.
func (s *Server) newOperation(project string, kind adminpb.OperationType, labels map[string]string, filter *adminpb.EntityFilter) *operation {
	s.seq++
	op := &operation{
		name:    fmt.Sprintf("projects/%s/operations/%s", project, opID(s.seq, s.opts.Now())),
		project: project, seq: s.seq, kind: kind, start: s.opts.Now(), duration: s.opts.Duration,
		labels: map[string]string{}, filter: filter,
	}
	if filter == nil {
		op.filter = &adminpb.EntityFilter{}
	}
	for k, v := range labels {
		op.labels[k] = v
	}
	switch labels[LabelOutcome] {
	case OutcomeFail:
		op.fail = true
	case OutcomeSlow:
		op.duration = s.opts.SlowDuration
	}
	s.ops[op.name] = op
	return op
}

// opID is an opaque operation id in the style of the real ones.
func opID(seq int, t time.Time) string {
	return "ASA" + strconv.FormatInt(t.UnixNano()%1_000_000_000_000, 36) + "EGR" + strconv.Itoa(seq)
}

// mustAny packs m with deterministic marshalling, so the same operation read
// twice (or after a restart) carries the same bytes whatever its map order.
func mustAny(m proto.Message) *anypb.Any {
	a := new(anypb.Any)
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		panic(err) // only on a message that cannot be marshalled
	}
	return a
}
