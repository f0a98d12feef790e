package main

import (
	"github.com/spf13/cobra"
)

// The generic verbs that work on any vigil workflow: list, status, wait,
// cancel.

// workflowCommands returns the generic workflow verbs.
func (a *app) workflowCommands() []*cobra.Command {
	return []*cobra.Command{a.listCommand(), a.statusCommand(), a.waitCommand(), a.cancelCommand()}
}
