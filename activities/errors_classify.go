package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The classification rules, one list per kind of error. A rule answers
// "permanent, with this type" or "not mine"; an error no rule claims is
// transient and retried by the activity's retry policy (which is bounded:
// workflows/options.go), visibly (the worker's ClassifyInterceptor
// reports every failed attempt to the run's status).
//
//   - AWS error codes: the services' throttling and timeout codes
//     (retry.DefaultThrottleErrorCodes, retry.DefaultRetryableErrorCodes,
//     transientCodes) are transient whatever their HTTP status (SQS and
//     SNS throttle with 400); the codes below are permanent.
//   - HTTP status of an AWS answer whose code is not listed (a HEAD has no
//     body, so S3 says only "400 Bad Request"): 4xx other than 408 and
//     429 is permanent: 404 NotFound, 401/403 AccessDenied, others
//     BadInput.
//   - gRPC status (GCP Datastore Admin): NotFound, PermissionDenied,
//     Unauthenticated, InvalidArgument, FailedPrecondition, OutOfRange,
//     Unimplemented are permanent; Unavailable, ResourceExhausted,
//     DeadlineExceeded, Aborted, Internal and the rest are transient.
//   - Local system calls: EROFS, EACCES, EPERM, ENOTDIR, EISDIR and
//     ENAMETOOLONG are permanent (LocalPermanent); ENOSPC, EIO and the
//     rest are transient.
var (
	notFoundCodes = map[string]bool{
		"NoSuchBucket": true, "NoSuchKey": true, "NotFound": true, "NoSuchUpload": true,
		"ResourceNotFoundException": true, "QueueDoesNotExist": true,
		"AWS.SimpleQueueService.NonExistentQueue": true,
	}
	accessCodes = map[string]bool{
		"AccessDenied": true, "AccessDeniedException": true, "Forbidden": true,
		"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "AuthorizationError": true,
		"UnrecognizedClientException": true, "InvalidClientTokenId": true,
	}
	badInputCodes = map[string]bool{
		"InvalidParameterValueException": true, "MissingParameterValueException": true,
		"InvalidParameterValue": true, "InvalidParameter": true, "InvalidBucketName": true,
		"InvalidArgument": true, "InvalidRange": true, "InvalidObjectState": true,
		"ValidationError": true, "InvalidAttributeName": true,
		// S3's answer to requests it will never accept as sent, e.g. a
		// CopyObject of more than 5 GiB.
		"InvalidRequest": true,
	}
	// transientCodes are 4xx answers that a later attempt can succeed
	// past: a conflicting operation still running, credentials or a
	// signature that the SDK refreshes, a body damaged or cut short in
	// flight (its digest, checksum or payload hash differs from what the
	// request declared, or fewer bytes came; a resend carries it whole).
	// S3's 400 RequestTimeout is retryable by the SDK's own list.
	transientCodes = map[string]bool{
		"OperationAborted": true, "ExpiredToken": true, "ExpiredTokenException": true,
		"RequestExpired": true, "RequestTimeTooSkewed": true, "IDPCommunicationError": true,
		"BadDigest": true, "IncompleteBody": true, "XAmzContentSHA256Mismatch": true,
	}
	grpcTypes = map[codes.Code]string{
		codes.NotFound:           ErrTypeNotFound,
		codes.PermissionDenied:   ErrTypeAccessDenied,
		codes.Unauthenticated:    ErrTypeAccessDenied,
		codes.InvalidArgument:    ErrTypeBadInput,
		codes.FailedPrecondition: ErrTypeBadInput,
		codes.OutOfRange:         ErrTypeBadInput,
		codes.Unimplemented:      ErrTypeBadInput,
	}
	// localPermanent are the errnos a retry on the same host cannot fix.
	localPermanent = []syscall.Errno{syscall.EROFS, syscall.EACCES, syscall.EPERM, syscall.ENOTDIR, syscall.EISDIR, syscall.ENAMETOOLONG}
)

// classified is the verdict on a permanent error: its stable type and the
// message to show after the operation's name.
type classified struct {
	errType string
	message string
}

// classify applies the rules above; ok is false for a transient error.
func classify(err error) (c classified, ok bool) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return c, false
	}
	if c, ok, decided := classifyAWS(err); decided {
		return c, ok
	}
	if c, ok := classifyGRPC(err); ok {
		return c, true
	}
	return classifyLocal(err)
}

// classifyAWS classifies an AWS (smithy) error by its code, then by its
// HTTP status; decided is false when err is no AWS error answer.
func classifyAWS(err error) (c classified, ok, decided bool) {
	var api smithy.APIError
	hasAPI := errors.As(err, &api)
	if hasAPI {
		code := api.ErrorCode()
		if _, t := retry.DefaultThrottleErrorCodes[code]; t || transientCodes[code] {
			return c, false, true
		}
		if _, t := retry.DefaultRetryableErrorCodes[code]; t {
			return c, false, true
		}
		switch {
		case notFoundCodes[code]:
			return classified{ErrTypeNotFound, api.ErrorMessage()}, true, true
		case accessCodes[code]:
			return classified{ErrTypeAccessDenied, code + ": " + api.ErrorMessage()}, true, true
		case badInputCodes[code]:
			return classified{ErrTypeBadInput, code + ": " + api.ErrorMessage()}, true, true
		}
	}
	var resp interface{ HTTPStatusCode() int }
	if !errors.As(err, &resp) {
		return c, false, hasAPI
	}
	s := resp.HTTPStatusCode()
	if !PermanentHTTPStatus(s) {
		return c, false, true
	}
	msg := fmt.Sprintf("HTTP %d %s", s, http.StatusText(s))
	if hasAPI {
		msg = fmt.Sprintf("%s: %s (HTTP %d)", api.ErrorCode(), api.ErrorMessage(), s)
	}
	switch s {
	case http.StatusNotFound:
		return classified{ErrTypeNotFound, msg}, true, true
	case http.StatusUnauthorized, http.StatusForbidden:
		return classified{ErrTypeAccessDenied, msg}, true, true
	}
	return classified{ErrTypeBadInput, msg}, true, true
}

// classifyGRPC classifies a gRPC status error (the Datastore Admin
// client's).
func classifyGRPC(err error) (classified, bool) {
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) || se.GRPCStatus() == nil {
		return classified{}, false
	}
	st := se.GRPCStatus()
	t, ok := grpcTypes[st.Code()]
	if !ok {
		return classified{}, false
	}
	return classified{t, st.Code().String() + ": " + st.Message()}, true
}

// classifyLocal classifies a failed system call on the worker host.
func classifyLocal(err error) (classified, bool) {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return classified{}, false
	}
	for _, p := range localPermanent {
		if errno == p {
			return classified{ErrTypeLocalPermanent, err.Error() + " (the worker host refuses it; retrying cannot help)"}, true
		}
	}
	return classified{}, false
}

// PermanentHTTPStatus reports whether an HTTP answer with status code c
// will not change by asking again: a 4xx other than 408 Request Timeout
// and 429 Too Many Requests. Cloud calls, HTTP jobs and HTTP processors
// all sort statuses with it.
func PermanentHTTPStatus(c int) bool {
	return c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests
}

// isAPICode tells whether err carries an AWS API error with one of codes.
func isAPICode(err error, codes ...string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && slices.Contains(codes, api.ErrorCode())
}
