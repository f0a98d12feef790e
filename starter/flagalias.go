package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigilops/vigil/internal/cli"
)

// Destination flags are named alike on every verb: --to where data goes,
// --from where it comes from. Old names stay as hidden aliases that warn.
const (
	// deprecatedFor annotates an alias flag with the name that replaces it.
	deprecatedFor = "vigil-deprecated-for"
	// outputMeansTo annotates a command whose --to was once --output,
	// which shadowed the global -o/--output: a URL given to --output is
	// taken as --to, with a warning.
	outputMeansTo = "vigil-output-means-to"
)

// deprecatedAlias registers old as a hidden alias of cmd's flag name; using
// it warns (warnDeprecated).
func deprecatedAlias(cmd *cobra.Command, old, name string) {
	f := cmd.Flags().Lookup(name)
	cmd.Flags().AddFlag(&pflag.Flag{Name: old, Usage: "deprecated: use --" + name, Value: f.Value, DefValue: f.DefValue,
		Hidden: true, Annotations: map[string][]string{deprecatedFor: {name}}})
}

// warnDeprecated prints one line on stderr for each deprecated alias the
// command line used.
func (a *app) warnDeprecated(cmd *cobra.Command) {
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if to := f.Annotations[deprecatedFor]; len(to) == 1 {
			fmt.Fprintf(a.stderr, "starter: warning: --%s is deprecated; use --%s\n", f.Name, to[0])
		}
	})
}

// outputAsTo handles a URL given to the global --output of a command
// marked outputMeansTo: it becomes the command's --to, with a warning, and
// the output format stays text. It reports whether it did so.
func (a *app) outputAsTo(cmd *cobra.Command) (bool, error) {
	if cmd == nil || cmd.Annotations[outputMeansTo] == "" || !strings.Contains(a.flags.output, "://") {
		return false, nil
	}
	to := cmd.Annotations[outputMeansTo]
	if cmd.Flags().Changed(to) {
		return false, cli.Usagef("give the destination once, with --%s (--output is the output format: text or json)", to)
	}
	if err := cmd.Flags().Set(to, a.flags.output); err != nil {
		return false, cli.Usagef("--%s: %v", to, err)
	}
	fmt.Fprintf(a.stderr, "starter: warning: --output URL is deprecated; use --%s (--output/-o is the output format)\n", to)
	return true, nil
}
