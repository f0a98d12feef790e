package glacieremu

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// newID returns a random URL-safe id of about n characters, like Glacier's
// archive (138), job (92) and upload ids.
func newID(n int) string {
	b := make([]byte, n*3/4)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newRequestID returns a request id for the response header.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
