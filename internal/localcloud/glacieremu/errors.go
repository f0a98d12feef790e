package glacieremu

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// apiError is a Glacier error as the SDK decodes it: the code goes in the
// X-Amzn-ErrorType header and the body {"code","message","type"}.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errNotFound(format string, args ...any) *apiError {
	return &apiError{http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf(format, args...)}
}

func errInvalid(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf(format, args...)}
}

func errMissing(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "MissingParameterValueException", fmt.Sprintf(format, args...)}
}

// writeError answers with err as a Glacier error (internal errors become
// ServiceUnavailableException, which the SDK retries).
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		s.log.Error("glacier: internal error", "method", r.Method, "path", r.URL.Path, "error", err)
		e = &apiError{http.StatusInternalServerError, "ServiceUnavailableException", err.Error()}
	}
	kind := "Client"
	if e.status >= 500 {
		kind = "Server"
	}
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeJSON(w, e.status, map[string]string{"code": e.code, "message": e.message, "type": kind})
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
