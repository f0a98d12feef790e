// Command worker runs vigil's Temporal worker and notification router; with
// --dev it also runs the whole local stack in this process. See README.md.
package main

import (
	"os"

	"github.com/vigilops/vigil/internal/workerapp"
)

func main() {
	os.Exit(workerapp.Main(os.Args[1:], os.Stdout, os.Stderr))
}
