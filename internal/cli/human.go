package cli

import (
	"fmt"
	"time"
)

// FormatDuration renders d compactly for humans: "850ms", "42s", "3m05s",
// "2h03m", "3d04h". Negative durations render as "0s".
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int64(d/time.Second))
	case d < time.Hour:
		s := int64(d / time.Second)
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case d < 24*time.Hour:
		m := int64(d / time.Minute)
		return fmt.Sprintf("%dh%02dm", m/60, m%60)
	default:
		h := int64(d / time.Hour)
		return fmt.Sprintf("%dd%02dh", h/24, h%24)
	}
}

// FormatBytes renders a byte count with binary (IEC) units: "512 B",
// "1.5 KiB", "2.0 GiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		if n < 0 {
			n = 0
		}
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Percent returns done/total as a percentage clamped to [0, 100]; ok is
// false when total is not positive (progress unknown).
func Percent(done, total int64) (pct float64, ok bool) {
	if total <= 0 {
		return 0, false
	}
	pct = float64(done) * 100 / float64(total)
	if pct < 0 {
		pct = 0
	}
	if pct > 100 {
		pct = 100
	}
	return pct, true
}

// TimeLayout is how the CLI shows a time: local, with its zone.
const TimeLayout = "2006-01-02 15:04:05 MST"

// FormatTime renders t in local time with its zone ("2006-01-02 15:04:05
// CET"), or "" for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format(TimeLayout)
}
