package activities

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/temporal"
)

// Stable application-error types; workflows and the CLI match on these.
const (
	ErrTypeNotFound         = "NotFound"
	ErrTypeAccessDenied     = "AccessDenied"
	ErrTypeBadInput         = "BadInput"
	ErrTypeChecksumMismatch = "ChecksumMismatch"
	ErrTypeConfig           = "Config"
	// ErrTypeRangesLost: ranges of a file destination did not survive a
	// reboot of the worker host; the error's details list their indexes.
	ErrTypeRangesLost = "RangesLost"
	// ErrTypeObjectChanged: the object was replaced while it was delivered,
	// by one of another size than the restore reported; a new restore (run)
	// is needed.
	ErrTypeObjectChanged = "ObjectChanged"
)

// notFoundCodes, accessCodes and badInputCodes classify AWS error codes
// that retrying cannot fix.
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
)

// Classify wraps err for return from an activity: AWS errors that retrying
// cannot fix become non-retryable application errors with a stable type;
// everything else (throttling, 5xx, network) is returned unchanged so the
// retry policy applies. op names the failed call for the message.
func Classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		switch {
		case notFoundCodes[code]:
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %s", op, api.ErrorMessage()), ErrTypeNotFound, err)
		case accessCodes[code]:
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %s: %s", op, code, api.ErrorMessage()), ErrTypeAccessDenied, err)
		case badInputCodes[code]:
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %s: %s", op, code, api.ErrorMessage()), ErrTypeBadInput, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// BadInput returns a non-retryable BadInput error.
func BadInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeBadInput, nil)
}
