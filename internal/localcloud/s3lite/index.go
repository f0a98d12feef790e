package s3lite

import (
	"encoding/hex"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/tidwall/btree"
)

// entry is what a listing shows of one object.
type entry struct {
	key   string
	etag  string // hex, unquoted
	size  int64
	mod   time.Time
	class string // empty for STANDARD
}

func byKey(a, b *entry) bool { return a.key < b.key }

// bucketIndex is the sorted key index of one bucket.
type bucketIndex = btree.BTreeG[*entry]

func newBucketIndex() *bucketIndex {
	return btree.NewBTreeGOptions(byKey, btree.Options{Degree: 64, NoLocks: true})
}

// indexedBackend keeps a sorted key index per bucket beside a gofakes3
// backend, maintained on every write, so that a listing seeks to its prefix
// and start key in O(log n) and reads only the page: listing incoming/ costs
// the same with a million objects under bak/ as with none (S3's own cost
// model; gofakes3's backends scan the bucket from its first key, or list it
// whole and sort it).
//
// Every write of a key runs under that key's lock and ends by reading the
// object back (HeadObject) into the index, so the index holds the state
// after the last write of each key; conditional writes (DeleteObject with
// If-Match) check and write under the same lock.
type indexedBackend struct {
	gofakes3.Backend
	keys keyLocks

	mu      sync.RWMutex
	buckets map[string]*bucketIndex
}

// indexedVersioned is an indexedBackend over a versioned backend (s3mem),
// keeping its versioning operations.
type indexedVersioned struct {
	*indexedBackend
	v gofakes3.VersionedBackend
}

// newIndexed wraps b, building the index from its current content.
func newIndexed(b gofakes3.Backend) (gofakes3.Backend, *indexedBackend, error) {
	ix := &indexedBackend{Backend: b, buckets: map[string]*bucketIndex{}}
	if err := ix.build(); err != nil {
		return nil, nil, err
	}
	if v, ok := b.(gofakes3.VersionedBackend); ok {
		return indexedVersioned{indexedBackend: ix, v: v}, ix, nil
	}
	return ix, ix, nil
}

// build indexes every object of every bucket (a restart from DataDir).
func (ix *indexedBackend) build() error {
	buckets, err := ix.Backend.ListBuckets()
	if err != nil {
		return err
	}
	for _, bk := range buckets {
		t := newBucketIndex()
		list, err := ix.Backend.ListBucket(bk.Name, nil, gofakes3.ListBucketPage{})
		if err != nil {
			return err
		}
		for _, c := range list.Contents {
			if e := ix.read(bk.Name, c.Key, c.LastModified.Time); e != nil {
				t.Set(e)
			}
		}
		ix.buckets[bk.Name] = t
	}
	return nil
}

// read is the entry of an object as the backend has it now; nil when it
// does not exist.
func (ix *indexedBackend) read(bucket, key string, mod time.Time) *entry {
	obj, err := ix.Backend.HeadObject(bucket, key)
	if err != nil || obj == nil {
		return nil
	}
	if obj.Contents != nil {
		_ = obj.Contents.Close()
	}
	if obj.IsDeleteMarker {
		return nil
	}
	class := obj.Metadata[storageClassHeader]
	if class == classStandard {
		class = ""
	}
	return &entry{key: key, etag: hex.EncodeToString(obj.Hash), size: obj.Size, mod: mod.UTC(), class: class}
}

// refresh reads key back into the index; the caller holds the key's lock.
// After a failed write an unchanged object keeps its Last-Modified.
func (ix *indexedBackend) refresh(bucket, key string, wrote bool) {
	e := ix.read(bucket, key, time.Now())
	ix.mu.Lock()
	defer ix.mu.Unlock()
	t := ix.buckets[bucket]
	if t == nil {
		return
	}
	if e == nil {
		t.Delete(&entry{key: key})
		return
	}
	if old, ok := t.Get(e); ok && !wrote && old.etag == e.etag && old.size == e.size && old.class == e.class {
		e.mod = old.mod
	}
	t.Set(e)
}

