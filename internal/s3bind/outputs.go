package s3bind

import (
	"errors"
	"fmt"
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

// ErrInputUnderOutput: a binding's input prefix lies under an output
// location (archive, dead letter, copy destination) of a binding in the
// same bucket, its own included. Records there are taken for vigil's own
// output and ignored (IsOutput), so its objects would never be processed.
var ErrInputUnderOutput = errors.New("input prefix under a binding's output")

// CheckBinding refuses b when, with the bindings bs (b replacing the one of
// its bucket and prefix), an input prefix would lie under an output
// location in its bucket: b's own under any binding's output (b's
// included), or another binding's under one of b's.
func CheckBinding(bs []flowdata.S3Binding, b flowdata.S3Binding) error {
	var all []flowdata.S3Binding
	for _, o := range bs {
		if o.Bucket != b.Bucket || o.Prefix != b.Prefix {
			all = append(all, o)
		}
	}
	all = append(all, b)
	isB := func(x flowdata.S3Binding) bool { return x.Bucket == b.Bucket && x.Prefix == b.Prefix }
	for _, in := range all {
		for _, out := range all {
			if !isB(in) && !isB(out) {
				continue // neither side is b: not this bind's business
			}
			for _, o := range Outputs(out) {
				if o.Bucket == in.Bucket && strings.HasPrefix(in.Prefix, o.Prefix) {
					return fmt.Errorf("%w: s3://%s/%s (pipeline %s) lies under s3://%s/%s, an output of the binding of s3://%s/%s (pipeline %s); its objects would never be processed",
						ErrInputUnderOutput, in.Bucket, in.Prefix, in.Pipeline.Name, o.Bucket, o.Prefix, out.Bucket, out.Prefix, out.Pipeline.Name)
				}
			}
		}
	}
	return nil
}
