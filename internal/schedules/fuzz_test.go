package schedules

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary schedules files to the parser: it must return
// schedules or an error naming the file, never panic, and everything it
// accepts must carry an ID and a hash.
func FuzzParse(f *testing.F) {
	f.Add([]byte("schedules:\n  - id: nightly\n    cron: \"20 * * * *\"\n    tz: Asia/Tokyo\n    workflow: batch\n    input: {name: j, kind: http, http: {url: \"http://127.0.0.1/x\"}}\n"))
	f.Add([]byte("schedules:\n  - id: a\n    every: 2s\n    workflow: batch\n    input: {name: j, kind: exec, exec: {command: /bin/true}}\n"))
	f.Add([]byte("schedules: []\n"))
	f.Add([]byte("{\"schedules\": [{\"id\": \"x\"}]}"))
	f.Add([]byte("schedules:\n  - id: a\n    cron: bad\n"))
	path := filepath.Join(f.TempDir(), "schedules.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Parse(b, path, "vigil")
		if err != nil {
			if !strings.Contains(err.Error(), "schedules.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, s := range out {
			if s.Options.ID == "" || s.Hash == "" {
				t.Fatalf("accepted schedule without ID or hash: %+v", s)
			}
		}
	})
}
