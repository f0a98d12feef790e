package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"text/tabwriter"

	"github.com/invopop/jsonschema"

	"github.com/vigilops/vigil/examples"
	"github.com/vigilops/vigil/schemas"
)

// fileFormatHelp documents an input file format in a verb's --help: the
// annotated example file from examples/ as it is in the repository, then
// a table of every key, generated from the format's JSON Schema in
// schemas/ (so a field added to the Go type shows up here too).
func fileFormatHelp(title, example, schema string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n\n%s (examples/%s; JSON Schema schemas/%s, for editors):\n\n", title, example, schema)
	for _, line := range strings.SplitAfter(strings.TrimRight(examples.Read(example), "\n"), "\n") {
		b.WriteString("  " + line)
	}
	b.WriteString("\n\nKeys (* required):\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, r := range schemaKeys(schema) {
		fmt.Fprintf(tw, "  %s\t%s\n", r[0], r[1])
	}
	_ = tw.Flush()
	return strings.TrimRight(b.String(), "\n")
}

// schemaKeys lists the keys of an embedded schema as (dotted key, meaning)
// rows, depth first in the schema's order; it panics for a schema that is
// not embedded or does not parse, which is a programming error.
func schemaKeys(name string) [][2]string {
	raw, err := fs.ReadFile(schemas.Files, name)
	if err != nil {
		panic("schemas: " + err.Error())
	}
	var root jsonschema.Schema
	if err := json.Unmarshal(raw, &root); err != nil {
		panic("schemas: " + name + ": " + err.Error())
	}
	var rows [][2]string
	var walk func(s *jsonschema.Schema, prefix string, depth int)
	walk = func(s *jsonschema.Schema, prefix string, depth int) {
		s = resolveRef(&root, s)
		if s == nil || s.Properties == nil || depth > 4 {
			return
		}
		required := map[string]bool{}
		for _, r := range s.Required {
			required[r] = true
		}
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			key := prefix + p.Key
			if required[p.Key] {
				key += " *"
			}
			rows = append(rows, [2]string{key, firstSentence(p.Value.Description)})
			sub := p.Value
			if sub.Items != nil {
				sub, key = sub.Items, prefix+p.Key+"[]"
			} else {
				key = prefix + p.Key
			}
			walk(sub, key+".", depth+1)
		}
	}
	walk(&root, "", 0)
	return rows
}

// resolveRef follows a local "#/$defs/Name" reference.
func resolveRef(root, s *jsonschema.Schema) *jsonschema.Schema {
	if s == nil || s.Ref == "" {
		return s
	}
	return root.Definitions[strings.TrimPrefix(s.Ref, "#/$defs/")]
}

// firstSentence shortens a Go doc comment to its first sentence.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return s
}
