package s3bind_test

import (
	"errors"
	"testing"

	"github.com/vigilops/vigil/internal/s3bind"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func TestIsOutputCoversEveryBindingsOutputs(t *testing.T) {
	none := flowdata.Processor{Kind: flowdata.ProcessorNone}
	bs := []flowdata.S3Binding{
		{Bucket: "inbox", Prefix: "incoming/", Pipeline: flowdata.Pipeline{Name: "a", Processor: none}},
		{Bucket: "inbox", Prefix: "other/", Pipeline: flowdata.Pipeline{Name: "b", Processor: none,
			Archive:    &flowdata.S3Location{Prefix: "done/"},
			DeadLetter: &flowdata.S3Location{Bucket: "graveyard", Prefix: "dead/"}}},
		{Bucket: "feed", Prefix: "", Pipeline: flowdata.Pipeline{Name: "c",
			Processor: flowdata.Processor{Kind: flowdata.ProcessorCopy, Copy: &flowdata.S3Location{Bucket: "inbox", Prefix: "copies/"}},
			Archive:   &flowdata.S3Location{Bucket: "cold"}}},
	}
	for _, tc := range []struct {
		bucket, key string
		want        bool
	}{
		{"inbox", "bak/incoming/a.csv", true},    // binding a's default archive
		{"inbox", "failed/incoming/a.csv", true}, // binding a's default dead letter
		{"inbox", "done/other/x", true},          // binding b's archive
		{"graveyard", "dead/other/x", true},      // binding b's dead letter, in another bucket
		{"inbox", "copies/y", true},              // binding c's copy destination
		{"feed", "failed/z", true},               // binding c's default dead letter
		{"feed", "bak/z", false},                 // binding c archives to the whole bucket cold instead
		{"inbox", "incoming/a.csv", false},
		{"inbox", "dead/other/x", false}, // b's dead letter is in graveyard
		{"cold", "anything", false},      // a whole bucket is never taken for output
		{"elsewhere", "bak/x", false},
	} {
		if got := s3bind.IsOutput(bs, tc.bucket, tc.key); got != tc.want {
			t.Errorf("IsOutput(%s, %s) = %v, want %v", tc.bucket, tc.key, got, tc.want)
		}
	}
}

// TestCheckBindingRefusesInputUnderOutput: a binding whose input prefix
// lies under an output of a binding in its bucket (another's or its own)
// would never start a run (its records are taken for vigil's own output),
// and neither would a binding whose input a new binding's outputs cover:
// both are refused at bind time. Disjoint prefixes, outputs in another
// bucket and replacing a binding are fine.
func TestCheckBindingRefusesInputUnderOutput(t *testing.T) {
	none := flowdata.Processor{Kind: flowdata.ProcessorNone}
	bind := func(bucket, prefix string, archive *flowdata.S3Location) flowdata.S3Binding {
		return flowdata.S3Binding{Bucket: bucket, Prefix: prefix, Pipeline: flowdata.Pipeline{Name: "p-" + prefix, Processor: none, Archive: archive}}
	}
	have := []flowdata.S3Binding{bind("inbox", "incoming/", nil)} // archive bak/, dead letter failed/
	for _, tc := range []struct {
		name    string
		b       flowdata.S3Binding
		refused bool
	}{
		{"under another's default archive", bind("inbox", "bak/incoming/", nil), true},
		{"under another's dead letter", bind("inbox", "failed/", &flowdata.S3Location{Prefix: "done/"}), true},
		{"under its own archive", bind("inbox", "done/x/", &flowdata.S3Location{Prefix: "done/"}), true},
		{"its archive covers another's input", bind("inbox", "other/", &flowdata.S3Location{Prefix: "incoming/"}), true},
		{"disjoint", bind("inbox", "other/", nil), false},
		{"whole bucket", bind("inbox", "", nil), false},
		{"another bucket", bind("feed", "bak/incoming/", &flowdata.S3Location{Prefix: "done/"}), false},
		{"archive in another bucket", bind("inbox", "other/", &flowdata.S3Location{Bucket: "cold", Prefix: "incoming/"}), false},
		{"replacing the binding", bind("inbox", "incoming/", &flowdata.S3Location{Prefix: "archive/"}), false},
	} {
		err := s3bind.CheckBinding(have, tc.b)
		if got := errors.Is(err, s3bind.ErrInputUnderOutput); got != tc.refused {
			t.Errorf("%s: CheckBinding = %v, want refused %v", tc.name, err, tc.refused)
		}
	}
}
