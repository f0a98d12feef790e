package location

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in      string
		want    Location
		wantErr string
	}{
		{in: "s3://my-bucket/a/b.bin", want: Location{Scheme: S3, Bucket: "my-bucket", Key: "a/b.bin"}},
		{in: "s3://my-bucket", want: Location{Scheme: S3, Bucket: "my-bucket"}},
		{in: "gs://exports.example/2026/", want: Location{Scheme: GS, Bucket: "exports.example", Key: "2026/"}},
		{in: "file:///var/tmp/x", want: Location{Scheme: File, Path: "/var/tmp/x"}},
		{in: "file:/var/tmp/x", want: Location{Scheme: File, Path: "/var/tmp/x"}},
		{in: "file:///var/tmp/a%20b", want: Location{Scheme: File, Path: "/var/tmp/a b"}},
		{in: "dir:/srv/data/", want: Location{Scheme: Dir, Path: "/srv/data"}},
		{in: "https://example.com/x", want: Location{Scheme: HTTPS, URL: "https://example.com/x"}},
		{in: "", wantErr: "empty location"},
		{in: "backup.tar", wantErr: "not a URL"},
		{in: "/abs/path", wantErr: "not a URL"},
		{in: "file:relative/x", wantErr: "absolute"},
		{in: "file://hostB/srv/x", want: Location{Scheme: File, Host: "hostB", Path: "/srv/x"}},
		{in: "dir://db-01.example/srv/d", want: Location{Scheme: Dir, Host: "db-01.example", Path: "/srv/d"}},
		{in: "file://host", wantErr: "want file://HOST/abs/path"},
		{in: "file://bad host/x", wantErr: "may only hold"},
		{in: "ftp://x/y", wantErr: "unknown scheme"},
		{in: "s3:/bucket/key", wantErr: "want s3://bucket/key"},
		{in: "s3://My_Bucket/k", wantErr: "lowercase"},
		{in: "s3://ab/k", wantErr: "3 to 63"},
		{in: "s3://a..b/k", wantErr: "adjacent"},
		{in: "s3://192.168.1.1/k", wantErr: "IP address"},
		{in: "s3://xn--bucket/k", wantErr: "reserved"},
		{in: "http://", wantErr: "not a valid"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if again, err := Parse(got.String()); err != nil || again != got {
				t.Errorf("round trip of %q via %q = %+v, %v", tc.in, got.String(), again, err)
			}
		})
	}
}
