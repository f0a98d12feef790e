package s3lite

import (
	"sort"

	"github.com/johannesboyne/gofakes3"
)

// pagingBackend adds ListObjects paging (max-keys, continuation tokens) to
// a backend that lists everything at once (s3afero does): it lists the
// whole prefix, then cuts the page in key order. gofakes3 turns NextMarker
// into the continuation token.
type pagingBackend struct {
	gofakes3.Backend
}

// ListBucket lists one page.
func (b pagingBackend) ListBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	all, err := b.Backend.ListBucket(bucket, prefix, gofakes3.ListBucketPage{})
	if err != nil || page.IsEmpty() {
		return all, err
	}
	type entry struct {
		key     string
		content *gofakes3.Content
	}
	entries := make([]entry, 0, len(all.Contents)+len(all.CommonPrefixes))
	for _, c := range all.Contents {
		entries = append(entries, entry{key: c.Key, content: c})
	}
	for _, p := range all.CommonPrefixes {
		entries = append(entries, entry{key: p.Prefix})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	out := &gofakes3.ObjectList{}
	max := page.MaxKeys
	if max <= 0 {
		max = 1000
	}
	for _, e := range entries {
		if page.HasMarker && e.key <= page.Marker {
			continue
		}
		if int64(len(out.Contents)+len(out.CommonPrefixes)) == max {
			out.IsTruncated = true
			break
		}
		if e.content != nil {
			out.Contents = append(out.Contents, e.content)
		} else {
			out.CommonPrefixes = append(out.CommonPrefixes, gofakes3.CommonPrefix{Prefix: e.key})
		}
		out.NextMarker = e.key
	}
	if !out.IsTruncated {
		out.NextMarker = ""
	}
	return out, nil
}
