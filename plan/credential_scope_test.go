package plan

import (
	"reflect"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
)

// TestCompareFlagsSystemScope: builds see only GLOBAL credentials of the
// system store (credentials-plugin SystemCredentialsProvider.
// getCredentialsInItem: not(withScope(SYSTEM))), so a hand-made
// SYSTEM-scoped credential under the spec's id is a difference to fix,
// not a credential that is as wanted.
func TestCompareFlagsSystemScope(t *testing.T) {
	want := CredentialSettings{ID: "oidc", Kind: "string", Audience: "a"}
	for _, tt := range []struct {
		scope string
		diffs []string
	}{
		{"SYSTEM", []string{`scope "SYSTEM" → "GLOBAL"`}},
		{"GLOBAL", nil},
		{"", nil}, // a reader that does not know the scope
	} {
		have := &jenkins.IDTokenCredential{ID: "oidc", Kind: "string", Audience: "a", Scope: tt.scope}
		if got := want.Diff(have); !reflect.DeepEqual(got, tt.diffs) {
			t.Errorf("scope %q: diffs %q, want %q", tt.scope, got, tt.diffs)
		}
	}
}
