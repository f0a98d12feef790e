package s3lite

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// op is what a request does, as far as this package's additions care.
type op int

const (
	opOther op = iota
	opGet
	opHead
	opPut // PutObject or CopyObject
	opInitiate
	opComplete
	opDelete
	opDeleteMulti
	opDeleteBucket
)

// objectSubresources are object sub-resources (?tagging, ...) whose
// requests neither read nor write object data.
var objectSubresources = []string{"tagging", "acl", "retention", "legal-hold", "attributes", "torrent", "select"}

// classify names the operation of a path-style request, following
// gofakes3's routing order.
func classify(method, bucket, key string, q url.Values) op {
	has := func(name string) bool { _, ok := q[name]; return ok }
	switch {
	case bucket == "":
		return opOther
	case q.Get("uploadId") != "":
		if method == http.MethodPost {
			return opComplete
		}
		return opOther
	case has("uploads"):
		if method == http.MethodPost && key != "" {
			return opInitiate
		}
		return opOther
	case has("versioning"), has("versions"), slices.ContainsFunc(objectSubresources, has):
		return opOther
	case key == "":
		switch {
		case method == http.MethodDelete:
			return opDeleteBucket
		case method == http.MethodPost && has("delete"):
			return opDeleteMulti
		}
		return opOther
	}
	switch method {
	case http.MethodGet:
		return opGet
	case http.MethodHead:
		return opHead
	case http.MethodPut:
		return opPut
	case http.MethodDelete:
		return opDelete
	}
	return opOther
}

// splitPath returns the bucket and key of a path-style URL path.
func splitPath(p string) (bucket, key string) {
	bucket, key, _ = strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return bucket, key
}

// ServeHTTP serves the S3 REST API: notifications and restores here,
// everything else by gofakes3 with archive checks before and events after.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key := splitPath(r.URL.Path)
	q := r.URL.Query()
	if _, ok := q["notification"]; ok && bucket != "" && key == "" {
		s.serveNotification(w, r, bucket)
		return
	}
	if _, ok := q["restore"]; ok && key != "" && r.Method == http.MethodPost {
		s.serveRestore(w, r, bucket, key)
		return
	}
	if isListV2(r, bucket, key, q) {
		s.serveListV2(w, r, bucket, q)
		return
	}
	if isPartCopy(r, q) {
		s.servePartCopy(w, r)
		return
	}
	o := classify(r.Method, bucket, key, q)
	if err := s.precheck(o, r, bucket, key); err != nil {
		writeError(w, r, err)
		return
	}
	if o == opDelete && r.Header.Get("If-Match") != "" && q.Get("versionId") == "" {
		s.serveConditionalDelete(w, r, bucket, key)
		return
	}
	if isListUploads(r, bucket, key) {
		s.serveListUploads(w, r, bucket)
		return
	}
	if isSelfCopy(o, r, bucket, key) {
		s.serveSelfCopy(w, r, bucket, key)
		return
	}
	rec := &recorder{ResponseWriter: w}
	if o == opGet || o == opHead {
		sums := o == opGet && wantsChecksum(r)
		rec.beforeWrite = func(h http.Header, status int) {
			s.objectHeaders(h, status, bucket, key)
			if sums && status == http.StatusOK {
				s.checksumHeaders(h, bucket, key)
			}
		}
	}
	var deleted *multiDelete
	if o == opDeleteMulti {
		deleted = captureMultiDelete(r, rec)
	}
	s.handler.ServeHTTP(rec, r)
	rec.finish()
	if rec.status/100 != 2 {
		return
	}
	s.after(o, r, rec, bucket, key, deleted)
}

// after updates state and emits events once an operation succeeded.
func (s *Service) after(o op, r *http.Request, rec *recorder, bucket, key string, deleted *multiDelete) {
	req := requestInfoOf(r, rec.Header())
	switch o {
	case opPut:
		s.forgetRestore(bucket, key)
		name := "ObjectCreated:Put"
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			name = "ObjectCreated:Copy"
		}
		s.emitObject(bucket, key, name, req)
	case opComplete:
		s.forgetRestore(bucket, key)
		s.emitObject(bucket, key, "ObjectCreated:CompleteMultipartUpload", req)
	case opDelete:
		s.forgetRestore(bucket, key)
		s.emit(bucket, event{name: "ObjectRemoved:Delete", key: key, req: req})
	case opDeleteMulti:
		for _, k := range deleted.keys(rec.body.Bytes()) {
			s.forgetRestore(bucket, k)
			s.emit(bucket, event{name: "ObjectRemoved:Delete", key: k, req: req})
		}
	case opDeleteBucket:
		s.forgetBucket(bucket)
	}
}

// requestInfo is what an event record tells of the request behind it.
type requestInfo struct {
	sourceIP  string
	requestID string
	hostID    string
}

func requestInfoOf(r *http.Request, h http.Header) requestInfo {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return requestInfo{sourceIP: ip, requestID: h.Get("x-amz-request-id"), hostID: h.Get("x-amz-id-2")}
}

// recorder passes a response through, remembering its status, letting a
// hook edit the headers just before they are sent, and keeping a copy of
// the body when body is set.
type recorder struct {
	http.ResponseWriter
	status      int
	wrote       bool
	beforeWrite func(h http.Header, status int)
	body        *bytes.Buffer
}

// WriteHeader runs the hook, then sends the headers.
func (w *recorder) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote, w.status = true, status
	if w.beforeWrite != nil {
		w.beforeWrite(w.Header(), status)
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write sends body bytes (headers first, as 200, if not sent yet).
func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.body != nil {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// finish sends the headers of a response that has none sent yet (a
// handler that returned without writing means 200).
func (w *recorder) finish() { w.WriteHeader(http.StatusOK) }
