package sqsemu

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrQueueDoesNotExist is returned (wrapped) by the in-process API when the
// addressed queue does not exist.
var ErrQueueDoesNotExist = errors.New("sqsemu: queue does not exist")

// apiError is an SQS error as the JSON 1.0 protocol carries it: a status,
// a shape name for "__type", and, for query-compatible clients, the legacy
// query error code sent in X-Amzn-Query-Error.
type apiError struct {
	status    int
	shape     string // error shape name, e.g. "QueueDoesNotExist"
	modeled   bool   // shape is in the SDK's type registry
	queryCode string // legacy code; empty when the shape has none
	fault     string // "Sender" or "Receiver"
	message   string
}

// Error formats the error as "code: message".
func (e *apiError) Error() string { return e.code() + ": " + e.message }

// code is the code a client sees from ErrorCode().
func (e *apiError) code() string {
	if e.queryCode != "" {
		return e.queryCode
	}
	return e.shape
}

// Is lets errors.Is(err, ErrQueueDoesNotExist) match the typed API error.
func (e *apiError) Is(target error) bool {
	return target == ErrQueueDoesNotExist && e.shape == "QueueDoesNotExist"
}

// modeledErr builds an error whose shape is in the SDK's type registry.
func modeledErr(status int, shape, queryCode, format string, args ...any) *apiError {
	return &apiError{status: status, shape: shape, modeled: true, queryCode: queryCode,
		fault: "Sender", message: fmt.Sprintf(format, args...)}
}

// genericErr builds an error that the SDK surfaces as a GenericAPIError
// with the given code.
func genericErr(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, shape: code, queryCode: code, fault: "Sender",
		message: fmt.Sprintf(format, args...)}
}

func errQueueDoesNotExist() *apiError {
	return modeledErr(http.StatusBadRequest, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
		"The specified queue does not exist.")
}

func errQueueNameExists(name string) *apiError {
	return modeledErr(http.StatusBadRequest, "QueueNameExists", "QueueAlreadyExists",
		"A queue already exists with the same name and a different value for attribute(s): %s", name)
}

func errReceiptHandleIsInvalid(handle string) *apiError {
	return modeledErr(http.StatusNotFound, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
		"The input receipt handle %q is not a valid receipt handle.", handle)
}

func errMessageNotInflight() *apiError {
	return modeledErr(http.StatusBadRequest, "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight",
		"The message referred to isn't in flight.")
}

func errUnsupportedOperation(format string, args ...any) *apiError {
	return modeledErr(http.StatusBadRequest, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation",
		format, args...)
}

func errEmptyBatch() *apiError {
	return modeledErr(http.StatusBadRequest, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest",
		"There should be at least one entry in the request.")
}

func errTooManyEntries(n int) *apiError {
	return modeledErr(http.StatusBadRequest, "TooManyEntriesInBatchRequest",
		"AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
		"Maximum number of entries per request are 10. You have sent %d.", n)
}

func errIDsNotDistinct(id string) *apiError {
	return modeledErr(http.StatusBadRequest, "BatchEntryIdsNotDistinct",
		"AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id %s repeated.", id)
}

func errInvalidBatchEntryID(id string) *apiError {
	return modeledErr(http.StatusBadRequest, "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId",
		"A batch entry id can only contain alphanumeric characters, hyphens and underscores. "+
			"It can be at most 80 letters long. Invalid id: %q", id)
}

func errBatchTooLong(size, max int) *apiError {
	return modeledErr(http.StatusBadRequest, "BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
		"Batch requests cannot be longer than %d bytes. You have sent %d bytes.", max, size)
}

func errInvalidAttributeName(name string) *apiError {
	return &apiError{status: http.StatusBadRequest, shape: "InvalidAttributeName", modeled: true,
		fault: "Sender", message: fmt.Sprintf("Unknown Attribute %s.", name)}
}

func errInvalidAttributeValue(name, value, reason string) *apiError {
	return &apiError{status: http.StatusBadRequest, shape: "InvalidAttributeValue", modeled: true,
		fault: "Sender", message: fmt.Sprintf("Invalid value for the parameter %s: %q. Reason: %s", name, value, reason)}
}

func errInvalidMessageContents() *apiError {
	return &apiError{status: http.StatusBadRequest, shape: "InvalidMessageContents", modeled: true,
		fault: "Sender", message: "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | " +
			"#x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"}
}

func errInvalidParameterValue(format string, args ...any) *apiError {
	return genericErr(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

func errMissingParameter(name string) *apiError {
	return genericErr(http.StatusBadRequest, "MissingParameter",
		"The request must contain the parameter %s.", name)
}

func errSerialization(err error) *apiError {
	return &apiError{status: http.StatusBadRequest, shape: "SerializationException", fault: "Sender",
		message: "Malformed request body: " + err.Error()}
}

// errorBody is the JSON body of an error response.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// writeError writes e as AWS JSON 1.0 with the query-compatibility header.
func writeError(w http.ResponseWriter, e *apiError) {
	typ := e.shape
	if e.modeled {
		typ = "com.amazonaws.sqs#" + e.shape
	}
	if e.queryCode != "" {
		w.Header().Set("X-Amzn-Query-Error", e.queryCode+";"+e.fault)
	}
	writeJSON(w, e.status, errorBody{Type: typ, Message: e.message})
}

// asAPIError converts any error from an operation into an apiError.
func asAPIError(err error) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	return &apiError{status: http.StatusInternalServerError, shape: "InternalFailure",
		queryCode: "InternalFailure", fault: "Receiver", message: err.Error()}
}
