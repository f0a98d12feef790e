package s3lite

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// UploadPartCopy: gofakes3 treats a PUT ?partNumber&uploadId with
// x-amz-copy-source as a plain UploadPart without a body (411). Served
// here: the source range is read through gofakes3 (archived objects must
// be restored, as for CopyObject) and streamed into an UploadPart of the
// same upload, and the answer is S3's CopyPartResult.

// isPartCopy reports whether r is an UploadPartCopy.
func isPartCopy(r *http.Request, q url.Values) bool {
	return r.Method == http.MethodPut && q.Get("uploadId") != "" && q.Get("partNumber") != "" && r.Header.Get("X-Amz-Copy-Source") != ""
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyPartResult"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

func (s *Service) servePartCopy(w http.ResponseWriter, r *http.Request) {
	srcBucket, srcKey, ok := parseCopySource(r.Header.Get("X-Amz-Copy-Source"))
	if !ok {
		writeError(w, r, errInvalidArgument("x-amz-copy-source must be bucket/key"))
		return
	}
	if err := s.readable(srcBucket, srcKey); err != nil {
		writeError(w, r, err)
		return
	}
	_, size, etag, ok := s.storageClass(srcBucket, srcKey)
	if !ok {
		writeError(w, r, errNoSuchKey(srcKey))
		return
	}
	if err := copyConditions(r.Header, etag); err != nil {
		writeError(w, r, err)
		return
	}
	start, end, err := copyRange(r.Header.Get("X-Amz-Copy-Source-Range"), size)
	if err != nil {
		writeError(w, r, err)
		return
	}
	get, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/"+srcBucket+"/"+url.PathEscape(srcKey), nil)
	if err != nil {
		writeError(w, r, err)
		return
	}
	get.URL.RawPath = "/" + srcBucket + "/" + strings.ReplaceAll(url.PathEscape(srcKey), "%2F", "/")
	get.URL.Path = "/" + srcBucket + "/" + srcKey
	get.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end))
	pr, pw := io.Pipe()
	src := &pipeResponse{header: http.Header{}, pw: pw, status: make(chan int, 1)}
	go func() {
		s.handler.ServeHTTP(src, get)
		src.writeHeader(http.StatusOK)
		pw.Close()
	}()
	if st := <-src.status; st/100 != 2 {
		_, _ = io.Copy(io.Discard, pr)
		writeError(w, r, newError(http.StatusInternalServerError, "InternalError", "reading the copy source: HTTP %d", st))
		return
	}
	if got := strings.Trim(src.header.Get("ETag"), `"`); got != etag {
		// Replaced between the check and the read: check the version
		// being read.
		if err := copyConditions(r.Header, got); err != nil {
			pr.CloseWithError(err)
			writeError(w, r, err)
			return
		}
	}
	put, err := http.NewRequestWithContext(r.Context(), http.MethodPut, r.URL.String(), pr)
	if err != nil {
		pr.CloseWithError(err)
		writeError(w, r, err)
		return
	}
	n := end - start + 1
	put.ContentLength = n
	put.Header.Set("Content-Length", strconv.FormatInt(n, 10))
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, put)
	pr.CloseWithError(io.ErrClosedPipe) // unblock the reader if the part was refused early
	if rec.Code/100 != 2 {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	writeXML(w, copyPartResult{LastModified: time.Now().UTC().Format(time.RFC3339), ETag: rec.Header().Get("ETag")})
}

// copyConditions checks x-amz-copy-source-if-match and
// x-amz-copy-source-if-none-match against the source's ETag as S3 does:
// 412 PreconditionFailed when one does not hold.
func copyConditions(h http.Header, etag string) error {
	if m := h.Get("X-Amz-Copy-Source-If-Match"); m != "" && !etagMatches(m, etag) {
		return errPreconditionFailed("x-amz-copy-source-If-Match")
	}
	if m := h.Get("X-Amz-Copy-Source-If-None-Match"); m != "" && etagMatches(m, etag) {
		return errPreconditionFailed("x-amz-copy-source-If-None-Match")
	}
	return nil
}

// copyRange parses x-amz-copy-source-range ("bytes=first-last"; empty is
// the whole object) against the source's size.
func copyRange(h string, size int64) (start, end int64, err error) {
	if h == "" {
		return 0, size - 1, nil
	}
	a, b, ok := strings.Cut(strings.TrimPrefix(h, "bytes="), "-")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || start < 0 || end < start || end >= size {
		return 0, 0, newError(http.StatusBadRequest, "InvalidArgument", "The x-amz-copy-source-range value %q is not valid for an object of %d bytes", h, size)
	}
	return start, end, nil
}

// pipeResponse is a ResponseWriter whose body goes into a pipe and whose
// status is reported once on status.
type pipeResponse struct {
	header http.Header
	pw     *io.PipeWriter
	status chan int
	sent   bool
}

func (p *pipeResponse) Header() http.Header { return p.header }

func (p *pipeResponse) writeHeader(code int) {
	if !p.sent {
		p.sent = true
		p.status <- code
	}
}

func (p *pipeResponse) WriteHeader(code int) { p.writeHeader(code) }

func (p *pipeResponse) Write(b []byte) (int, error) {
	p.writeHeader(http.StatusOK)
	return p.pw.Write(b)
}
