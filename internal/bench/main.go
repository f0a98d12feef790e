// Command bench measures vigil's flows against baselines run in the same
// process: it starts the embedded Temporal server and the local cloud
// itself, runs the registered scenarios (one file each), prints a table
// and, with --write, rewrites its section of BENCHMARKS.md.
//
//	go run ./internal/bench [--only NAME] [--quick] [--repeat N] [--write]
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}
