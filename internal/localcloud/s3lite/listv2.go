package s3lite

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxListKeys is the most keys (and common prefixes) a listing page holds.
const maxListKeys = 1000

// listV2Result is ListObjectsV2's answer (ListBucketResult).
type listV2Result struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	Xmlns                 string         `xml:"xmlns,attr"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	KeyCount              int            `xml:"KeyCount"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []listObject   `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

type listObject struct {
	Key          string     `xml:"Key"`
	LastModified string     `xml:"LastModified"`
	ETag         string     `xml:"ETag"`
	Size         int64      `xml:"Size"`
	Owner        *listOwner `xml:"Owner,omitempty"`
	StorageClass string     `xml:"StorageClass"`
}

type listOwner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// owner is the (single) account of the local cloud.
var owner = listOwner{ID: "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a", DisplayName: "localcloud"}

// isListV2 tells a ListObjectsV2 request (GET /bucket?list-type=2).
func isListV2(r *http.Request, bucket, key string, q url.Values) bool {
	return r.Method == http.MethodGet && bucket != "" && key == "" && q.Get("list-type") == "2"
}

// Continuation tokens are opaque to clients; here they carry the first
// key of the next page, so a page after a common prefix starts past all
// its keys (S3 never repeats a common prefix across pages).
const tokenVersion = "s3lite1:"

func encodeToken(next string) string {
	return base64.StdEncoding.EncodeToString([]byte(tokenVersion + next))
}

func decodeToken(tok string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), tokenVersion) {
		return "", false
	}
	return strings.TrimPrefix(string(b), tokenVersion), true
}

// serveListV2 answers ListObjectsV2 from the key index: it seeks to the
// prefix, the continuation token or StartAfter (the token wins when both
// are given, as in S3) and reads one page. Errors are S3's: NoSuchBucket,
// InvalidArgument for a bad max-keys, encoding-type or continuation token.
func (s *Service) serveListV2(w http.ResponseWriter, r *http.Request, bucket string, q url.Values) {
	max := maxListKeys
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, r, errInvalidArgument("Provided max-keys not an integer or within integer range"))
			return
		}
		max = min(n, maxListKeys)
	}
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		writeError(w, r, errInvalidArgument("Invalid Encoding Method specified in Request"))
		return
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	from := ""
	if _, ok := q["start-after"]; ok {
		from = q.Get("start-after") + "\x00"
	}
	if _, ok := q["continuation-token"]; ok {
		next, ok := decodeToken(q.Get("continuation-token"))
		if !ok {
			writeError(w, r, errInvalidArgument("The continuation token provided is incorrect"))
			return
		}
		from = next
	}
	res := listV2Result{Xmlns: "http://s3.amazonaws.com/doc/2006-03-01/", Name: bucket, Prefix: prefix,
		ContinuationToken: q.Get("continuation-token"), StartAfter: q.Get("start-after"), MaxKeys: max,
		Delimiter: delim, EncodingType: enc}
	l := listing{}
	if max > 0 {
		var ok bool
		if l, ok = s.index.page(bucket, prefix, delim, from, max); !ok {
			writeError(w, r, errNoSuchBucket(bucket))
			return
		}
	} else if err := s.bucketExists(bucket); err != nil {
		writeError(w, r, err)
		return
	}
	encode := func(v string) string { return v }
	if enc == "url" {
		encode = url.QueryEscape
		res.Prefix, res.Delimiter, res.StartAfter = encode(res.Prefix), encode(res.Delimiter), encode(res.StartAfter)
	}
	_, fetchOwner := q["fetch-owner"]
	fetchOwner = fetchOwner && q.Get("fetch-owner") == "true"
	for _, e := range l.contents {
		o := listObject{Key: encode(e.key), LastModified: e.mod.Format("2006-01-02T15:04:05.000Z"), ETag: `"` + e.etag + `"`,
			Size: e.size, StorageClass: e.storageClass()}
		if fetchOwner {
			o.Owner = &owner
		}
		res.Contents = append(res.Contents, o)
	}
	for _, p := range l.prefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: encode(p)})
	}
	res.KeyCount = len(l.contents) + len(l.prefixes)
	res.IsTruncated = l.truncated
	if l.truncated {
		res.NextContinuationToken = encodeToken(l.next)
	}
	writeXML(w, res)
}
