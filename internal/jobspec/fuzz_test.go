package jobspec

import (
	"slices"
	"testing"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// FuzzParse feeds arbitrary job files to the parser: it must never panic,
// and a job it accepts must pass Validate and have exactly the section of
// its kind.
func FuzzParse(f *testing.F) {
	f.Add([]byte("name: nightly\nkind: http\nhttp: {url: \"http://127.0.0.1:5000/s3dump\", method: POST, basicAuth: {user: ops, passwordEnv: CACHE_PASSWORD}}\nretry: {initialInterval: 10s, maximumAttempts: 5}\n"))
	f.Add([]byte("{\"name\":\"e\",\"kind\":\"exec\",\"exec\":{\"command\":\"/bin/echo\",\"args\":[\"hi\"]}}"))
	f.Add([]byte("name: p\nkind: s3-put\ns3Put: {bucket: b, key: \"k/{{.ScheduledTime}}\", content: x}\n"))
	f.Add([]byte("name: q\nkind: sqs-send\nsqsSend: {queue: q, body: hi}\n"))
	f.Add([]byte("kind: http\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		job, err := Parse(b)
		if err != nil {
			return
		}
		if err := Validate(job); err != nil {
			t.Fatalf("Parse accepted a job that Validate refuses: %v", err)
		}
		if !slices.Contains(flowdata.JobKinds, job.Kind) {
			t.Fatalf("accepted unknown kind %q", job.Kind)
		}
		sections := 0
		for _, set := range []bool{job.HTTP != nil, job.Exec != nil, job.S3Put != nil, job.SQSSend != nil} {
			if set {
				sections++
			}
		}
		if sections != 1 {
			t.Fatalf("accepted a job with %d kind sections", sections)
		}
	})
}
