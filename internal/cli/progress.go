package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/vigilops/vigil/workflows"
)

// DefaultBarWidth is the number of cells in a progress bar.
const DefaultBarWidth = 20

// ProgressBar renders done/total as "[#########...........]  45.0%". It
// returns "" when total is not positive.
func ProgressBar(done, total int64, width int) string {
	pct, ok := Percent(done, total)
	if !ok {
		return ""
	}
	if width <= 0 {
		width = DefaultBarWidth
	}
	filled := int(pct / 100 * float64(width))
	return fmt.Sprintf("[%s%s] %5.1f%%", strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct)
}

// BytesProgress renders transfer progress: "[###...] 45.0% 1.0 KiB/2.0 KiB"
// when the total is known, "1.0 KiB" when only bytes done are, "" otherwise.
func BytesProgress(done, total int64, width int) string {
	switch {
	case total > 0:
		return ProgressBar(done, total, width) + " " + FormatBytes(done) + "/" + FormatBytes(total)
	case done > 0:
		return FormatBytes(done)
	}
	return ""
}

// ProgressLine renders a workflow status as one line:
//
//	waiting 3m12s  [#####...............]  25.0% 256 B/1.0 KiB  attempt 2  polling job
//
// elapsed is shown after the phase; pass a negative value to leave it out
// (useful to decide whether anything but the clock changed).
func ProgressLine(st workflows.Status, elapsed time.Duration, width int) string {
	phase := st.Phase
	if phase == "" {
		phase = workflows.PhaseRunning
	}
	parts := []string{phase}
	if elapsed >= 0 {
		parts[0] += " " + FormatDuration(elapsed)
	}
	if p := BytesProgress(st.BytesDone, st.BytesTotal, width); p != "" {
		parts = append(parts, p)
	}
	if st.Attempt > 1 {
		parts = append(parts, fmt.Sprintf("attempt %d", st.Attempt))
	}
	if st.Message != "" {
		parts = append(parts, Truncate(oneLine(st.Message), 60))
	}
	if st.LastError != "" {
		parts = append(parts, "last error: "+Truncate(oneLine(st.LastError), 60))
	}
	return strings.Join(parts, "  ")
}

// PhaseElapsed is how long a run has been in its current phase at now: from
// st.Since, else st.Started, else fallback (typically the workflow's start
// time from the server).
func PhaseElapsed(st workflows.Status, fallback, now time.Time) time.Duration {
	from := fallback
	switch {
	case !st.Since.IsZero():
		from = st.Since
	case !st.Started.IsZero():
		from = st.Started
	}
	if from.IsZero() {
		return 0
	}
	return now.Sub(from)
}

// RepeatEvery is how often, without a terminal, an unchanged live line is
// printed again, so a log shows that a long wait is still going.
const RepeatEvery = time.Minute

// LiveLine shows a line that changes over time. On a terminal it redraws in
// place with a carriage return; elsewhere (a pipe, a log file, a test
// buffer) it prints a new line when the line's key changes, or RepeatEvery
// after the last line, so logs get one line per real change rather than one
// per tick. It is safe for concurrent use.
type LiveLine struct {
	mu        sync.Mutex
	w         io.Writer
	tty       bool
	width     int
	lastKey   string
	lastPrint time.Time
	drawn     bool
	printed   bool
	// now is the clock (tests set it).
	now func() time.Time
}

// NewLiveLine returns a LiveLine writing to w; tty selects redraw-in-place.
// On a terminal whose width is known, lines are cut to fit so that the
// carriage return can redraw them.
func NewLiveLine(w io.Writer, tty bool) *LiveLine {
	l := &LiveLine{w: w, tty: tty, now: time.Now}
	if tty {
		l.width = TerminalWidth(w)
	}
	return l
}

// Update shows line. key identifies the content that matters (typically the
// line without the ticking clock): without a terminal, the line is printed
// only when key differs from the previous update's key.
func (l *LiveLine) Update(key, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line = oneLine(line)
	if l.tty {
		if l.width > 1 {
			line = Truncate(line, l.width-1)
		}
		// \r returns to column 0, \x1b[K clears the rest of the old line.
		fmt.Fprintf(l.w, "\r%s\x1b[K", line)
		l.drawn = true
		return
	}
	now := l.now()
	if l.printed && key == l.lastKey && now.Sub(l.lastPrint) < RepeatEvery {
		return
	}
	l.lastKey, l.lastPrint, l.printed = key, now, true
	fmt.Fprintln(l.w, line)
}

// Finish ends the live line so that following output starts on a fresh
// line. It is a no-op when nothing was drawn or without a terminal.
func (l *LiveLine) Finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tty && l.drawn {
		fmt.Fprintln(l.w)
		l.drawn = false
	}
}

// IsTerminal reports whether w is a terminal rather than a file, a pipe or
// an in-memory buffer.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// TerminalWidth returns the width in columns of the terminal w, or 0 when w
// is not a terminal or its size is unknown.
func TerminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}
