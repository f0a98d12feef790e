package activities

import "time"

// pollPause is the pause between two checks of a real condition that a test
// polls with a deadline.
func pollPause() { time.Sleep(5 * time.Millisecond) }
