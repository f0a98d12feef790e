package main

import (
	"context"
	"strings"
	"testing"

	"github.com/vigilops/vigil/examples"
)

// TestFileFormatHelp checks that the --help of each verb taking an input
// file shows the format's annotated example as it is in examples/ and a
// row for every key of its JSON Schema.
func TestFileFormatHelp(t *testing.T) {
	for _, tc := range []struct {
		args            []string
		example, schema string
	}{
		{[]string{"batch", "run"}, "jobs/nightly.yaml", "job.schema.json"},
		{[]string{"s3", "setup-events"}, "pipelines/reports.yaml", "pipeline.schema.json"},
		{[]string{"schedule", "apply"}, "schedules.yaml", "schedules.schema.json"},
		{[]string{"schedule", "create"}, "sweep.yaml", "sweep.schema.json"},
	} {
		var out, errOut syncBuffer
		if code := newApp(&out, &errOut).execute(context.Background(), append(tc.args, "--help")); code != 0 {
			t.Fatalf("%v --help: exit %d: %s", tc.args, code, errOut.String())
		}
		help := out.String()
		for _, line := range strings.Split(strings.TrimRight(examples.Read(tc.example), "\n"), "\n") {
			if !strings.Contains(help, "  "+line+"\n") {
				t.Errorf("%v --help lacks the line %q of examples/%s", tc.args, line, tc.example)
			}
		}
		keys := schemaKeys(tc.schema)
		if len(keys) < 5 {
			t.Errorf("%s: %d keys, want the format's keys", tc.schema, len(keys))
		}
		for _, k := range keys {
			if !strings.Contains(help, "  "+k[0]+" ") || k[1] == "" {
				t.Errorf("%v --help: key %q missing or without a meaning (%q)", tc.args, k[0], k[1])
			}
		}
	}
}
