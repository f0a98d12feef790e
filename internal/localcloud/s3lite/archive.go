package s3lite

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// storageClassHeader is the request and response header of an object's
// storage class; gofakes3 keeps it with the object's metadata.
const storageClassHeader = "X-Amz-Storage-Class"

const classStandard = "STANDARD"

// storageClasses are the classes PUT accepts.
var storageClasses = []string{classStandard, "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
	"INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW",
	"EXPRESS_ONEZONE", "FSX_OPENZFS", "FSX_ONTAP"}

func validStorageClass(class string) bool { return slices.Contains(storageClasses, class) }

// archived reports whether objects of the class must be restored before
// they can be read.
func archived(class string) bool { return class == "GLACIER" || class == "DEEP_ARCHIVE" }

// storageClass returns the class of a stored object and whether it exists.
func (s *Service) storageClass(bucket, key string) (class string, size int64, etag string, ok bool) {
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil || obj == nil {
		return "", 0, "", false
	}
	if obj.Contents != nil {
		_ = obj.Contents.Close()
	}
	class = obj.Metadata[storageClassHeader]
	if class == "" {
		class = classStandard
	}
	return class, obj.Size, hexETag(obj.Hash), true
}

// precheck refuses what gofakes3 would wrongly accept: an invalid storage
// class, a copy whose x-amz-copy-source-if-(none-)match does not hold, and
// reading (or copying) an archived object that is not restored.
// On a copy without a storage class it asks for STANDARD, as S3 does,
// instead of gofakes3's inheriting the source's class.
func (s *Service) precheck(o op, r *http.Request, bucket, key string) error {
	switch o {
	case opPut, opInitiate:
		class := r.Header.Get(storageClassHeader)
		if class != "" && !validStorageClass(class) {
			return newError(http.StatusBadRequest, "InvalidStorageClass", "The storage class you specified is not valid")
		}
		src := r.Header.Get("X-Amz-Copy-Source")
		if o != opPut || src == "" {
			return nil
		}
		if class == "" {
			r.Header.Set(storageClassHeader, classStandard)
		}
		if sb, sk, ok := parseCopySource(src); ok {
			if _, _, etag, ok := s.storageClass(sb, sk); ok {
				if err := copyConditions(r.Header, etag); err != nil {
					return err
				}
			}
			return s.readable(sb, sk)
		}
	case opGet:
		return s.readable(bucket, key)
	}
	return nil
}

// readable fails with InvalidObjectState for an archived object without a
// restored copy; missing objects are left to gofakes3 to report.
func (s *Service) readable(bucket, key string) error {
	class, _, _, ok := s.storageClass(bucket, key)
	if !ok || !archived(class) || s.restored(bucket, key) {
		return nil
	}
	return errInvalidObjectState(class)
}

// parseCopySource splits x-amz-copy-source ("bucket/key", URL-encoded,
// maybe with "?versionId=") as gofakes3 does.
func parseCopySource(src string) (bucket, key string, ok bool) {
	src, _, _ = strings.Cut(src, "?")
	if dec, err := url.QueryUnescape(src); err == nil {
		src = dec
	}
	bucket, key, ok = strings.Cut(strings.TrimPrefix(src, "/"), "/")
	return bucket, key, ok && bucket != "" && key != ""
}

// objectHeaders edits a successful GET or HEAD response: no storage class
// header for STANDARD (S3 sends none), x-amz-restore when a restore exists.
func (s *Service) objectHeaders(h http.Header, status int, bucket, key string) {
	if status/100 != 2 && status != http.StatusNotModified {
		return
	}
	if h.Get(storageClassHeader) == classStandard {
		h.Del(storageClassHeader)
	}
	if v := s.restoreHeader(bucket, key); v != "" {
		h.Set("X-Amz-Restore", v)
	}
}
