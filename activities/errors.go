package activities

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Stable application-error types; workflows and the CLI match on these.
const (
	ErrTypeNotFound         = "NotFound"
	ErrTypeAccessDenied     = "AccessDenied"
	ErrTypeBadInput         = "BadInput"
	ErrTypeChecksumMismatch = "ChecksumMismatch"
	ErrTypeConfig           = "Config"
	// ErrTypeLocalPermanent: a worker host's file system refused an
	// operation in a way retrying cannot fix (read-only file system,
	// permission denied, not a directory, is a directory, name too long).
	// An operator must change the host or the path; see classifyLocal.
	ErrTypeLocalPermanent = "LocalPermanent"
	// ErrTypeRangesLost: ranges of a file destination did not survive a
	// reboot of the worker host; the error's details list their indexes.
	ErrTypeRangesLost = "RangesLost"
	// ErrTypeObjectChanged: the object was replaced while it was delivered,
	// by one of another size than the restore reported; a new restore (run)
	// is needed.
	ErrTypeObjectChanged = "ObjectChanged"
)

// Classify wraps err for return from an activity: errors that retrying
// cannot fix (cloud 4xx other than timeouts and throttling, permanent
// gRPC codes, local EROFS/EACCES/...; errors_classify.go) become
// non-retryable application errors with a stable type; everything else
// (throttling, 5xx, network, ENOSPC, EIO) is returned wrapped, so the
// retry policy applies. op names the failed call and what it acted on
// for the message ("Glacier InitiateJob demo-vault"). Activities whose
// errors do not pass through Classify are classified by the worker's
// ClassifyInterceptor when they return.
func Classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if c, ok := classify(err); ok {
		return temporal.NewNonRetryableApplicationError(op+": "+c.message, c.errType, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// ClassifyReturned is the classification of an error an activity returned
// as it is (the worker's ClassifyInterceptor applies it to every
// activity): an error Classify would make permanent becomes a
// non-retryable application error whose message is err's own; Temporal
// errors (application, canceled, timeout, panic) and anything transient
// are returned unchanged.
func ClassifyReturned(err error) error {
	if err == nil || isTemporalError(err) {
		return err
	}
	if c, ok := classify(err); ok {
		return temporal.NewNonRetryableApplicationError(err.Error(), c.errType, err)
	}
	return err
}

// isTemporalError tells whether err already carries Temporal's own
// retry semantics.
func isTemporalError(err error) bool {
	var appErr *temporal.ApplicationError
	var canceled *temporal.CanceledError
	var timeout *temporal.TimeoutError
	var panicErr *temporal.PanicError
	return errors.As(err, &appErr) || errors.As(err, &canceled) || errors.As(err, &timeout) || errors.As(err, &panicErr)
}

// BadInput returns a non-retryable BadInput error.
func BadInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeBadInput, nil)
}
