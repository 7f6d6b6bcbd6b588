package cloudsmithtest

import (
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/claimrule"
)

// TestClaimCases runs the shared table of claim-matching cases through
// the emulator's own matcher; trust runs the same table through the
// product's (TestClaimCases there), so the two independent matchers agree.
func TestClaimCases(t *testing.T) {
	for _, c := range claimrule.Cases {
		if got := claimMatches(c.Want, c.Got); got != c.Match {
			t.Errorf("%s: claimMatches(%q, %#v) = %v, want %v", c.Name, c.Want, c.Got, got, c.Match)
		}
	}
}
