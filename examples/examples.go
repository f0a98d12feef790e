// Package examples holds the example input files README uses (job files,
// a pipeline, a schedules file, a sweep and a backup input), embedded so
// the starter's --help shows them as they are in the repository.
package examples

import "embed"

// Files are the example files, by their path under examples/
// ("jobs/nightly.yaml").
//
//go:embed jobs/*.yaml pipelines/*.yaml *.yaml
var Files embed.FS

// Read returns the example file at path (under examples/); it panics for a
// file that is not embedded, which is a programming error.
func Read(path string) string {
	b, err := Files.ReadFile(path)
	if err != nil {
		panic("examples: " + err.Error())
	}
	return string(b)
}
