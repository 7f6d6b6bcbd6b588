package trust_test

import (
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/claimrule"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// TestClaimCases runs the shared table of claim-matching cases through
// the product's matcher; the Cloudsmith emulator runs the same table
// through its own (TestClaimCases there).
func TestClaimCases(t *testing.T) {
	for _, c := range claimrule.Cases {
		got, why := trust.MatchClaim(c.Want, c.Got, true)
		if got != c.Match {
			t.Errorf("%s: MatchClaim(%q, %#v) = %v (%s), want %v", c.Name, c.Want, c.Got, got, why, c.Match)
		}
		if !got && why == "" {
			t.Errorf("%s: a mismatch without a reason", c.Name)
		}
	}
}
