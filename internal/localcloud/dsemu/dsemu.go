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
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/datastore/admin/apiv1/adminpb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/genproto/googleapis/rpc/code"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
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

// ImportEntities starts an import of an export's overall_export_metadata.
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
		entities = s.opts.Entities
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

// GetOperation returns the operation's current state.
func (s *Server) GetOperation(_ context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, err := s.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	return s.render(op), nil
}

// ListOperations lists a project's operations (name "projects/P"), oldest
// first, filtered by `labels.KEY=VALUE` terms joined by AND, in pages.
func (s *Server) ListOperations(_ context.Context, req *longrunningpb.ListOperationsRequest) (*longrunningpb.ListOperationsResponse, error) {
	project, ok := strings.CutPrefix(strings.TrimSuffix(req.GetName(), "/operations"), "projects/")
	if !ok || checkProject(project) != nil {
		return nil, status.Errorf(codes.InvalidArgument, "name %q: want projects/PROJECT_ID", req.GetName())
	}
	want, err := parseFilter(req.GetFilter())
	if err != nil {
		return nil, err
	}
	start := 0
	if t := req.GetPageToken(); t != "" {
		if start, err = strconv.Atoi(t); err != nil || start < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "bad page_token %q", t)
		}
	}
	size := int(req.GetPageSize())
	if size <= 0 || size > 100 {
		size = 100
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*operation
	for _, op := range s.ops {
		if op.project == project && matches(op.labels, want) {
			all = append(all, op)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	resp := &longrunningpb.ListOperationsResponse{}
	for i := start; i < len(all) && i < start+size; i++ {
		resp.Operations = append(resp.Operations, s.render(all[i]))
	}
	if start+size < len(all) {
		resp.NextPageToken = strconv.Itoa(start + size)
	}
	return resp, nil
}

// CancelOperation cancels a running operation; cancelling a finished one
// is FAILED_PRECONDITION, as the real service answers.
func (s *Server) CancelOperation(_ context.Context, req *longrunningpb.CancelOperationRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, err := s.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	if st, _ := s.state(op); isDone(st) {
		return nil, status.Errorf(codes.FailedPrecondition, "operation %s is already done (%s)", op.name, st)
	}
	op.cancelled = s.opts.Now()
	s.saveLocked()
	return &emptypb.Empty{}, nil
}

// DeleteOperation forgets an operation.
func (s *Server) DeleteOperation(_ context.Context, req *longrunningpb.DeleteOperationRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, err := s.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	delete(s.ops, op.name)
	s.saveLocked()
	return &emptypb.Empty{}, nil
}

// lookup finds an operation by name; s.mu is held.
func (s *Server) lookup(name string) (*operation, error) {
	if !strings.HasPrefix(name, "projects/") || !strings.Contains(name, "/operations/") {
		return nil, status.Errorf(codes.InvalidArgument, "name %q: want projects/PROJECT_ID/operations/ID", name)
	}
	op, ok := s.ops[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "operation %s not found", name)
	}
	return op, nil
}

// state is op's state now and the fraction of its work done (0..1).
func (s *Server) state(op *operation) (adminpb.CommonMetadata_State, float64) {
	now := s.opts.Now()
	at := now
	if !op.cancelled.IsZero() {
		at = op.cancelled
	}
	f := min(float64(at.Sub(op.start))/float64(op.duration), 1)
	switch {
	case !op.cancelled.IsZero():
		return adminpb.CommonMetadata_CANCELLED, f
	case f >= 1 && op.fail:
		return adminpb.CommonMetadata_FAILED, 0.4
	case f >= 1:
		return adminpb.CommonMetadata_SUCCESSFUL, 1
	case f >= 0.85:
		return adminpb.CommonMetadata_FINALIZING, f
	case f >= 0.1:
		return adminpb.CommonMetadata_PROCESSING, f
	default:
		return adminpb.CommonMetadata_INITIALIZING, f
	}
}

func isDone(st adminpb.CommonMetadata_State) bool {
	return st == adminpb.CommonMetadata_SUCCESSFUL || st == adminpb.CommonMetadata_FAILED || st == adminpb.CommonMetadata_CANCELLED
}

// render builds the google.longrunning.Operation of op now; s.mu is held.
func (s *Server) render(op *operation) *longrunningpb.Operation {
	st, f := s.state(op)
	common := &adminpb.CommonMetadata{StartTime: timestamppb.New(op.start), OperationType: op.kind, Labels: op.labels, State: st}
	if isDone(st) {
		end := op.start.Add(op.duration)
		if !op.cancelled.IsZero() {
			end = op.cancelled
		}
		common.EndTime = timestamppb.New(end)
	}
	// The estimate is a little short of the truth, as the real service's
	// often is: completed work ends above it.
	estimate := op.entities - op.entities/300
	work := func(total, est int64) *adminpb.Progress {
		return &adminpb.Progress{WorkCompleted: int64(float64(total) * f), WorkEstimated: est}
	}
	ents := work(op.entities, estimate)
	bytes := work(op.entities*bytesPerEntity, estimate*bytesPerEntity)
	if st == adminpb.CommonMetadata_INITIALIZING {
		ents.WorkCompleted, bytes.WorkCompleted = 0, 0
	}
	out := &longrunningpb.Operation{Name: op.name, Done: isDone(st)}
	var meta proto.Message
	if op.kind == adminpb.OperationType_EXPORT_ENTITIES {
		meta = &adminpb.ExportEntitiesMetadata{Common: common, ProgressEntities: ents, ProgressBytes: bytes,
			EntityFilter: op.filter, OutputUrlPrefix: op.prefix}
	} else {
		meta = &adminpb.ImportEntitiesMetadata{Common: common, ProgressEntities: ents, ProgressBytes: bytes,
			EntityFilter: op.filter, InputUrl: op.inputURL}
	}
	out.Metadata = mustAny(meta)
	switch st {
	case adminpb.CommonMetadata_SUCCESSFUL:
		if op.kind == adminpb.OperationType_EXPORT_ENTITIES {
			if n, seen := s.exported[op.outputURL]; !seen || n != op.entities {
				s.exported[op.outputURL] = op.entities
				s.saveLocked()
			}
			out.Result = &longrunningpb.Operation_Response{Response: mustAny(&adminpb.ExportEntitiesResponse{OutputUrl: op.outputURL})}
		} else {
			out.Result = &longrunningpb.Operation_Response{Response: mustAny(&emptypb.Empty{})}
		}
	case adminpb.CommonMetadata_FAILED:
		out.Result = &longrunningpb.Operation_Error{Error: &spb.Status{Code: int32(code.Code_INTERNAL),
			Message: fmt.Sprintf("%s failed: the emulator was asked to fail it (label %s=%s)", strings.ToLower(op.kind.String()), LabelOutcome, OutcomeFail)}}
	case adminpb.CommonMetadata_CANCELLED:
		out.Result = &longrunningpb.Operation_Error{Error: &spb.Status{Code: int32(code.Code_CANCELLED), Message: "The operation was cancelled."}}
	}
	return out
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

// checkProject applies the project id rules loosely: non-empty, no '/'.
func checkProject(p string) error {
	if p == "" || strings.ContainsAny(p, "/ ") {
		return status.Errorf(codes.InvalidArgument, "project_id %q is not a project id", p)
	}
	return nil
}

// parseGS checks a gs://bucket[/path] URL.
func parseGS(raw, field string) (bucket, path string, err error) {
	u, perr := url.Parse(raw)
	if perr != nil || u.Scheme != "gs" || u.Host == "" {
		return "", "", status.Errorf(codes.InvalidArgument, "%s %q: want gs://BUCKET[/PATH]", field, raw)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// entitiesLabel reads LabelEntities, or returns def.
func entitiesLabel(labels map[string]string, def int64) (int64, error) {
	v, ok := labels[LabelEntities]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, status.Errorf(codes.InvalidArgument, "label %s=%q: want a number of entities", LabelEntities, v)
	}
	return n, nil
}

// parseFilter reads `labels.k=v [AND labels.k2=v2]` (values may be quoted).
func parseFilter(f string) (map[string]string, error) {
	want := map[string]string{}
	if strings.TrimSpace(f) == "" {
		return want, nil
	}
	for _, term := range strings.Split(f, " AND ") {
		k, v, ok := strings.Cut(term, "=")
		k = strings.TrimSpace(k)
		key, isLabel := strings.CutPrefix(k, "labels.")
		if !ok || !isLabel || key == "" {
			return nil, status.Errorf(codes.InvalidArgument, "filter %q: the emulator supports labels.KEY=VALUE terms joined by AND", f)
		}
		want[key] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return want, nil
}

func matches(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}
