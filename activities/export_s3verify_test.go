package activities

import "testing"

// SetAfterDownload makes DeliverObject call fn with the partial file's
// path once a download to a file is complete and synced, before it is
// checked and renamed, for one test.
func SetAfterDownload(t testing.TB, fn func(partial string)) {
	old := afterDownload
	afterDownload = fn
	t.Cleanup(func() { afterDownload = old })
}
