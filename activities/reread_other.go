//go:build !(linux && (amd64 || arm64))

package activities

import "os"

// dropCache does nothing where the kernel offers no fadvise.
func dropCache(*os.File) {}
