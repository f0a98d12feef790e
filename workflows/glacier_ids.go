package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/internal/location"
)

// archiveIDPrefix is how many characters of an archive id a Glacier
// workflow ID keeps (archive ids are 138 characters long).
const archiveIDPrefix = 10

// GlacierWorkflowID derives the workflow ID from what is retrieved, so a
// second start for the same archive attaches to the running retrieval:
// glacier/VAULT/PREFIX-DIGEST, the archive id's first characters and a
// digest of the whole id (the full id is in the run's VigilArchiveID
// search attribute and memo), or glacier/VAULT/inventory. An archive id
// no longer than that form (not one AWS makes: theirs have 138
// characters) is kept whole.
func GlacierWorkflowID(vault, archiveID string) string {
	short := archiveID[:min(len(archiveID), archiveIDPrefix)] + "-" + location.Digest(archiveID)
	if len(archiveID) <= len(short) { // the inventory, or an id as short
		return GlacierLegacyWorkflowID(vault, archiveID)
	}
	return "glacier/" + vault + "/" + short
}

// GlacierLegacyWorkflowID is the workflow ID earlier releases gave the
// same retrieval (glacier/VAULT/ARCHIVE-ID, the whole id): a start looks
// for an open run under it too, so it attaches to a retrieval started
// before an upgrade. The notification router needs neither form: a job's
// description is its run's workflow ID.
func GlacierLegacyWorkflowID(vault, archiveID string) string {
	if archiveID == "" {
		return "glacier/" + vault + "/inventory"
	}
	return "glacier/" + vault + "/" + archiveID
}

// archiveAttrsChange is the workflow.GetVersion change ID of a Glacier
// retrieval recording its full archive id (version 1) in the
// VigilArchiveID search attribute and the "archiveId" memo field, since
// the workflow ID holds only a prefix of it. Earlier runs replay without.
const archiveAttrsChange = "glacier-archive-attributes"

// MemoArchiveID is the memo field holding a retrieval's full archive id.
const MemoArchiveID = "archiveId"

// markArchive records the archive id of a retrieval (not of an inventory)
// in the search attribute and the memo.
func markArchive(ctx workflow.Context, archiveID string) {
	if archiveID == "" || workflow.GetVersion(ctx, archiveAttrsChange, workflow.DefaultVersion, 1) < 1 {
		return
	}
	log := workflow.GetLogger(ctx)
	if err := workflow.UpsertTypedSearchAttributes(ctx, ArchiveKey.ValueSet(archiveID)); err != nil {
		log.Warn("cannot set the archive id search attribute", "error", err)
	}
	if err := workflow.UpsertMemo(ctx, map[string]any{MemoArchiveID: archiveID}); err != nil {
		log.Warn("cannot set the archive id memo", "error", err)
	}
}

// internalChange is the workflow.GetVersion change ID of vigil's
// bookkeeping workflows setting VigilInternal (version 1), so a saved
// query hides them. Earlier runs replay without; their next run (they
// continue as new) sets it.
const internalChange = "internal-search-attribute"

// markInternal sets VigilInternal to role.
func markInternal(ctx workflow.Context, role string) {
	if workflow.GetVersion(ctx, internalChange, workflow.DefaultVersion, 1) < 1 {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, InternalKey.ValueSet(role)); err != nil {
		workflow.GetLogger(ctx).Warn("cannot set the internal search attribute", "error", err)
	}
}
