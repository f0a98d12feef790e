package s3lite

import (
	"strings"

	"github.com/johannesboyne/gofakes3"
)

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
