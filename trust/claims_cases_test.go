package trust_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/claimrule"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
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

// TestCheckClaimsTyped: a required number is compared with the token's
// claim as a JSON value (build number 1 in CheckClaims), not as text.
func TestCheckClaimsTyped(t *testing.T) {
	s := &spec.Spec{Jenkins: spec.Jenkins{URL: "https://jenkins.example.com/"}, Jobs: []spec.Job{{Name: "app"}}}
	typed := map[string]json.RawMessage{"build_number": json.RawMessage("1")}
	if fails := trust.CheckClaims(s, map[string]string{"build_number": "1"}, typed, time.Now()); len(fails) != 0 {
		t.Errorf("number 1 against build 1: %v", fails)
	}
	if fails := trust.CheckClaims(s, map[string]string{"build_number": "2"}, map[string]json.RawMessage{"build_number": json.RawMessage("2")}, time.Now()); len(fails) == 0 {
		t.Error("number 2 matched build 1")
	}
	if fails := trust.CheckClaims(s, map[string]string{"build_number": "1"}, nil, time.Now()); len(fails) == 0 {
		t.Error(`the string "1" matched the number 1`)
	}
}
