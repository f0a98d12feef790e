// Package schemagen generates the JSON Schemas of vigil's input files
// (schemas/*.schema.json) from the Go types the starter decodes them into,
// so a field added to a type appears in its schema at the next
// `go test ./internal/schemagen -update-schemas` (TestSchemasUpToDate fails
// until then). Field names come from the yaml tags (the files are read with
// a YAML decoder), descriptions from the fields' doc comments, and a field
// without omitempty is required. Unknown keys are refused, as the starter
// refuses them.
package schemagen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"github.com/invopop/jsonschema"
	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/catalog"
	"github.com/vigilops/vigil/internal/schedules"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Module is the module path the doc comments are looked up under.
const Module = "github.com/vigilops/vigil"

// CommentDirs are the directories (relative to the module root) holding
// the types whose doc comments become descriptions.
var CommentDirs = []string{"workflows/flowdata", "internal/schedules", "internal/catalog"}

// Doc is one generated schema: its file name under schemas/, a title, and
// the Go type it describes.
type Doc struct {
	File  string
	Title string
	Type  any
}

// Docs are the schemas written to schemas/.
var Docs = []Doc{
	{"job.schema.json", "vigil batch job file (starter batch run --job-file; schedule input of --workflow batch)", flowdata.BatchJob{}},
	{"pipeline.schema.json", "vigil S3 pipeline file (starter s3 setup-events|process|sweep --pipeline)", flowdata.Pipeline{}},
	{"sweep.schema.json", "vigil S3 sweep input (schedule input of --workflow s3-sweep)", catalog.S3SweepDoc{}},
	{"backup.schema.json", "vigil backup input (schedule input of --workflow backup)", flowdata.BackupInput{}},
	{"restore.schema.json", "vigil backup restore input (schedule input of --workflow restore: a restore drill)", flowdata.RestoreInput{}},
	{"glacier-retrieve.schema.json", "vigil Glacier retrieval input (schedule input of --workflow glacier)", catalog.GlacierRetrieveDoc{}},
	{"s3-restore.schema.json", "vigil S3 restore input (schedule input of --workflow s3restore)", catalog.S3RestoreDoc{}},
	{"schedules.schema.json", "vigil schedules file (starter schedule apply -f)", schedules.File{}},
}

// ScheduleInputs maps the schedule kinds whose inputs are typed to the
// type of their input document; a schedule of one of them has its inline
// input checked against that type's schema.
var ScheduleInputs = map[string]any{
	workflows.BatchFlow:     flowdata.BatchJob{},
	workflows.BackupFlow:    flowdata.BackupInput{},
	workflows.S3SweepFlow:   catalog.S3SweepDoc{},
	workflows.RestoreFlow:   flowdata.RestoreInput{},
	workflows.GlacierFlow:   catalog.GlacierRetrieveDoc{},
	workflows.S3RestoreFlow: catalog.S3RestoreDoc{},
}

// UntypedScheduleInputs are the kinds whose inputs the schedules schema
// leaves free-form (their documents are read by JSON names with fields a
// file must not set, such as a continued run's resume state).
var UntypedScheduleInputs = []string{workflows.DatastoreExportFlow}

var (
	durationType = reflect.TypeOf(flowdata.Duration(0))
	nodeType     = reflect.TypeOf(yaml.Node{})
)

// durationSchema is a Go duration string ("30s", "1h30m"); a plain number
// is read as nanoseconds.
func durationSchema() *jsonschema.Schema {
	return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
		{Type: "string", Pattern: `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$`},
		{Type: "integer", Minimum: json.Number("0")},
	}, Description: `a Go duration: "30s", "10m", "1h30m"`}
}

// reflector returns the reflector every schema is generated with; root is
// the module's root directory (for the doc comments).
func reflector(root string) (*jsonschema.Reflector, error) {
	r := &jsonschema.Reflector{
		FieldNameTag: "yaml",
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			switch t {
			case durationType:
				return durationSchema()
			case nodeType:
				return &jsonschema.Schema{} // replaced below where the node's type is known
			}
			return nil
		},
	}
	for _, dir := range CommentDirs {
		if err := addComments(r, root, dir); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Generate returns every schema by file name, as indented JSON ending in a
// newline; root is the module's root directory.
func Generate(root string) (map[string][]byte, error) {
	r, err := reflector(root)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, d := range Docs {
		s := r.Reflect(d.Type)
		s.ID = "" // the file's own location is its id (editors and validators resolve it)
		s.Title = d.Title
		switch d.Type.(type) {
		case catalog.S3SweepDoc:
			inline(s, r, "S3SweepDoc", "pipeline", flowdata.Pipeline{}, false)
		case schedules.File:
			if err := typeScheduleInputs(s, r); err != nil {
				return nil, err
			}
		}
		if err := addEnums(s); err != nil {
			return nil, fmt.Errorf("%s: %w", d.File, err)
		}
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.File, err)
		}
		out[d.File] = append(b, '\n')
	}
	return out, nil
}

