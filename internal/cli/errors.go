// Package cli holds what vigil's command-line tools share: exit codes and
// error kinds, text/JSON output, tables and key/value blocks, human-readable
// durations and byte counts, and the progress line that `starter wait` (and
// later `--wait` flags) redraw while a workflow runs.
package cli

import (
	"errors"
	"fmt"
)

// Exit codes used by vigil's commands.
const (
	// ExitOK means the command (and the workflow it waited for) succeeded.
	ExitOK = 0
	// ExitFailure means the workflow failed, was canceled, terminated or timed
	// out, the start was refused, or another operational error occurred.
	ExitFailure = 1
	// ExitUsage means the command line was invalid; nothing was contacted.
	ExitUsage = 2
	// ExitNotFound means what the command names does not exist on the
	// server or in the cloud (a workflow, vault, object, bucket).
	ExitNotFound = 3
	// ExitUnreachable means the Temporal server or a cloud endpoint (AWS,
	// GCP) could not be reached: refused connection, unknown host, TLS
	// failure.
	ExitUnreachable = 4
	// ExitInterrupted means the user pressed Ctrl-C while waiting; the
	// workflow keeps running (128 + SIGINT, as shells report it).
	ExitInterrupted = 130
)

// UsageError reports an invalid command line: a bad flag value, a missing
// argument. Commands return it before contacting anything; it maps to
// ExitUsage.
type UsageError struct {
	// Msg is the one-line description of the problem.
	Msg string
}

// Error returns the message.
func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ExitError carries an explicit exit code. When Silent is true the command
// has already told the user everything and nothing more is printed.
type ExitError struct {
	// Code is the process exit code.
	Code int
	// Err is the underlying error; it may be nil when Silent is set.
	Err error
	// Silent suppresses printing of Err by the top-level error handler.
	Silent bool
}

// Error returns the underlying error's message.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ExitError) Unwrap() error { return e.Err }

// NotFound marks err as "not found on the server or in the cloud"
// (ExitNotFound).
func NotFound(err error) error { return &ExitError{Code: ExitNotFound, Err: err} }

// Unreachable marks err as "could not reach the server or the cloud"
// (ExitUnreachable).
func Unreachable(err error) error { return &ExitError{Code: ExitUnreachable, Err: err} }

// ExitCode maps an error returned by a command to a process exit code. It
// is the one mapping every command goes through: nil → ExitOK, *ExitError
// → its Code, *UsageError → ExitUsage, then by the error's type (see
// IsNotFound, IsUnreachable): not found → ExitNotFound, unreachable or TLS
// failure → ExitUnreachable; anything else → ExitFailure.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var ue *UsageError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case IsUnreachable(err):
		return ExitUnreachable
	case IsNotFound(err):
		return ExitNotFound
	}
	return ExitFailure
}

// IsSilent reports whether err asks not to be printed (see ExitError.Silent).
func IsSilent(err error) bool {
	var ee *ExitError
	return errors.As(err, &ee) && ee.Silent
}