// write runs a write of bucket/key under its lock, then refreshes it.
func (ix *indexedBackend) write(bucket, key string, do func() error) error {
	unlock := ix.keys.lock(bucket + "/" + key)
	defer unlock()
	err := do()
	ix.refresh(bucket, key, err == nil)
	return err
}

// set puts an entry into the bucket's index as it is.
func (ix *indexedBackend) set(bucket string, e *entry) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if t := ix.buckets[bucket]; t != nil {
		t.Set(e)
	}
}

// reread refreshes a key after a write of several keys that may or may
// not have changed it.
func (ix *indexedBackend) reread(bucket, key string) {
	unlock := ix.keys.lock(bucket + "/" + key)
	defer unlock()
	ix.refresh(bucket, key, false)
}

// CreateBucket creates the bucket and its index.
func (ix *indexedBackend) CreateBucket(name string) error {
	if err := ix.Backend.CreateBucket(name); err != nil {
		return err
	}
	ix.mu.Lock()
	ix.buckets[name] = newBucketIndex()
	ix.mu.Unlock()
	return nil
}

// DeleteBucket deletes an empty bucket and its index.
func (ix *indexedBackend) DeleteBucket(name string) error {
	if err := ix.Backend.DeleteBucket(name); err != nil {
		return err
	}
	ix.dropBucket(name)
	return nil
}

// ForceDeleteBucket deletes a bucket, its objects and its index.
func (ix *indexedBackend) ForceDeleteBucket(name string) error {
	if err := ix.Backend.ForceDeleteBucket(name); err != nil {
		return err
	}
	ix.dropBucket(name)
	return nil
}

func (ix *indexedBackend) dropBucket(name string) {
	ix.mu.Lock()
	delete(ix.buckets, name)
	ix.mu.Unlock()
}

