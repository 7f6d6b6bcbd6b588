package spec

import (
	"strings"
	"testing"
)

// TestAudienceAgainstProvider: a provider that requires an aud the
// credential never puts in its tokens is refused at the claim, with the
// fix; a matching value or prefix passes.
func TestAudienceAgainstProvider(t *testing.T) {
	for _, tt := range []struct {
		aud  string
		want string // "" when accepted
	}{
		{"jenkins", ""},
		{"jen.*", ""},
		{"cloudsmith", `requires aud "cloudsmith", but oidc.audience "jenkins"`},
		{"jenkins.*x", "wildcard"},
	} {
		y := edit(t, "  service: jenkins-ci", "  service: jenkins-ci\n  provider: {claims: {aud: \""+tt.aud+"\"}}")
		_, err := Parse("spec.yaml", []byte(y), getenv)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("aud %q refused: %v", tt.aud, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("aud %q: got %v, want an error with %q", tt.aud, err, tt.want)
		case tt.want != "" && strings.Contains(tt.want, "requires") && !strings.Contains(err.Error(), "spec.yaml:9:") && !strings.Contains(err.Error(), "fix: set it to \"jenkins\""):
			t.Errorf("aud %q: error lacks the position or the fix: %v", tt.aud, err)
		}
	}
}
