package location

import (
	"strings"
	"testing"
)

func TestParseRefusesUserinfo(t *testing.T) {
	for _, raw := range []string{
		"https://ops:hunter2@cache.example/snapshot",
		"http://tok3n@cache.example:8080/x",
		"file://u:hunter2@host/srv/x",
		"dir://u:hunter2@host/srv/d",
		"s3://u:hunter2@bucket/k",
		"gs://u:hunter2@bucket/k",
	} {
		_, err := Parse(raw)
		if err == nil {
			t.Errorf("%s: accepted", raw)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "hunter2") || strings.Contains(msg, "tok3n") {
			t.Errorf("%s: the refusal shows the credential: %s", raw, msg)
		}
		if !strings.Contains(msg, "passwordEnv") || !strings.Contains(msg, "bearerTokenEnv") || !strings.Contains(msg, "--password-env") {
			t.Errorf("%s: the refusal does not point to the …Env fields: %s", raw, msg)
		}
	}
	if _, err := Parse("https://cache.example/a@b"); err != nil {
		t.Errorf("an @ in the path is not user info: %v", err)
	}
}

func TestParseErrorsAreRedacted(t *testing.T) {
	_, err := Parse("ftp://host/x?token=t0k")
	if err == nil || strings.Contains(err.Error(), "t0k") {
		t.Errorf("error %v shows the token", err)
	}
}

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://h.example/p?token=abc&x=1", "https://h.example/p?token=REDACTED&x=1"},
		{"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F&X-Amz-Signature=deadbeef&versionId=3",
			"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&versionId=3"},
		{"https://h/p?sig=s&key=k&apiKey=a&client_secret=c&access_token=t&password=p&Auth=z&page=2",
			"https://h/p?sig=REDACTED&key=REDACTED&apiKey=REDACTED&client_secret=REDACTED&access_token=REDACTED&password=REDACTED&Auth=REDACTED&page=2"},
		{"https://u:p@h.example:8443/x", "https://REDACTED@h.example:8443/x"},
		{"https://h/x#access_token=t", "https://h/x#REDACTED"},
		{"https://h/x", "https://h/x"},
		{"s3://bucket/key?token=x", "s3://bucket/key?token=REDACTED"},
		{"file:///srv/x", "file:///srv/x"},
		{"not a url", "not a url"},
		{"CACHE_PASSWORD", "CACHE_PASSWORD"},
	}
	for _, tc := range cases {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactText(t *testing.T) {
	in := `Get "https://h.example/p?token=t0k&x=1": dial tcp: refused; also http://u:pw@h/x`
	got := RedactText(in)
	if strings.Contains(got, "t0k") || strings.Contains(got, ":pw@") || !strings.Contains(got, "https://h.example/p?token=REDACTED&x=1") {
		t.Errorf("RedactText = %q", got)
	}
}

func TestIDPart(t *testing.T) {
	secretURL := "https://cache.example/snapshot?token=t0k"
	got := IDPart(secretURL)
	if strings.Contains(got, "t0k") || strings.Contains(got, "token") || !strings.HasPrefix(got, "https:cache.example-") {
		t.Errorf("IDPart(%q) = %q", secretURL, got)
	}
	if IDPart(secretURL) != got {
		t.Error("IDPart is not stable")
	}
	if IDPart("https://cache.example/other?token=t0k") == got {
		t.Error("two URLs share an ID part")
	}
	// The digest covers the redacted URL: a token cannot be found again
	// from an ID by trying candidates offline.
	if other := IDPart("https://cache.example/snapshot?token=other"); other != got {
		t.Errorf("IDPart differs with the secret alone (%q, %q): its digest covers the secret", got, other)
	}
	if IDPart("https://cache.example/snapshot?v=2&token=t0k") == got {
		t.Error("IDPart ignores a query parameter that is no credential")
	}
	if g := IDPart("s3://demo-backups/cache/"); g != "demo-backups/cache/" {
		t.Errorf("IDPart(s3) = %q, want bucket/key", g)
	}
	for _, raw := range []string{"s3://b-1/k?X-Amz-Signature=s3cr3t", "gs://b-1/k?token=s3cr3t", "s3://b-1/k/sig=s3cr3t/x",
		"s3://b-1/k#s3cr3t", "gs://b-1/a;token=s3cr3t"} {
		g := IDPart(raw)
		if strings.Contains(g, "s3cr3t") || !strings.HasPrefix(g, "b-1/k") && !strings.HasPrefix(g, "b-1/a") {
			t.Errorf("IDPart(%q) = %q, want bucket/key's readable part and a digest", raw, g)
		}
		if again := IDPart(strings.ReplaceAll(raw, "s3cr3t", "other")); again != g {
			t.Errorf("IDPart(%q) = %q, with another secret %q: the digest covers the secret", raw, g, again)
		}
	}
	// Hive-style partitions are data, not credentials: they stay readable
	// and keep IDs apart.
	for _, pair := range [][2]string{
		{"s3://b-1/x/author=alice/f.parquet", "s3://b-1/x/author=bob/f.parquet"},
		{"s3://b-1/x/session_id=1/f", "s3://b-1/x/session_id=2/f"},
		{"file:///data/partition_key=a/f", "file:///data/partition_key=b/f"},
	} {
		a, b := IDPart(pair[0]), IDPart(pair[1])
		if a == b {
			t.Errorf("IDPart(%q) = IDPart(%q) = %q: a partition value is taken for a credential", pair[0], pair[1], a)
		}
	}
	if g := IDPart("s3://b-1/x/author=alice/f"); g != "b-1/x/author=alice/f" {
		t.Errorf("IDPart(hive key) = %q, want it whole", g)
	}
	if IDPart("s3://b-1/k?versionId=1") == IDPart("s3://b-1/k?versionId=2") {
		t.Error("IDPart: two versions share an ID part")
	}
	if g := IDPart("file:///srv/cache.bin"); !strings.HasPrefix(g, "file:any:cache.bin-") || len(g) != len("file:any:cache.bin-")+digestLen {
		t.Errorf("IDPart(file) = %q", g)
	}
}
