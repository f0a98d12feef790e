package pipeline

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// FuzzParse: whatever the bytes, Parse never panics, and a pipeline it
// accepts is valid, has a known processor kind with exactly its own
// section, and reads back the same from its JSON form (what workflow
// inputs carry).
func FuzzParse(f *testing.F) {
	f.Add([]byte(issueExample))
	f.Add([]byte(`{"name": "j", "processor": {"kind": "http", "http": {"url": "https://importer.internal/ingest/{{.Key}}", "bearerTokenEnv": "IMPORTER_TOKEN", "body": "presigned-url"}}}`))
	f.Add([]byte("name: c\nprocessor: {kind: copy, copy: {bucket: other-bucket, prefix: processed/}}\narchive: {bucket: archive-bucket, prefix: done/}\n"))
	f.Add([]byte("name: n\nprocessor: {kind: none}\ndeadLetter: {prefix: incoming/failed/}\n"))
	f.Add([]byte("name: b\nprocessor: {kind: http, http: {url: 'http://x/y', basicAuth: {user: u, passwordEnv: PW}}}\nnotifyOnFailure: TEAM_SLACK\n"))
	f.Add([]byte("name: e\nprocessor: {kind: exec, exec: {command: sh, args: ['-c', 'echo {{.Key}}'], env: {A: '{{.Size}}'}, timeout: 1h}}\nretry: {maximumAttempts: 1}\n"))
	f.Add([]byte("processor: {kind: ftp}\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		if err := Validate(p); err != nil {
			t.Fatalf("Parse accepted a pipeline that Validate refuses: %v", err)
		}
		if !slices.Contains(activities.ProcessorKinds(), p.Processor.Kind) {
			t.Fatalf("accepted unknown processor kind %q", p.Processor.Kind)
		}
		own := map[string]bool{flowdata.ProcessorHTTP: p.Processor.HTTP != nil, flowdata.ProcessorExec: p.Processor.Exec != nil,
			flowdata.ProcessorCopy: p.Processor.Copy != nil}
		for kind, set := range own {
			if set != (kind == p.Processor.Kind) {
				t.Fatalf("kind %s with processor.%s set: %v", p.Processor.Kind, kind, set)
			}
		}
		j, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("accepted pipeline does not marshal: %v", err)
		}
		back, err := Parse(j)
		if err != nil {
			t.Fatalf("its JSON form %s is refused: %v", j, err)
		}
		if !reflect.DeepEqual(back, p) {
			t.Fatalf("JSON round trip changed it:\n%+v\n%+v", p, back)
		}
	})
}
