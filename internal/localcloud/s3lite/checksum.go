package s3lite

import (
	"encoding/base64"
	"encoding/hex"
	"hash/crc64"
	"io"
	"net/http"
	"strings"
)

// S3 answers a GetObject that asks for checksums (x-amz-checksum-mode:
// ENABLED, which the AWS SDK sends by default) with the object's stored
// checksum when the whole object is returned: objects uploaded without an
// explicit algorithm get a full-object CRC64NVME. Ranged GETs carry none.
// The emulator does the same, computing the CRC64NVME on the first full
// GET of each object version (by ETag) and remembering it.
const (
	checksumModeHeader = "X-Amz-Checksum-Mode"
	checksumCRC64NVME  = "X-Amz-Checksum-Crc64nvme"
	checksumTypeHeader = "X-Amz-Checksum-Type"
	checksumFullObject = "FULL_OBJECT"
)

// crc64NVME is the CRC-64/NVME table (the reversed polynomial, as the SDK
// builds it).
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// objectSum is a remembered checksum of one object version.
type objectSum struct{ etag, sum string }

// wantsChecksum tells whether a GET asks for the whole object's checksum.
func wantsChecksum(r *http.Request) bool {
	q := r.URL.Query()
	return r.Header.Get(checksumModeHeader) == "ENABLED" && r.Header.Get("Range") == "" &&
		q.Get("versionId") == "" && q.Get("partNumber") == ""
}

// checksumHeaders adds the full-object checksum to a successful GET's
// headers h; an object it cannot read again gets none.
func (s *Service) checksumHeaders(h http.Header, bucket, key string) {
	etag := h.Get("ETag")
	ref := bucket + "/" + key
	if v, ok := s.sums.Load(ref); ok && v.(objectSum).etag == etag {
		h.Set(checksumCRC64NVME, v.(objectSum).sum)
		h.Set(checksumTypeHeader, checksumFullObject)
		return
	}
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		s.log.Warn("S3 checksum: cannot read the object", "bucket", bucket, "key", key, "error", err)
		return
	}
	defer obj.Contents.Close()
	if !strings.Contains(etag, hex.EncodeToString(obj.Hash)) {
		return // replaced since the GET read it
	}
	c := crc64.New(crc64NVME)
	if _, err := io.Copy(c, obj.Contents); err != nil {
		s.log.Warn("S3 checksum: cannot read the object", "bucket", bucket, "key", key, "error", err)
		return
	}
	sum := base64.StdEncoding.EncodeToString(c.Sum(nil))
	s.sums.Store(ref, objectSum{etag, sum})
	h.Set(checksumCRC64NVME, sum)
	h.Set(checksumTypeHeader, checksumFullObject)
}
