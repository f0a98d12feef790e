package activities_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigilops/vigil/activities"
)

// awsAnswer is an AWS error answer as the SDK returns it: the API error
// wrapped in the HTTP response error that carries the status.
func awsAnswer(status int, code, msg string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "HeadObject", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err: &smithy.GenericAPIError{Code: code, Message: msg}}}}
}

// permanentType is the type of a non-retryable application error; "" for an
// error that will be retried.
func permanentType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() {
		return appErr.Type()
	}
	return ""
}

// Every class of error gets its documented verdict, whether an activity
// passes it through Classify or returns it as it is (ClassifyReturned,
// what the worker's interceptor applies).
func TestClassifyMatrix(t *testing.T) {
	pathErr := func(errno syscall.Errno) error {
		return &os.PathError{Op: "open", Path: "/srv/r.bin", Err: errno}
	}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"EROFS", pathErr(syscall.EROFS), activities.ErrTypeLocalPermanent},
		{"EACCES", pathErr(syscall.EACCES), activities.ErrTypeLocalPermanent},
		{"EPERM", pathErr(syscall.EPERM), activities.ErrTypeLocalPermanent},
		{"ENOTDIR", pathErr(syscall.ENOTDIR), activities.ErrTypeLocalPermanent},
		{"EISDIR", pathErr(syscall.EISDIR), activities.ErrTypeLocalPermanent},
		{"ENAMETOOLONG", fmt.Errorf("writing: %w", pathErr(syscall.ENAMETOOLONG)), activities.ErrTypeLocalPermanent},
		{"ENOSPC", pathErr(syscall.ENOSPC), ""},
		{"EIO", pathErr(syscall.EIO), ""},
		{"S3 HeadObject 400 without a body", awsAnswer(400, "BadRequest", "Bad Request"), activities.ErrTypeBadInput},
		{"S3 400 InvalidArgument", awsAnswer(400, "InvalidArgument", "Invalid version id specified"), activities.ErrTypeBadInput},
		{"S3 HeadObject 403", awsAnswer(403, "Forbidden", "Forbidden"), activities.ErrTypeAccessDenied},
		{"unknown 404", awsAnswer(404, "Gone", "gone"), activities.ErrTypeNotFound},
		{"unknown 409", awsAnswer(409, "SomethingConflicting", "no"), activities.ErrTypeBadInput},
		{"Glacier archive not found", awsAnswer(404, "ResourceNotFoundException", "Archive not found: x"), activities.ErrTypeNotFound},
		{"408", awsAnswer(408, "RequestTimeout", "slow"), ""},
		{"429", awsAnswer(429, "TooMany", "slow down"), ""},
		{"SQS throttling is a 400", awsAnswer(400, "RequestThrottled", "Request is throttled."), ""},
		{"SNS throttling is a 400", awsAnswer(400, "Throttling", "Rate exceeded"), ""},
		{"S3 409 OperationAborted", awsAnswer(409, "OperationAborted", "try again"), ""},
		// 400s that say the request was damaged or cut short in flight.
		{"S3 400 BadDigest", awsAnswer(400, "BadDigest", "The Content-MD5 you specified did not match what we received."), ""},
		{"S3 400 IncompleteBody", awsAnswer(400, "IncompleteBody", "You did not provide the number of bytes specified"), ""},
		{"S3 400 XAmzContentSHA256Mismatch", awsAnswer(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match"), ""},
		{"S3 400 RequestTimeout", awsAnswer(400, "RequestTimeout", "Your socket connection to the server was not read from or written to"), ""},
		{"S3 503 SlowDown", awsAnswer(503, "SlowDown", "reduce"), ""},
		{"500", awsAnswer(500, "InternalError", "oops"), ""},
		{"gRPC NotFound", status.Error(codes.NotFound, "no such operation"), activities.ErrTypeNotFound},
		{"gRPC PermissionDenied", status.Error(codes.PermissionDenied, "no"), activities.ErrTypeAccessDenied},
		{"gRPC InvalidArgument", status.Error(codes.InvalidArgument, "bad"), activities.ErrTypeBadInput},
		{"gRPC FailedPrecondition", fmt.Errorf("export: %w", status.Error(codes.FailedPrecondition, "not now")), activities.ErrTypeBadInput},
		{"gRPC Unavailable", status.Error(codes.Unavailable, "down"), ""},
		{"gRPC ResourceExhausted", status.Error(codes.ResourceExhausted, "quota"), ""},
		{"gRPC DeadlineExceeded", status.Error(codes.DeadlineExceeded, "slow"), ""},
		{"canceled", context.Canceled, ""},
		{"plain", errors.New("connection reset by peer"), ""},
	}
	for _, c := range cases {
		if got := permanentType(activities.Classify("op", c.err)); got != c.want {
			t.Errorf("Classify(%s) = %q, want %q", c.name, got, c.want)
		}
		if got := permanentType(activities.ClassifyReturned(c.err)); got != c.want {
			t.Errorf("ClassifyReturned(%s) = %q, want %q", c.name, got, c.want)
		}
	}
	// An application error an activity made stays as it was.
	own := temporal.NewApplicationError("retry me", "Mine", nil)
	if got := activities.ClassifyReturned(own); got != own {
		t.Errorf("ClassifyReturned changed an application error: %v", got)
	}
	// The message names the operation and keeps the service's words.
	var appErr *temporal.ApplicationError
	if err := activities.Classify("S3 HeadObject s3://b/k", awsAnswer(400, "BadRequest", "Bad Request")); !errors.As(err, &appErr) ||
		appErr.Message() != "S3 HeadObject s3://b/k: BadRequest: Bad Request (HTTP 400)" {
		t.Errorf("message of %v", err)
	}
}
