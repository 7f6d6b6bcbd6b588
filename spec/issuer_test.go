package spec

import "testing"

func TestIsJenkinsIssuer(t *testing.T) {
	for _, tc := range []struct {
		jenkins, issuer string
		want            bool
	}{
		{"https://jenkins.example.com/", "https://jenkins.example.com/oidc", true},
		{"https://jenkins.example.com", "https://jenkins.example.com/oidc", true},
		{"https://jenkins.example.com/ci/", "https://jenkins.example.com/ci/oidc/job/a/job/b", true},
		{"https://jenkins.example.com/", "https://Jenkins.Example.com:443/oidc/job/%C3%A9", true},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/oidc", true},
		{"https://jenkins.example.com/", "https://jenkins.example.com/oidc-custom", false},
		{"https://jenkins.example.com/", "https://jenkins.example.com/custom/oidc", false},
		{"https://jenkins.example.com/ci/", "https://jenkins.example.com/oidc", false},
		{"https://jenkins.example.com/", "https://oidc.example.com/oidc", false},
		{"https://jenkins.example.com/", "https://jenkins.example.com:8443/oidc", false},
		{"https://jenkins.example.com/", "https://jenkins.example.com/oidc/jwks", false},
		{"https://jenkins.example.com/", "", false},
	} {
		if got := IsJenkinsIssuer(tc.jenkins, tc.issuer); got != tc.want {
			t.Errorf("IsJenkinsIssuer(%q, %q) = %v, want %v", tc.jenkins, tc.issuer, got, tc.want)
		}
	}
}
