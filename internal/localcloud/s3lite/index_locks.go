package s3lite

import (
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// keyLocks are per-key mutexes, created on demand and dropped when free.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	users int
}

// lock locks key and returns its unlock.
func (k *keyLocks) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{}
		k.m[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

var _ gofakes3.VersionedBackend = indexedVersioned{}

// deleteIfMatch deletes the object only if its ETag matches one of the
// If-Match header's entity tags (or it is "*"), checking and deleting
// under the key's lock: NoSuchKey when there is no object, and
// PreconditionFailed when its ETag differs.
func (ix *indexedBackend) deleteIfMatch(bucket, key, ifMatch string) error {
	unlock := ix.keys.lock(bucket + "/" + key)
	defer unlock()
	e := ix.read(bucket, key, time.Time{})
	if e == nil {
		return errNoSuchKey(key)
	}
	if !etagMatches(ifMatch, e.etag) {
		return errPreconditionFailed("If-Match")
	}
	_, err := ix.Backend.DeleteObject(bucket, key)
	ix.refresh(bucket, key, err == nil)
	return err
}

// etagMatches is If-Match's strong comparison of a list of entity tags
// ("*" matches any); S3 also accepts a tag without quotes.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || (!strings.HasPrefix(t, "W/") && strings.Trim(t, `"`) == etag) {
			return true
		}
	}
	return false
}