// inline makes the property prop of definition def refer to the schema of
// v's type (its definitions merged in); withPath also allows a string (a
// file path, as schedule inputs may be).
func inline(s *jsonschema.Schema, r *jsonschema.Reflector, def, prop string, v any, withPath bool) *jsonschema.Schema {
	sub := r.Reflect(v)
	for name, d := range sub.Definitions {
		s.Definitions[name] = d
	}
	ref := &jsonschema.Schema{Ref: sub.Ref}
	if withPath {
		ref = &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "string", Description: "a file path, relative to the schedules file"}, ref}}
	}
	if p, ok := s.Definitions[def].Properties.Get(prop); ok {
		ref.Description = p.Description
	}
	s.Definitions[def].Properties.Set(prop, ref)
	return ref
}

// typeScheduleInputs restricts a schedule's workflow to the registered
// kinds and checks its input by kind: a file path or, for the typed
// kinds, an inline document of the kind's type.
func typeScheduleInputs(s *jsonschema.Schema, r *jsonschema.Reflector) error {
	spec := s.Definitions["Spec"]
	if spec == nil {
		return fmt.Errorf("schedules schema: no Spec definition")
	}
	wf, ok := spec.Properties.Get("workflow")
	if !ok {
		return fmt.Errorf("schedules schema: no workflow property")
	}
	for _, name := range catalog.Names() {
		wf.Enum = append(wf.Enum, name)
	}
	in, _ := spec.Properties.Get("input")
	spec.Properties.Set("input", &jsonschema.Schema{Description: in.Description,
		AnyOf: []*jsonschema.Schema{{Type: "string", Description: "a file path, relative to the schedules file"}, {Type: "object"}}})
	kinds := make([]string, 0, len(ScheduleInputs))
	for k := range ScheduleInputs {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		sub := r.Reflect(ScheduleInputs[k])
		for name, d := range sub.Definitions {
			s.Definitions[name] = d
		}
		then := &jsonschema.Schema{Properties: jsonschema.NewProperties()}
		then.Properties.Set("input", &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "string"}, {Ref: sub.Ref}}})
		cond := &jsonschema.Schema{Properties: jsonschema.NewProperties(), Required: []string{"workflow"}}
		cond.Properties.Set("workflow", &jsonschema.Schema{Const: k})
		spec.AllOf = append(spec.AllOf, &jsonschema.Schema{If: cond, Then: then})
		if k == workflows.S3SweepFlow {
			inline(s, r, "S3SweepDoc", "pipeline", flowdata.Pipeline{}, false)
		}
	}
	return nil
}

// enums are the closed value sets of string fields: definition, property,
// allowed values.
var enums = []struct {
	def, prop string
	values    func() []string
}{
	{"BatchJob", "kind", func() []string { return flowdata.JobKinds }},
	{"Spec", "overlap", schedules.OverlapNames},
	{"RestoreInput", "verify", verifyLevels},
	{"GlacierRetrieveDoc", "verify", verifyLevels},
	{"GlacierRetrieveDoc", "tier", func() []string { return flowdata.Tiers }},
	{"S3RestoreDoc", "verify", verifyLevels},
	{"S3RestoreDoc", "tier", func() []string { return flowdata.Tiers }},
}

// verifyLevels are the values of a delivery's verify field.
func verifyLevels() []string { return []string{flowdata.VerifyCheap, flowdata.VerifyFull} }

// addEnums sets the enums of the definitions s holds.
func addEnums(s *jsonschema.Schema) error {
	for _, e := range enums {
		d, ok := s.Definitions[e.def]
		if !ok {
			continue
		}
		p, ok := d.Properties.Get(e.prop)
		if !ok {
			return fmt.Errorf("%s has no property %s", e.def, e.prop)
		}
		p.Enum = nil
		for _, v := range e.values() {
			p.Enum = append(p.Enum, v)
		}
	}
	return nil
}

// Equal reports whether two schema files hold the same JSON.
func Equal(a, b []byte) bool { return bytes.Equal(bytes.TrimSpace(a), bytes.TrimSpace(b)) }
