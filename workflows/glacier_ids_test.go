package workflows

import (
	"strings"
	"testing"
)

// TestGlacierWorkflowID: an AWS archive id (138 characters) becomes its
// first 10 characters and a 12-digit digest, the same for the same id and
// different for ids that share the prefix; short ids and the inventory
// keep the form of earlier releases.
func TestGlacierWorkflowID(t *testing.T) {
	a := strings.Repeat("kKB7ymWJVpPS", 12)[:138]
	b := a[:137] + "x"
	id := GlacierWorkflowID("vault", a)
	if !strings.HasPrefix(id, "glacier/vault/kKB7ymWJVp-") || len(id) != len("glacier/vault/")+10+1+12 {
		t.Errorf("ID %q, want glacier/vault/kKB7ymWJVp-<12 hex digits>", id)
	}
	if GlacierWorkflowID("vault", a) != id || GlacierWorkflowID("vault", b) == id {
		t.Errorf("IDs of the same / another archive: %q, %q (first %q)", GlacierWorkflowID("vault", a), GlacierWorkflowID("vault", b), id)
	}
	if got := GlacierLegacyWorkflowID("vault", a); got != "glacier/vault/"+a {
		t.Errorf("legacy ID %q", got)
	}
	for _, tc := range [][2]string{{"a1", "glacier/v/a1"}, {"", "glacier/v/inventory"}} {
		if got := GlacierWorkflowID("v", tc[0]); got != tc[1] || GlacierLegacyWorkflowID("v", tc[0]) != tc[1] {
			t.Errorf("ID of %q: %q, want %q in both forms", tc[0], got, tc[1])
		}
	}
}
