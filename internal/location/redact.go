package location

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces the value of a query parameter that may carry a
// credential, and user info, in the forms Redact returns.
const Redacted = "REDACTED"

// CredentialsHint is what a refusal of user info in a URL points to: the
// fields and flags that name a worker environment variable instead.
const CredentialsHint = "name a worker environment variable instead: basicAuth {user, passwordEnv} or bearerTokenEnv " +
	"in job, pipeline and backup files (auth: in backups), --user/--password-env or --bearer-env on the command line"

// errUserinfo is the refusal of a URL with user info (user:password@host).
func errUserinfo(raw string) error {
	return fmt.Errorf("%s: credentials in a URL (user:password@) are refused: a URL is kept in workflow IDs, summaries and history; %s",
		Redact(raw), CredentialsHint)
}

// HasUserinfo reports whether raw is a URL with an authority
// (scheme://...) holding user info ("user@" or "user:password@").
func HasUserinfo(raw string) bool {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return strings.Contains(rest, "@")
}

// CheckURL refuses a URL with user info; the error names the …Env fields
// meant for credentials and shows the URL redacted.
func CheckURL(raw string) error {
	if HasUserinfo(raw) {
		return errUserinfo(raw)
	}
	return nil
}

// sensitiveExact are query parameter names (lowercase) whose value is
// taken for a credential.
var sensitiveExact = map[string]bool{
	"key": true, "sig": true, "signature": true, "token": true, "code": true,
	"pass": true, "pw": true, "pwd": true, "auth": true, "jwt": true, "session": true,
}

// sensitiveParts are substrings of query parameter names (lowercase) that
// mark a credential: access_token, apiKey, X-Amz-Signature, client_secret...
var sensitiveParts = []string{"token", "secret", "passw", "signature", "credential", "apikey", "api_key", "api-key",
	"access_key", "accesskey", "auth", "session", "private", "x-amz-", "x-goog-"}

// sensitivePathParts are the name parts that make a path parameter
// (;name=V, or a name=V segment) a credential. Narrower than a query's:
// hive-style partitions (author=…, session_id=…, partition_key=…) are data
// that must keep IDs apart.
var sensitivePathParts = []string{"token", "secret", "passw", "signature", "credential", "apikey", "api_key", "api-key",
	"access_key", "accesskey", "x-amz-", "x-goog-"}

// sensitivePathParam reports whether a path parameter name may carry a
// credential: the exact names SensitiveParam knows but code and session,
// and names holding one of sensitivePathParts.
func sensitivePathParam(name string) bool {
	n := strings.ToLower(name)
	if sensitiveExact[n] && n != "code" && n != "session" {
		return true
	}
	for _, p := range sensitivePathParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	return false
}

// SensitiveParam reports whether a query parameter name may carry a
// credential: token, key, sig, signature, X-Amz-*, X-Goog-*, and any name
// holding token, secret, password, auth, credential, api key or session.
func SensitiveParam(name string) bool {
	n := strings.ToLower(name)
	if sensitiveExact[n] {
		return true
	}
	for _, p := range sensitiveParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	return strings.HasSuffix(n, "key") || strings.HasSuffix(n, "sig")
}

// Redact returns raw with what may be a credential replaced by REDACTED:
// user info, and the values of query parameters SensitiveParam names
// (a presigned URL keeps its path and shows which parameters it had).
// A string that is not an absolute URL is returned unchanged. Redact is
// the form of a URL for workflow summaries, details, search attributes,
// memos, log lines, failure messages and CLI output; the full URL travels
// only in a workflow's (codec-encrypted) input.
func Redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/?#@ ") {
		return raw
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		authority = Redacted + "@" + authority[at+1:]
	}
	frag := ""
	if i := strings.IndexByte(tail, '#'); i >= 0 {
		tail, frag = tail[:i], tail[i:]
	}
	if frag != "" {
		frag = "#" + Redacted
	}
	p, query, hasQuery := strings.Cut(tail, "?")
	if !hasQuery {
		return scheme + "://" + authority + p + frag
	}
	return scheme + "://" + authority + p + "?" + redactQuery(query) + frag
}

