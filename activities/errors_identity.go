package activities

import (
	"errors"

	"go.temporal.io/sdk/temporal"
)

// ErrTypeDestinationReplaced: the partial file of a file destination is
// gone or is no longer the file the destination was prepared with (its
// identity token differs), as after the worker host's disk was replaced.
// Nothing written before can be trusted: the workflow prepares the
// destination again and downloads every range again.
const ErrTypeDestinationReplaced = "DestinationReplaced"

// IsDestinationReplaced reports whether err (or its cause) is a
// DestinationReplaced application error.
func IsDestinationReplaced(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == ErrTypeDestinationReplaced
}
