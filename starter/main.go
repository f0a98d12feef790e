// Command starter is vigil's command-line client: it starts vigil's durable
// cloud-ops flows on a Temporal server and lists, inspects, waits for and
// cancels them. Run `starter --help` for the commands.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args, writing to stdout and stderr, and
// returns the process exit code. The first Ctrl-C (or SIGTERM) cancels the
// command's context (`wait` then detaches); a second one kills the process.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore default handling: a second Ctrl-C ends the process
	}()
	return newApp(stdout, stderr).execute(ctx, args)
}
