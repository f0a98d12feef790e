package catalog

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Namer names an input field in a refusal: a file's key ("archiveId",
// Key) or the starter's flag for it ("--archive-id", Flag), so that one
// validator serves the CLI verbs and the input files of schedules.
type Namer func(key string) string

// Key names a field by its key in an input file.
func Key(key string) string { return key }

// Flag names a field by the starter's flag: the key in kebab case,
// "archiveId" → "--archive-id".
func Flag(key string) string {
	var b strings.Builder
	b.WriteString("--")
	for _, r := range key {
		if unicode.IsUpper(r) {
			b.WriteByte('-')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CheckWait checks a waiting flow's deadline (at most
// flowdata.MaxWaitDeadline) and fixed poll interval (0 or at least
// flowdata.MinPollInterval).
func CheckWait(deadline, poll time.Duration, name Namer) error {
	switch {
	case deadline > flowdata.MaxWaitDeadline:
		return fmt.Errorf("%s %s: want at most %s (30 days)", name("deadline"), deadline, flowdata.MaxWaitDeadline)
	case poll < 0 || (poll > 0 && poll < flowdata.MinPollInterval):
		return fmt.Errorf("%s %s: want 0 (adapted) or at least %s", name("pollInterval"), poll, flowdata.MinPollInterval)
	}
	return nil
}

// checkTier checks a Glacier or S3 restore tier.
func checkTier(tier string, name Namer) error {
	if !slices.Contains(flowdata.Tiers, tier) {
		return fmt.Errorf("%s %q: want one of %s", name("tier"), tier, strings.Join(flowdata.Tiers, ", "))
	}
	return nil
}

// checkHostWait refuses a negative host wait.
func checkHostWait(d flowdata.Duration, name Namer) error {
	if d < 0 {
		return fmt.Errorf("%s %s: must not be negative", name("hostWait"), d)
	}
	return nil
}

// CheckDownloadDestination checks where a Glacier retrieval or an S3
// restore delivers: file://HOST/abs/path, file:///abs/path or
// s3://bucket/key (one object). Userinfo and relative paths are refused
// by location.Parse; the URL is shown redacted.
func CheckDownloadDestination(dest string, name Namer) error {
	to := name("to")
	if dest == "" {
		return fmt.Errorf("%s is required (file:///abs/path or s3://bucket/key)", to)
	}
	loc, err := location.Parse(dest)
	if err != nil {
		return fmt.Errorf("%s: %v", to, err)
	}
	shown := location.Redact(dest)
	if loc.Scheme != location.File && loc.Scheme != location.S3 {
		return fmt.Errorf("%s %s: want file:///abs/path or s3://bucket/key", to, shown)
	}
	if loc.Scheme == location.S3 && (loc.Key == "" || strings.HasSuffix(loc.Key, "/")) {
		return fmt.Errorf("%s %s: name the object (s3://bucket/key)", to, shown)
	}
	return nil
}

// checkDownloadVerify checks a verify level, and that full comes with a
// file:// destination (an s3:// copy never passes through a worker's
// disk: S3 checks it, and a multipart completion is checked always).
func checkDownloadVerify(verify, dest string, name Namer) error {
	if err := flowdata.CheckVerify(verify); err != nil {
		return fmt.Errorf("%s%s", name("verify"), strings.TrimPrefix(err.Error(), "verify"))
	}
	if verify != flowdata.VerifyFull {
		return nil
	}
	if loc, err := location.Parse(dest); err != nil || loc.Scheme != location.File {
		return fmt.Errorf("%s full applies to %s file:// destinations (s3:// copies are checked by S3)", name("verify"), name("to"))
	}
	return nil
}
