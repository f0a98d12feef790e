package s3lite

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"net/http/httptest"

	"github.com/johannesboyne/gofakes3"
)

// copyResult is CopyObject's answer.
type copyResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

// isSelfCopy tells a CopyObject of an object onto itself, which S3 allows
// to change metadata (MetadataDirective REPLACE) and gofakes3 would get
// wrong (it truncates the file it reads from).
func isSelfCopy(o op, r *http.Request, bucket, key string) bool {
	if o != opPut {
		return false
	}
	sb, sk, ok := parseCopySource(r.Header.Get("X-Amz-Copy-Source"))
	return ok && sb == bucket && sk == key
}

// serveSelfCopy rewrites an object's metadata. As in S3, a self-copy that
// changes nothing (no REPLACE) is an InvalidRequest. The answer's ETag is
// the content's MD5, as for any single-part copy.
func (s *Service) serveSelfCopy(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if !strings.EqualFold(r.Header.Get("X-Amz-Metadata-Directive"), "REPLACE") {
		writeError(w, r, newError(http.StatusBadRequest, "InvalidRequest",
			"This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."))
		return
	}
	now := time.Now().UTC()
	meta := map[string]string{"Last-Modified": now.Format(http.TimeFormat)}
	for hk, hv := range r.Header {
		switch {
		case hk == storageClassHeader && hv[0] == classStandard:
		case strings.HasPrefix(hk, "X-Amz-Meta-"), hk == storageClassHeader, strings.HasPrefix(hk, "X-Amz-Server-Side-Encryption"),
			hk == "Content-Type", hk == "Content-Encoding", hk == "Content-Disposition", hk == "Cache-Control":
			meta[hk] = hv[0]
		}
	}
	var sum []byte
	err := s.index.write(bucket, key, func() (err error) {
		if s.opts.DataDir != "" {
			sum, err = s.replaceMetadata(bucket, key, meta)
		} else {
			sum, err = s.rewriteInMemory(bucket, key, meta)
		}
		return err
	})
	if err != nil {
		var ge *gofakes3.ErrorResponse
		if errors.As(err, &ge) && ge.Code == gofakes3.ErrNoSuchKey {
			err = errNoSuchKey(key)
		}
		writeError(w, r, err)
		return
	}
	s.forgetRestore(bucket, key)
	writeXML(w, copyResult{LastModified: now.Format("2006-01-02T15:04:05.000Z"), ETag: `"` + hex.EncodeToString(sum) + `"`})
	s.emitObject(bucket, key, "ObjectCreated:Copy", requestInfoOf(r, w.Header()))
}

// rewriteInMemory stores an object of the in-memory backend again under
// meta (the backend merges the metadata the request leaves out). The
// caller holds the key's lock. It returns the content's MD5.
func (s *Service) rewriteInMemory(bucket, key string, meta map[string]string) ([]byte, error) {
	obj, err := s.index.Backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(obj.Contents)
	obj.Contents.Close()
	if err != nil {
		return nil, err
	}
	if _, err := s.index.Backend.PutObject(bucket, key, meta, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		return nil, err
	}
	sum := md5.Sum(body)
	return sum[:], nil
}

// isListUploads tells a ListMultipartUploads request.
func isListUploads(r *http.Request, bucket, key string) bool {
	_, ok := r.URL.Query()["uploads"]
	return ok && r.Method == http.MethodGet && bucket != "" && key == ""
}

// listUploadsResult is an empty ListMultipartUploads answer.
type listUploadsResult struct {
	XMLName    xml.Name `xml:"ListMultipartUploadsResult"`
	Xmlns      string   `xml:"xmlns,attr"`
	Bucket     string   `xml:"Bucket"`
	Prefix     string   `xml:"Prefix"`
	MaxUploads int      `xml:"MaxUploads"`
	Truncated  bool     `xml:"IsTruncated"`
}

// serveListUploads answers ListMultipartUploads; gofakes3 answers
// NoSuchUpload for a bucket that never had an upload, where S3 lists none.
func (s *Service) serveListUploads(w http.ResponseWriter, r *http.Request, bucket string) {
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, r)
	if rec.Code == http.StatusNotFound && strings.Contains(rec.Body.String(), "NoSuchUpload") {
		if err := s.bucketExists(bucket); err != nil {
			writeError(w, r, err)
			return
		}
		writeXML(w, listUploadsResult{Xmlns: "http://s3.amazonaws.com/doc/2006-03-01/", Bucket: bucket, Prefix: r.URL.Query().Get("prefix"), MaxUploads: 1000})
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}
