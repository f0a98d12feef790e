package s3lite

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"

	"github.com/johannesboyne/gofakes3"
)

// multiDelete remembers the keys a DeleteObjects request names, to emit
// ObjectRemoved:Delete for each one deleted.
type multiDelete struct {
	requested []string
}

// captureMultiDelete reads the request's keys (leaving the body for
// gofakes3) and has rec keep the response body.
func captureMultiDelete(r *http.Request, rec *recorder) *multiDelete {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	d := &multiDelete{}
	var in gofakes3.DeleteRequest
	if err == nil && xml.Unmarshal(body, &in) == nil {
		for _, o := range in.Objects {
			d.requested = append(d.requested, o.Key)
		}
	}
	rec.body = &bytes.Buffer{}
	return d
}

// keys lists the requested keys that the response does not report as
// failed.
func (d *multiDelete) keys(response []byte) []string {
	var out gofakes3.MultiDeleteResult
	_ = xml.Unmarshal(response, &out)
	failed := map[string]bool{}
	for _, e := range out.Error {
		failed[e.Key] = true
	}
	var keys []string
	for _, k := range d.requested {
		if !failed[k] {
			keys = append(keys, k)
		}
	}
	return keys
}

// serveConditionalDelete is DeleteObject with If-Match (current version
// only, as in S3): 204 and ObjectRemoved:Delete when the ETag matches,
// 412 PreconditionFailed when it differs, 404 NoSuchKey when there is no
// object.
func (s *Service) serveConditionalDelete(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if err := s.bucketExists(bucket); err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.index.deleteIfMatch(bucket, key, r.Header.Get("If-Match")); err != nil {
		writeError(w, r, err)
		return
	}
	setRequestID(w)
	w.WriteHeader(http.StatusNoContent)
	s.forgetRestore(bucket, key)
	s.emit(bucket, event{name: "ObjectRemoved:Delete", key: key, req: requestInfoOf(r, w.Header())})
}
