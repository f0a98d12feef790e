package s3lite

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"sync/atomic"
)

// s3Error is an S3 REST error: the status and the <Error> document.
type s3Error struct {
	XMLName      xml.Name `xml:"Error"`
	Status       int      `xml:"-"`
	Code         string   `xml:"Code"`
	Message      string   `xml:"Message"`
	Resource     string   `xml:"Resource,omitempty"`
	StorageClass string   `xml:"StorageClass,omitempty"`
	Condition    string   `xml:"Condition,omitempty"`
	RequestID    string   `xml:"RequestId"`
}

func (e *s3Error) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, format string, args ...any) *s3Error {
	return &s3Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errNoSuchBucket(bucket string) *s3Error {
	e := newError(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	e.Resource = bucket
	return e
}

// bucketExists fails with NoSuchBucket for a missing bucket.
func (s *Service) bucketExists(bucket string) error {
	ok, err := s.backend.BucketExists(bucket)
	if err != nil {
		return err
	}
	if !ok {
		return errNoSuchBucket(bucket)
	}
	return nil
}

func errNoSuchKey(key string) *s3Error {
	e := newError(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
	e.Resource = key
	return e
}

func errMalformedXML(err error) *s3Error {
	return newError(http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema: %v", err)
}

func errInvalidArgument(format string, args ...any) *s3Error {
	return newError(http.StatusBadRequest, "InvalidArgument", format, args...)
}

// errPreconditionFailed is a conditional request's 412, naming the
// header that did not hold.
func errPreconditionFailed(header string) *s3Error {
	e := newError(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
	e.Condition = header
	return e
}

func errInvalidObjectState(class string) *s3Error {
	e := newError(http.StatusForbidden, "InvalidObjectState", "The operation is not valid for the object's storage class")
	e.StorageClass = class
	return e
}

// requestIDs numbers the requests this package answers itself (gofakes3
// numbers its own).
var requestIDs atomic.Uint64

// setRequestID sets the x-amz-request-id and x-amz-id-2 headers S3 sends
// with every response, and returns the request id.
func setRequestID(w http.ResponseWriter) string {
	id := fmt.Sprintf("L0CA1%011X", requestIDs.Add(1))
	w.Header().Set("x-amz-request-id", id)
	w.Header().Set("x-amz-id-2", "localcloud/"+id)
	w.Header().Set("Server", "AmazonS3")
	return id
}

// writeError answers err (an *s3Error, or any error as InternalError) in
// S3's XML form; HEAD gets the status only.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := err.(*s3Error)
	if !ok {
		e = newError(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	e.RequestID = setRequestID(w)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		writeXMLBody(w, e)
	}
}

// writeXMLBody writes v as an XML document after the status line.
func writeXMLBody(w http.ResponseWriter, v any) {
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}

// writeXML answers 200 with v as an XML document.
func writeXML(w http.ResponseWriter, v any) {
	setRequestID(w)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	writeXMLBody(w, v)
}
