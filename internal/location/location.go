// Package location parses and validates the URLs vigil's CLI takes as
// sources and destinations, in one place:
//
//	s3://bucket/key-or-prefix   gs://bucket/path
//	file:///abs/path            file:/abs/path
//	file://HOST/abs/path        dir://HOST/abs/path
//	dir:/abs/path               http(s)://host/path
//
// A file or dir URL with a host names the worker host that must hold the
// path (vigil pins the activities touching it to that host); without one,
// any host will do and the flow reports the one it chose.
//
// Relative paths, unknown schemes and invalid bucket names are rejected
// with a message that says what is wrong. A URL with user info
// (user:password@) is refused: credentials are named by environment
// variable (see CredentialsHint). Error messages show the URL redacted
// (Redact), as every record of a URL must.
package location

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Schemes vigil understands.
const (
	S3    = "s3"
	GS    = "gs"
	File  = "file"
	Dir   = "dir"
	HTTP  = "http"
	HTTPS = "https"
)

// Location is a parsed source or destination.
type Location struct {
	// Scheme is one of the constants above.
	Scheme string `json:"scheme"`
	// Bucket is set for s3 and gs.
	Bucket string `json:"bucket,omitempty"`
	// Key is the object key or prefix (s3, gs), without a leading slash.
	Key string `json:"key,omitempty"`
	// Path is the absolute local path (file, dir).
	Path string `json:"path,omitempty"`
	// Host is the worker host holding Path (file, dir); empty means any.
	Host string `json:"host,omitempty"`
	// URL is the full URL (http, https).
	URL string `json:"url,omitempty"`
}

// String formats the location back as a canonical URL.
func (l Location) String() string {
	switch l.Scheme {
	case S3, GS:
		return l.Scheme + "://" + l.Bucket + "/" + l.Key
	case File:
		return "file://" + l.Host + l.Path
	case Dir:
		if l.Host != "" {
			return "dir://" + l.Host + l.Path
		}
		return "dir:" + l.Path
	default:
		return l.URL
	}
}

// Parse parses and validates raw.
func Parse(raw string) (Location, error) {
	if raw == "" {
		return Location{}, fmt.Errorf("empty location: want s3://bucket/key, gs://bucket/path, file:///abs/path, dir:/abs/path or http(s)://...")
	}
	if err := CheckURL(raw); err != nil {
		return Location{}, err
	}
	shown := Redact(raw)
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok || scheme == "" || strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, ".") {
		return Location{}, fmt.Errorf("%q is not a URL: write file://%s for a local file (absolute path)", shown, absHint(shown))
	}
	switch strings.ToLower(scheme) {
	case S3, GS:
		return parseBucketURL(strings.ToLower(scheme), shown, rest)
	case File, Dir:
		p, host := rest, ""
		if strings.HasPrefix(p, "//") {
			p = strings.TrimPrefix(p, "//")
			if i := strings.Index(p, "/"); i != 0 {
				if i < 0 {
					return Location{}, fmt.Errorf("%q: want %s://HOST/abs/path or %s:///abs/path", shown, scheme, scheme)
				}
				host, p = p[:i], p[i:]
				if !hostRE.MatchString(host) {
					return Location{}, fmt.Errorf("%q: host %q may only hold letters, digits, dots, hyphens and underscores", shown, host)
				}
			}
		}
		if !strings.HasPrefix(p, "/") {
			return Location{}, fmt.Errorf("%q: path must be absolute (%s:///abs/path)", shown, scheme)
		}
		unescaped, err := url.PathUnescape(p)
		if err != nil {
			return Location{}, fmt.Errorf("%q: %v", shown, err)
		}
		return Location{Scheme: strings.ToLower(scheme), Path: path.Clean(unescaped), Host: host}, nil
	case HTTP, HTTPS:
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return Location{}, fmt.Errorf("%q is not a valid http(s) URL", shown)
		}
		return Location{Scheme: strings.ToLower(scheme), URL: raw}, nil
	default:
		return Location{}, fmt.Errorf("%q: unknown scheme %q (want s3, gs, file, dir, http or https)", shown, scheme)
	}
}

func parseBucketURL(scheme, raw, rest string) (Location, error) {
	if !strings.HasPrefix(rest, "//") {
		return Location{}, fmt.Errorf("%q: want %s://bucket/key", raw, scheme)
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(rest, "//"), "/")
	if err := ValidateBucket(bucket); err != nil {
		return Location{}, fmt.Errorf("%q: %w", raw, err)
	}
	return Location{Scheme: scheme, Bucket: bucket, Key: key}, nil
}

var hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,252}[A-Za-z0-9])?$`)

// WithHost returns l on host (file and dir locations; others unchanged).
func (l Location) WithHost(host string) Location {
	if l.Scheme == File || l.Scheme == Dir {
		l.Host = host
	}
	return l
}

var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ValidateBucket applies the S3 bucket naming rules (3–63 characters,
// lowercase letters, digits, dots and hyphens, starting and ending with a
// letter or digit, no "..", not an IP address, no reserved prefixes or
// suffixes).
func ValidateBucket(b string) error {
	switch {
	case b == "":
		return fmt.Errorf("missing bucket name")
	case len(b) < 3 || len(b) > 63:
		return fmt.Errorf("bucket name %q must be 3 to 63 characters long", b)
	case !bucketRE.MatchString(b):
		return fmt.Errorf("bucket name %q may only hold lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit", b)
	case strings.Contains(b, ".."), strings.Contains(b, ".-"), strings.Contains(b, "-."):
		return fmt.Errorf("bucket name %q has adjacent dots or a dot next to a hyphen", b)
	case net.ParseIP(b) != nil:
		return fmt.Errorf("bucket name %q must not be an IP address", b)
	case strings.HasPrefix(b, "xn--"), strings.HasPrefix(b, "sthree-"), strings.HasSuffix(b, "-s3alias"), strings.HasSuffix(b, "--ol-s3"):
		return fmt.Errorf("bucket name %q uses a reserved prefix or suffix", b)
	}
	return nil
}

func absHint(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return "/abs/path/" + strings.TrimPrefix(p, "./")
}

// Redacted is l.String() with what may be a credential replaced (Redact):
// the form for summaries, logs and messages.
func (l Location) Redacted() string { return Redact(l.String()) }
