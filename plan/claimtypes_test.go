package plan_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan/plantest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// TestDesiredProviderClaimTypes: the provider apply writes carries the
// spec's numeric claim as a number, and a provider holding it as a
// string differs from it.
func TestDesiredProviderClaimTypes(t *testing.T) {
	y := strings.Replace(plantest.SpecYAML("https://jenkins.example.com/", "hello"), "cloudsmith: {org: acme, service: jenkins-ci}",
		`cloudsmith: {org: acme, service: jenkins-ci, provider: {claims: {build_number: 1, sub: "x.*"}}}`, 1)
	s, err := spec.Parse("spec.yaml", []byte(y), func(string) string { return "x" })
	if err != nil {
		t.Fatal(err)
	}
	want := plan.DesiredProvider(plan.Input{Spec: s})
	if string(want.ClaimJSON["build_number"]) != "1" || want.Claims["build_number"] != "1" || want.Claims["sub"] != "x.*" {
		t.Fatalf("desired provider claims %q / %q", want.Claims, want.ClaimJSON)
	}
	have := want
	have.ClaimJSON = nil
	if plan.SameClaims(have, want) {
		t.Error(`a provider requiring the string "1" is taken for one requiring the number 1`)
	}
	have.ClaimJSON = map[string]json.RawMessage{"build_number": json.RawMessage("1")}
	if !plan.SameClaims(have, want) {
		t.Error("equal typed claims differ")
	}
}
