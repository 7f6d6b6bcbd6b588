package spec

import (
	"regexp"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// pastedFields are the free-text fields that end up in job configs, where
// a literal secret would be stored in config.xml and shown to everyone who
// can read the job. People coming from the manual guide's curl | jq
// script paste exactly that.
var pastedFields = map[string]bool{"Job.steps": true, "Job.description": true, "OIDC.description": true}

// pastedRule is one high-confidence shape of a literal secret. Shell
// references ($VAR, ${VAR}, $(cmd)) never match: that is how a secret
// should arrive.
type pastedRule struct {
	what string
	re   *regexp.Regexp
	// ok, when set, vetoes a match (the submatch that holds the value).
	ok  func(value string) bool
	fix string
}

const (
	fixAPIKey = "remove it: builds get a short-lived Cloudsmith token through OIDC (cloudsmith-oidc exec -- COMMAND, or withCloudsmith sets CLOUDSMITH_API_KEY for the command), and rotate the key, since everyone who read this file or the job could use it"
	fixJWT    = "remove it: the job's OIDC credential gives each build a fresh ID token (cloudsmith-oidc reads it from OIDC_TOKEN_FILE), and a pasted token expires or can be replayed by anyone who read it"
)

var pastedRules = []pastedRule{
	{
		what: "a JWT (an OIDC ID token or a Cloudsmith token)",
		re:   redact.JWTShape,
		ok:   func(v string) bool { return len(v) < 32 },
		fix:  fixJWT,
	},
	{
		what: "an API key in an HTTP header (X-Api-Key / Authorization)",
		re:   regexp.MustCompile(`(?i)\b(?:x-api-key|authorization)\s*:\s*(?:(?:bearer|token|basic)\s+)?([^\s"'$%\\{}]{16,})`),
		fix:  fixAPIKey,
	},
	{
		what: "a password or token in a URL (user:secret@host)",
		re:   regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@"']+:([^/\s@"']+)@`),
		ok:   isReference,
		fix:  "remove the user:secret@ part: cloudsmith-oidc configures pip, npm and go with a short-lived token (or bind a Jenkins credential with withCredentials and use its variable), and rotate the secret",
	},
	{
		what: "an entitlement token in a Cloudsmith download URL",
		re:   regexp.MustCompile(`(?i)\bdl\.cloudsmith\.io/([A-Za-z0-9]{12,})/`),
		fix:  "remove the token from the URL (https://dl.cloudsmith.io/basic/ORG/REPO/...): cloudsmith-oidc configures the package tool with a short-lived token; and revoke the entitlement token",
	},
	{
		what: "an API key or token assigned literally",
		re:   regexp.MustCompile(`(?i)(?:\b[a-z0-9_]*(?:api_key|apikey|token|password|secret)\s*=\s*|--api-key[= ]\s*|--token[= ]\s*)["']?([A-Za-z0-9+/_.-]{20,})`),
		ok:   notRandom,
		fix:  fixAPIKey,
	},
}

// isReference reports a value that is a shell, Groovy or Windows variable
// reference rather than a literal.
func isReference(v string) bool { return strings.HasPrefix(v, "$") || strings.HasPrefix(v, "%") }

// notRandom vetoes values that read as words ("my-token-name-goes-here"):
// a pasted key mixes letters and digits.
func notRandom(v string) bool {
	return !strings.ContainsFunc(v, unicode.IsDigit) || !strings.ContainsFunc(v, unicode.IsLetter)
}

// findPasted returns the first rule s breaks and the byte offset of the
// secret in s.
func findPasted(s string) (*pastedRule, int) {
	for i := range pastedRules {
		r := &pastedRules[i]
		for _, m := range r.re.FindAllStringSubmatchIndex(s, -1) {
			lo, hi := m[0], m[1]
			if len(m) >= 4 && m[2] >= 0 {
				lo, hi = m[2], m[3]
			}
			if r.ok != nil && r.ok(s[lo:hi]) {
				continue
			}
			return r, lo
		}
	}
	return nil, 0
}

// pastedSecret reports a literal secret in a free-text field at the line
// that holds it, without echoing it. It returns whether it found one.
func (d *decoder) pastedSecret(n *yaml.Node, path, s string) bool {
	r, off := findPasted(s)
	if r == nil {
		return false
	}
	pos := nodePos(n)
	if n.Style&yaml.LiteralStyle != 0 {
		// A literal block's text starts on the line after its "|" and
		// keeps its lines.
		line := strings.Count(s[:off], "\n")
		pos = Pos{Line: n.Line + 1 + line, Column: 1}
	}
	d.errs.add(pos, path, r.fix, "%s holds %s; secrets never go into job configs, where everyone who can read the job sees them", path, r.what)
	return true
}
