package schemagen

import (
	"os"
	"path"

	"github.com/invopop/jsonschema"
)

// addComments adds the doc comments of the Go files in dir (relative to
// the module root root) to r. AddGoComments keys them by the directory as
// walked, so it walks from the module root.
func addComments(r *jsonschema.Reflector, root, dir string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	defer func() { _ = os.Chdir(wd) }()
	return r.AddGoComments(Module, path.Clean(dir))
}
