package s3bind_test

import (
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
