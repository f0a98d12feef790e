package dsemu

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	spb "google.golang.org/genproto/googleapis/rpc/status"

	"cloud.google.com/go/datastore/admin/apiv1/adminpb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

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
