package main

import (
	"fmt"

	"github.com/vigilops/vigil/internal/cli"
)

// actionReport is what the schedule verbs that change a schedule print
// under -o json (stable field names).
type actionReport struct {
	Schedule string `json:"schedule"`
	// Action is created, updated, paused, unpaused, triggered,
	// backfill_requested or deleted.
	Action  string `json:"action"`
	Watcher string `json:"watcher,omitempty"`
	Start   string `json:"start,omitempty"`
	End     string `json:"end,omitempty"`
}

// printAction prints rep as JSON under -o json, otherwise the text line.
func (a *app) printAction(rep actionReport, text string) error {
	if a.format == cli.FormatJSON {
		return cli.WriteJSON(a.stdout, rep)
	}
	_, err := fmt.Fprintln(a.stdout, text)
	return err
}

// doctorCheck is one line of `starter doctor`.
type doctorCheck struct {
	OK    bool   `json:"ok"`
	Check string `json:"check"`
}

// doctorReport is what `starter doctor -o json` prints.
type doctorReport struct {
	OK     bool          `json:"ok"`
	Checks []doctorCheck `json:"checks"`
}
