package activities

import (
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/datastore/admin/apiv1/adminpb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// ErrTypeDatastore: an operation whose metadata vigil cannot read.
const ErrTypeDatastore = "DatastoreOperation"

// OperationSnapshot turns a google.longrunning.Operation of the Datastore
// Admin API into a plain snapshot.
func OperationSnapshot(op *longrunningpb.Operation) (flowdata.DatastoreOp, error) {
	out := flowdata.DatastoreOp{Name: op.GetName(), Done: op.GetDone(), Labels: map[string]string{}}
	var common *adminpb.CommonMetadata
	var ents, bytes *adminpb.Progress
	meta := op.GetMetadata()
	switch {
	case meta.MessageIs(&adminpb.ExportEntitiesMetadata{}):
		var m adminpb.ExportEntitiesMetadata
		if err := meta.UnmarshalTo(&m); err != nil {
			return out, snapshotError(op, err)
		}
		common, ents, bytes, out.OutputURLPrefix = m.GetCommon(), m.GetProgressEntities(), m.GetProgressBytes(), m.GetOutputUrlPrefix()
	case meta.MessageIs(&adminpb.ImportEntitiesMetadata{}):
		var m adminpb.ImportEntitiesMetadata
		if err := meta.UnmarshalTo(&m); err != nil {
			return out, snapshotError(op, err)
		}
		common, ents, bytes, out.InputURL = m.GetCommon(), m.GetProgressEntities(), m.GetProgressBytes(), m.GetInputUrl()
	default:
		return out, snapshotError(op, errors.New("metadata is neither ExportEntitiesMetadata nor ImportEntitiesMetadata"))
	}
	out.Type = common.GetOperationType().String()
	out.State = common.GetState().String()
	out.Start, out.End = timeOf(common.GetStartTime()), timeOf(common.GetEndTime())
	for k, v := range common.GetLabels() {
		out.Labels[k] = v
	}
	out.EntitiesDone, out.EntitiesEstimated = ents.GetWorkCompleted(), ents.GetWorkEstimated()
	out.BytesDone, out.BytesEstimated = bytes.GetWorkCompleted(), bytes.GetWorkEstimated()
	if e := op.GetError(); e != nil {
		out.Error, out.ErrorCode = e.GetMessage(), codes.Code(e.GetCode()).String()
	}
	if r := op.GetResponse(); r != nil && r.MessageIs(&adminpb.ExportEntitiesResponse{}) {
		var resp adminpb.ExportEntitiesResponse
		if err := r.UnmarshalTo(&resp); err == nil {
			out.OutputURL = resp.GetOutputUrl()
		}
	}
	// A done operation whose state lags (the API sets done with the
	// result) is classified by its result.
	if out.Done && !isTerminal(out.State) {
		switch {
		case out.ErrorCode == codes.Canceled.String():
			out.State = flowdata.DatastoreCancelled
		case op.GetError() != nil:
			out.State = flowdata.DatastoreFailed
		default:
			out.State = flowdata.DatastoreSuccessful
		}
	}
	return out, nil
}

func isTerminal(state string) bool {
	return state == flowdata.DatastoreSuccessful || state == flowdata.DatastoreFailed || state == flowdata.DatastoreCancelled
}

func timeOf(ts *timestamppb.Timestamp) (t time.Time) {
	if ts == nil {
		return t
	}
	return ts.AsTime()
}

func snapshotError(op *longrunningpb.Operation, err error) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("Datastore operation %s: %v", op.GetName(), err), ErrTypeDatastore, err)
}

// GRPCCode is the gRPC code of err (OK for nil, Unknown for non-gRPC).
func GRPCCode(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	if s, ok := status.FromError(err); ok {
		return s.Code()
	}
	return codes.Unknown
}

// ClassifyGRPC wraps a Google API error for return from an activity:
// INVALID_ARGUMENT / FAILED_PRECONDITION / OUT_OF_RANGE become BadInput,
// NOT_FOUND NotFound, PERMISSION_DENIED / UNAUTHENTICATED AccessDenied, all
// non-retryable; UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED and
// the rest are returned for the retry policy.
func ClassifyGRPC(op string, err error) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("%s: %v", op, err)
	if s, ok := status.FromError(err); ok {
		msg = fmt.Sprintf("%s: %s: %s", op, s.Code(), s.Message())
	}
	switch GRPCCode(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeBadInput, err)
	case codes.NotFound:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeNotFound, err)
	case codes.PermissionDenied, codes.Unauthenticated:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeAccessDenied, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// ConfigError returns a non-retryable Config error.
func ConfigError(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeConfig, nil)
}
