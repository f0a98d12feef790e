package s3bind

import (
	"strings"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// Outputs are the locations a binding's pipeline writes to, with their
// buckets resolved: the archive, the dead letter and a copy processor's
// destination. A location that is a whole bucket (no prefix) is left out:
// it cannot be told from input.
func Outputs(b flowdata.S3Binding) []flowdata.S3Location {
	var out []flowdata.S3Location
	add := func(l *flowdata.S3Location, def string) {
		bucket, prefix := l.Resolve(b.Bucket, "", def)
		if prefix != "" {
			out = append(out, flowdata.S3Location{Bucket: bucket, Prefix: prefix})
		}
	}
	p := b.Pipeline
	add(p.Archive, flowdata.DefaultArchivePrefix)
	add(p.DeadLetter, flowdata.DefaultDeadLetterPrefix)
	if p.Processor.Kind == flowdata.ProcessorCopy && p.Processor.Copy != nil {
		add(p.Processor.Copy, "")
	}
	return out
}

// IsOutput reports whether bucket/key lies under an output location of any
// of the bindings (see Outputs): an object vigil itself wrote, whatever
// binding its key also falls under, which must never start a run.
func IsOutput(bs []flowdata.S3Binding, bucket, key string) bool {
	for _, b := range bs {
		for _, o := range Outputs(b) {
			if o.Bucket == bucket && strings.HasPrefix(key, o.Prefix) {
				return true
			}
		}
	}
	return false
}