// redactQuery keeps the parameter names and order, replacing sensitive
// values.
func redactQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, kv := range parts {
		k, _, hasValue := strings.Cut(kv, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasValue && SensitiveParam(name) {
			parts[i] = k + "=" + Redacted
		}
	}
	return strings.Join(parts, "&")
}

// urlInText finds absolute URLs in free text (error messages, log lines).
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)

// RedactText applies Redact to every URL in s: for error messages that
// quote a URL (net/http's do, url.Error), log lines and CLI output.
func RedactText(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, Redact)
}

// Digest is a short, stable hex digest of raw (the first 12 hex digits of
// its SHA-256): what a workflow ID holds in place of a URL, so an ID never
// carries a credential a URL may hold, while one destination still maps to
// one ID.
func Digest(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])[:digestLen]
}

// digestLen is the number of hex digits Digest keeps (48 bits).
const digestLen = 12

// IDPart is a location's form for a workflow ID: s3://bucket/key and
// gs://bucket/key as bucket/key (neither is a secret), a file or dir
// location as its scheme, host and a digest of its path, and any other
// location (http, https) as scheme://host/ plus a digest of the URL, so
// the ID keeps what is readable and not secret. Every digest covers the
// redacted URL (Redact, and path parameters such as ;token=V or /sig=V/
// redacted too), never a credential: a short digest of a low-entropy
// token could be reversed by trying candidates. An s3 or gs key holding a
// query, a fragment or such a parameter keeps only its readable part,
// before them, plus a digest.
func IDPart(raw string) string {
	l, err := Parse(raw)
	if err != nil {
		return "x-" + Digest(idForm(raw))
	}
	switch l.Scheme {
	case S3, GS:
		if cut := keyCut(l.Key); cut >= 0 {
			return l.Bucket + "/" + l.Key[:cut] + "-" + Digest(idForm(raw))
		}
		return l.Bucket + "/" + l.Key
	case File, Dir:
		host := l.Host
		if host == "" {
			host = "any"
		}
		return l.Scheme + ":" + host + ":" + path2base(l.Path) + "-" + Digest(idForm(raw))
	default:
		host := ""
		if u, err := url.Parse(l.URL); err == nil {
			host = u.Hostname()
		}
		return l.Scheme + ":" + host + "-" + Digest(idForm(raw))
	}
}

// pathParam is a name=value pair in a URL's path (a matrix parameter
// ;name=value, or a segment name=value).
var pathParam = regexp.MustCompile(`([^/;&?#=]+)=([^/;&?#]*)`)

// idForm is what IDPart digests: raw redacted (Redact), with the values
// of path parameters that may be credentials (sensitivePathParam)
// redacted too.
func idForm(raw string) string {
	r := Redact(raw)
	head, tail := r, ""
	if i := strings.IndexAny(r, "?#"); i >= 0 {
		head, tail = r[:i], r[i:]
	}
	head = pathParam.ReplaceAllStringFunc(head, func(kv string) string {
		name, _, _ := strings.Cut(kv, "=")
		if sensitivePathParam(name) {
			return name + "=" + Redacted
		}
		return kv
	})
	return head + tail
}

// keyCut is where the readable part of an s3 or gs key ends for an ID:
// at a query or fragment, or at the first path parameter that may be a
// credential (sensitivePathParam); -1 when the whole key is readable.
func keyCut(key string) int {
	end := len(key)
	if i := strings.IndexAny(key, "?#"); i >= 0 {
		end = i
	}
	for _, m := range pathParam.FindAllStringSubmatchIndex(key[:end], -1) {
		if sensitivePathParam(key[m[2]:m[3]]) {
			return m[0]
		}
	}
	if end < len(key) {
		return end
	}
	return -1
}

// path2base is the last element of an absolute path ("" for /).
func path2base(p string) string {
	return p[strings.LastIndex(p, "/")+1:]
}
