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

// TestWorkflowID is the workflow ID the SDK's test activity environment
// runs activities under.
const TestWorkflowID = "default-test-workflow-id"

// PartialFor exposes partialFor: the partial file of dest for an owner.
var PartialFor = partialFor
