package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Format is an output format selected with --output.
type Format string

// The supported output formats.
const (
	// FormatText is human-readable text (tables, key/value blocks).
	FormatText Format = "text"
	// FormatJSON is indented JSON, one document per command, on stdout.
	FormatJSON Format = "json"
)

// ParseFormat validates an --output value. The error is a *UsageError.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(strings.TrimSpace(s))) {
	case FormatText:
		return FormatText, nil
	case FormatJSON:
		return FormatJSON, nil
	}
	return "", Usagef("--output must be text or json (got %q)", s)
}

// WriteJSON writes v as indented JSON followed by a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteTable writes a table with the given headers, columns aligned with two
// spaces between them. Cells must not contain tabs or newlines; they are
// replaced by spaces.
func WriteTable(w io.Writer, headers []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	writeRow := func(cells []string) {
		clean := make([]string, len(cells))
		for i, c := range cells {
			clean[i] = oneLine(c)
		}
		fmt.Fprintln(tw, strings.Join(clean, "\t"))
	}
	writeRow(headers)
	for _, r := range rows {
		writeRow(r)
	}
	return tw.Flush()
}

// Field is one line of a key/value block.
type Field struct {
	// Key is the label, without a colon. An empty Key continues the value of
	// the field before it on a new line.
	Key string
	// Value is the rendered value. Fields with an empty Value are skipped.
	Value string
}

// WriteFields writes a key/value block ("Key:  value"), labels aligned,
// skipping fields whose value is empty.
func WriteFields(w io.Writer, fields []Field) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, f := range fields {
		if f.Value == "" {
			continue
		}
		key := ""
		if f.Key != "" {
			key = f.Key + ":"
		}
		fmt.Fprintf(tw, "%s\t%s\n", key, oneLine(f.Value))
	}
	return tw.Flush()
}

// MapFields renders a string map as fields sorted by key, "k=v" per line,
// labelled once with label.
func MapFields(label string, m map[string]string) []Field {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Field, 0, len(keys))
	for i, k := range keys {
		key := ""
		if i == 0 {
			key = label
		}
		out = append(out, Field{Key: key, Value: k + "=" + m[k]})
	}
	return out
}

// oneLine replaces tabs, carriage returns and newlines by spaces so that a
// value cannot break the layout of a table or a progress line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\t\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '\t' || r == '\r' || r == '\n'
	}), " ")
}

// Truncate shortens s to at most n runes, ending with "…" when cut.
func Truncate(s string, n int) string {
	r := []rune(s)
	if n <= 0 || len(r) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	return string(r[:n-1]) + "…"
}
