package s3lite

import (
	"encoding/hex"
	"io"
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
