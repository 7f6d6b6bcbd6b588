package spec

import (
	"net/url"
	"regexp"
	"strings"
)

// jenkinsIssuerPath matches the path of Jenkins' own issuers below the
// root URL's path: "oidc" for the root, "oidc/job/<a>/job/<b>" for a
// folder (oidc-provider Keys.doDynamic serves exactly these).
var jenkinsIssuerPath = regexp.MustCompile(`^oidc(/job/[^/]+)*$`)

// IsJenkinsIssuer reports whether issuer names one of the issuers the
// oidc-provider plugin serves itself under jenkinsURL: <root>oidc or a
// folder's <root>oidc/job/<a>/.... Such a value as a custom issuer never
// works: the plugin's Keys.doDynamic skips every credential whose issuer
// field is set (upstream issues #33 and #55), so the documents at that
// URL never carry the credential's key, and answer 404 when no other
// credential is there.
func IsJenkinsIssuer(jenkinsURL, issuer string) bool {
	j, err := url.Parse(jenkinsURL)
	if err != nil || issuer == "" {
		return false
	}
	i, err := url.Parse(issuer)
	if err != nil {
		return false
	}
	if !strings.EqualFold(j.Scheme, i.Scheme) || !sameHost(j, i) {
		return false
	}
	root := strings.TrimSuffix(j.EscapedPath(), "/") + "/"
	p := i.EscapedPath()
	if !strings.HasPrefix(p, root) {
		return false
	}
	return jenkinsIssuerPath.MatchString(strings.TrimSuffix(p[len(root):], "/"))
}

// sameHost compares hosts case-insensitively with default ports made
// explicit, as browsers and Jenkins' root URL do.
func sameHost(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "https") {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}
