package cloudsmithtest

import (
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/claimrule"
)

// TestClaimCases runs the shared table of claim-matching cases through
// the emulator's own matcher; trust runs the same table through the
// product's (TestClaimCases there), so the two independent matchers agree.
// The table's array cases are the lenient reading (any element matches,
// WithClaimArrayElementMatch); by default a string requirement never
// matches an array claim.
func TestClaimCases(t *testing.T) {
	for _, mode := range []struct {
		name   string
		c      *Cloudsmith
		strict bool
	}{{"exact (default)", New(), true}, {"any element", New(WithClaimArrayElementMatch()), false}} {
		for _, c := range claimrule.Cases {
			want := c.Match
			if _, array := c.Got.([]any); array && mode.strict {
				want = false
			}
			if got := mode.c.claimMatches(c.Want, c.Got); got != want {
				t.Errorf("%s: %s: claimMatches(%q, %#v) = %v, want %v", mode.name, c.Name, c.Want, c.Got, got, want)
			}
		}
	}
}
