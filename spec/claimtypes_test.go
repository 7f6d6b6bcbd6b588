package spec

import (
	"encoding/json"
	"maps"
	"testing"
)

// TestClaimTypesKept: a claim written as a YAML integer or boolean keeps
// its JSON type (Cloudsmith compares a required claim with the token's as
// JSON values, and the oidc-provider plugin's build_number is a number), a
// quoted one stays text, and other kinds are refused at the value.
func TestClaimTypesKept(t *testing.T) {
	y := edit(t, "  service: jenkins-ci", "  service: jenkins-ci\n  provider:\n    claims: {build_number: 12, pr: true, hex: 0x1F, quoted: \"7\", sub: x}")
	s, err := Parse("spec.yaml", []byte(y), getenv)
	if err != nil {
		t.Fatal(err)
	}
	p := s.Cloudsmith.Provider
	wantText := map[string]string{"build_number": "12", "pr": "true", "hex": "31", "quoted": "7", "sub": "x"}
	if !maps.Equal(p.Claims, wantText) {
		t.Errorf("claims text %q, want %q", p.Claims, wantText)
	}
	got := map[string]string{}
	for k, v := range p.ClaimJSON {
		got[k] = string(v)
	}
	if want := map[string]string{"build_number": "12", "pr": "true", "hex": "31"}; !maps.Equal(got, want) {
		t.Errorf("typed claims %q, want %q", got, want)
	}
	b, _ := json.Marshal(p.ClaimValues())
	if want := `{"build_number":12,"hex":31,"pr":true,"quoted":"7","sub":"x"}`; string(b) != want {
		t.Errorf("claim values %s, want %s", b, want)
	}
	for _, bad := range []string{"1.5", "[a]", "{a: b}"} {
		y := edit(t, "  service: jenkins-ci", "  service: jenkins-ci\n  provider:\n    claims: {n: "+bad+"}")
		if _, err := Parse("spec.yaml", []byte(y), getenv); err == nil {
			t.Errorf("claim %s accepted", bad)
		}
	}
}
