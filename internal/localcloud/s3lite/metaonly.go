package s3lite

import (
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"

	"github.com/johannesboyne/gofakes3/backend/s3afero"
)

// metaFile is where gofakes3's s3afero backend keeps an object's metadata
// under DataDir (its metaStore.metaPath): the key with separators
// flattened, then the FNV-128a of the key.
func metaFile(dataDir, bucket, key string) string {
	h := fnv.New128a()
	h.Write([]byte(key))
	flat := strings.NewReplacer("/", "_", "\\", "_").Replace(key)
	return filepath.Join(dataDir, "metadata", bucket, flat+"-"+hex.EncodeToString(h.Sum(nil)))
}

// objectFile is the object's content under DataDir.
func objectFile(dataDir, bucket, key string) string {
	return filepath.Join(dataDir, "buckets", bucket, filepath.FromSlash(key))
}

// replaceMetadata gives a stored object new metadata without rewriting its
// bytes, as S3 does for a CopyObject onto itself: the content, its size and
// MD5 (so the ETag a single-part copy gets) stay, the metadata file is
// replaced atomically. Metadata the request leaves out is kept, as the
// backend's PutObject does (gofakes3.MergeMetadata). The caller holds the
// key's lock. It returns the content's MD5.
func (s *Service) replaceMetadata(bucket, key string, meta map[string]string) ([]byte, error) {
	obj, err := s.index.Backend.HeadObject(bucket, key)
	if err != nil {
		return nil, err
	}
	if obj.Contents != nil {
		_ = obj.Contents.Close()
	}
	for k, v := range obj.Metadata {
		if _, ok := meta[k]; !ok {
			meta[k] = v
		}
	}
	st, err := os.Stat(objectFile(s.opts.DataDir, bucket, key))
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(&s3afero.Metadata{File: bucket + "/" + key, ModTime: st.ModTime(), Size: st.Size(), Hash: obj.Hash, Meta: meta})
	if err != nil {
		return nil, err
	}
	path := metaFile(s.opts.DataDir, bucket, key)
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".meta-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	return obj.Hash, os.Rename(tmp.Name(), path)
}