// PutObject stores the object and indexes it.
func (ix *indexedBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (res gofakes3.PutObjectResult, err error) {
	err = ix.write(bucket, key, func() error {
		res, err = ix.Backend.PutObject(bucket, key, meta, input, size, cond)
		return err
	})
	return res, err
}

// CopyObject copies and indexes the copy.
func (ix *indexedBackend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (res gofakes3.CopyObjectResult, err error) {
	err = ix.write(dstBucket, dstKey, func() error {
		res, err = ix.Backend.CopyObject(srcBucket, srcKey, dstBucket, dstKey, meta)
		return err
	})
	return res, err
}

// DeleteObject deletes and unindexes the object.
func (ix *indexedBackend) DeleteObject(bucket, key string) (res gofakes3.ObjectDeleteResult, err error) {
	err = ix.write(bucket, key, func() error {
		res, err = ix.Backend.DeleteObject(bucket, key)
		return err
	})
	return res, err
}

// DeleteMulti deletes several objects and unindexes them.
func (ix *indexedBackend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	res, err := ix.Backend.DeleteMulti(bucket, keys...)
	for _, k := range keys {
		ix.reread(bucket, k)
	}
	return res, err
}

// DeleteObjectVersion deletes a version; the key's current version may
// change.
func (v indexedVersioned) DeleteObjectVersion(bucket, key string, id gofakes3.VersionID) (res gofakes3.ObjectDeleteResult, err error) {
	err = v.write(bucket, key, func() error {
		res, err = v.v.DeleteObjectVersion(bucket, key, id)
		return err
	})
	return res, err
}

// DeleteMultiVersions deletes versions and refreshes their keys.
func (v indexedVersioned) DeleteMultiVersions(bucket string, objects ...gofakes3.ObjectID) (gofakes3.MultiDeleteResult, error) {
	res, err := v.v.DeleteMultiVersions(bucket, objects...)
	for _, o := range objects {
		v.reread(bucket, o.Key)
	}
	return res, err
}

// VersioningConfiguration passes through.
func (v indexedVersioned) VersioningConfiguration(bucket string) (gofakes3.VersioningConfiguration, error) {
	return v.v.VersioningConfiguration(bucket)
}

// SetVersioningConfiguration passes through.
func (v indexedVersioned) SetVersioningConfiguration(bucket string, c gofakes3.VersioningConfiguration) error {
	return v.v.SetVersioningConfiguration(bucket, c)
}

// GetObjectVersion passes through.
func (v indexedVersioned) GetObjectVersion(bucket, key string, id gofakes3.VersionID, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return v.v.GetObjectVersion(bucket, key, id, rng)
}

// HeadObjectVersion passes through.
func (v indexedVersioned) HeadObjectVersion(bucket, key string, id gofakes3.VersionID) (*gofakes3.Object, error) {
	return v.v.HeadObjectVersion(bucket, key, id)
}

// ListBucketVersions passes through (it scans; versions are rare here).
func (v indexedVersioned) ListBucketVersions(bucket string, prefix *gofakes3.Prefix, page *gofakes3.ListBucketVersionsPage) (*gofakes3.ListBucketVersionsResult, error) {
	return v.v.ListBucketVersions(bucket, prefix, page)
}

// listing is one page of a listing.
type listing struct {
	contents  []*entry
	prefixes  []string
	truncated bool
	// next is the inclusive start key of the next page (when truncated).
	next string
}

// page lists up to max keys and common prefixes under prefix, from the
// key from on (inclusive), rolling keys up at delim when it is set. It
// costs O(log n) to seek plus O(log n) per common prefix plus the page.
func (ix *indexedBackend) page(bucket, prefix, delim, from string, max int) (listing, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	t := ix.buckets[bucket]
	if t == nil {
		return listing{}, false
	}
	var out listing
	pivot := from
	if pivot < prefix {
		pivot = prefix
	}
	for more := true; more; {
		more = false
		t.Ascend(&entry{key: pivot}, func(e *entry) bool {
			if !strings.HasPrefix(e.key, prefix) {
				return false
			}
			cp := ""
			if delim != "" {
				if i := strings.Index(e.key[len(prefix):], delim); i >= 0 {
					cp = e.key[:len(prefix)+i+len(delim)]
				}
			}
			if len(out.contents)+len(out.prefixes) == max {
				out.truncated = true
				return false
			}
			if cp == "" {
				out.contents = append(out.contents, e)
				out.next = e.key + "\x00"
				return true
			}
			out.prefixes = append(out.prefixes, cp)
			// Seek past every key under the common prefix.
			next, ok := successor(cp)
			out.next, pivot, more = next, next, ok
			if !ok {
				out.next = ""
			}
			return false
		})
	}
	if !out.truncated {
		out.next = ""
	}
	return out, true
}

// successor is the least string greater than every string starting with
// p; false when there is none (p is all 0xff bytes).
func successor(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// ListBucket serves gofakes3's (ListObjects V1) listing from the index.
// A marker that is a common prefix skips every key under it, as S3 does
// with the NextMarker it returned.
func (ix *indexedBackend) ListBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	var p, d string
	if prefix != nil {
		if prefix.HasPrefix {
			p = prefix.Prefix
		}
		if prefix.HasDelimiter {
			d = prefix.Delimiter
		}
	}
	from := ""
	if page.HasMarker {
		from = page.Marker + "\x00"
		if d != "" && strings.HasPrefix(page.Marker, p) && strings.Index(page.Marker[len(p):], d) == len(page.Marker)-len(p)-len(d) {
			if next, ok := successor(page.Marker); ok {
				from = next
			}
		}
	}
	max := int(page.MaxKeys)
	if max <= 0 {
		max = 1000
	}
	l, ok := ix.page(bucket, p, d, from, max)
	if !ok {
		return nil, gofakes3.BucketNotFound(bucket)
	}
	out := gofakes3.NewObjectList()
	for _, e := range l.contents {
		out.Add(e.content())
		out.NextMarker = e.key
	}
	for _, cp := range l.prefixes {
		out.AddPrefix(cp)
		if cp > out.NextMarker {
			out.NextMarker = cp
		}
	}
	out.IsTruncated = l.truncated
	if !l.truncated {
		out.NextMarker = ""
	}
	return out, nil
}

// content is the gofakes3 form of an entry.
func (e *entry) content() *gofakes3.Content {
	return &gofakes3.Content{Key: e.key, LastModified: gofakes3.NewContentTime(e.mod), ETag: `"` + e.etag + `"`,
		Size: e.size, StorageClass: gofakes3.StorageClass(e.storageClass())}
}

func (e *entry) storageClass() string {
	if e.class == "" {
		return classStandard
	}
	return e.class
}

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
