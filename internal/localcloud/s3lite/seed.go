package s3lite

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"iter"
	"net/http"
	"time"
)

// Seed stores an object with body under every key of keys straight into
// the store, as STANDARD objects last modified now, without notification
// events and without HTTP: the way to give a benchmark or a fixture a
// million objects in seconds (a million PutObject calls take minutes). It
// returns how many it stored.
func (s *Service) Seed(bucket string, keys iter.Seq[string], body []byte) (int, error) {
	if err := s.bucketExists(bucket); err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	meta := map[string]string{"Last-Modified": now.Format(http.TimeFormat)}
	sum := md5.Sum(body)
	etag := hex.EncodeToString(sum[:])
	n := 0
	for k := range keys {
		// Straight to the store and the index: no per-key lock (nothing
		// else writes these keys yet) and no read-back.
		if _, err := s.index.Backend.PutObject(bucket, k, meta, bytes.NewReader(body), int64(len(body)), nil); err != nil {
			return n, err
		}
		s.index.set(bucket, &entry{key: k, etag: etag, size: int64(len(body)), mod: now})
		n++
	}
	return n, nil
}
