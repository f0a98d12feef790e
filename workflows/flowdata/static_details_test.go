package flowdata

import (
	"strings"
	"testing"
)

// TestStaticDetails: every input field is listed in name order, nested
// ones as a.b; URLs, header and env values and credential-like fields are
// redacted, *Env fields (variable names) are shown.
func TestStaticDetails(t *testing.T) {
	in := BatchJob{Name: "dump", Kind: JobKindHTTP, HTTP: &HTTPJob{URL: "https://ops:pw@api.example/x?token=abc&n=1",
		Headers: map[string]string{"Authorization": "Bearer s3cret"}, BearerTokenEnv: "VIGIL_SECRET_TOKEN"}}
	got := StaticDetails(in)
	for _, want := range []string{
		"**Inputs**\n\n",
		"- **name**: `dump`",
		"- **kind**: `http`",
		"- **http.url**: `https://REDACTED@api.example/x?token=REDACTED&n=1`",
		"- **http.headers.Authorization**: `REDACTED`",
		"- **http.bearerTokenEnv**: `VIGIL_SECRET_TOKEN`",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("details lack %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"pw@", "abc", "s3cret"} {
		if strings.Contains(got, secret) {
			t.Errorf("details hold %q:\n%s", secret, got)
		}
	}
	if i, j := strings.Index(got, "**http.url**"), strings.Index(got, "**kind**"); i > j {
		t.Errorf("not in name order:\n%s", got)
	}
	if got := StaticDetails(struct{ Password string }{"hunter2"}); !strings.Contains(got, "- **Password**: `REDACTED`") {
		t.Errorf("a credential field: %q", got)
	}
	if got := StaticDetails("just a string"); got != "" {
		t.Errorf("a non-object input: %q", got)
	}
}
