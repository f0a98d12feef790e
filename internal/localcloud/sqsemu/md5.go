package sqsemu

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strings"
)

// md5Hex is the lowercase hex MD5 of s, as the SDK validates message bodies.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Transport types of the SQS attribute digest.
const (
	transportString byte = 1
	transportBinary byte = 2
)

// md5OfAttributes computes MD5OfMessageAttributes (and
// MD5OfMessageSystemAttributes) the way SQS does: attributes sorted by name,
// each encoded as length-prefixed (4-byte big-endian) name and data type, a
// one-byte transport type (1 string/number, 2 binary), and the
// length-prefixed value. It returns "" when attrs is empty.
func md5OfAttributes(attrs map[string]attributeValue) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	h := md5.New()
	var lenBuf [4]byte
	writeLP := func(b []byte) {
		binary.BigEndian.PutUint32(lenBuf[:], uint32(len(b)))
		h.Write(lenBuf[:])
		h.Write(b)
	}
	for _, name := range names {
		v := attrs[name]
		writeLP([]byte(name))
		writeLP([]byte(v.DataType))
		if strings.HasPrefix(v.DataType, "Binary") {
			h.Write([]byte{transportBinary})
			writeLP(v.BinaryValue)
		} else {
			h.Write([]byte{transportString})
			writeLP([]byte(deref(v.StringValue)))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
