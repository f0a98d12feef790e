// Package schemas holds the JSON Schemas of vigil's input files, generated
// from the Go types by internal/schemagen (go test ./internal/schemagen
// -update-schemas) and embedded for the starter's --help key tables.
package schemas

import "embed"

// Files are the *.schema.json files, by name.
//
//go:embed *.schema.json
var Files embed.FS
