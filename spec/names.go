package spec

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sendrule"
)

// unsafeNameChars are the characters Jenkins.checkGoodName refuses in an
// item name ("‘?’ is an unsafe character").
const unsafeNameChars = `?*/\%!@#$^&|<>[]:;`

// maxSegmentBytes: Jenkins stores each item in a directory named after it,
// and common filesystems cap a name at 255 bytes.
const maxSegmentBytes = 255

// CheckItemName reports why name (one path segment) is not a name Jenkins
// accepts for a job or folder, or "" when it is fine. It follows
// Jenkins.checkGoodName, and also refuses leading/trailing whitespace,
// which Jenkins trims on create so the name would not round-trip.
func CheckItemName(name string) string {
	switch {
	case name == "":
		return "is empty"
	case strings.TrimSpace(name) != name:
		return "has leading or trailing whitespace"
	case name == "." || name == "..":
		return fmt.Sprintf("is %q, which Jenkins reserves", name)
	case len(name) > maxSegmentBytes:
		return fmt.Sprintf("is %d bytes long; the limit is %d", len(name), maxSegmentBytes)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Sprintf("contains control character %U", r)
		}
		if strings.ContainsRune(unsafeNameChars, r) {
			return fmt.Sprintf("contains %q, which Jenkins does not allow in a name (none of %s)", r, unsafeNameChars)
		}
	}
	return ""
}

// CheckItemPath checks a '/'-separated full name segment by segment.
func CheckItemPath(full string) string {
	if full == "" {
		return "is empty"
	}
	if strings.HasPrefix(full, "/") || strings.HasSuffix(full, "/") {
		return "starts or ends with '/'; write folder/name without surrounding slashes"
	}
	for i, seg := range strings.Split(full, "/") {
		if seg == "" {
			return "has an empty segment ('//')"
		}
		if why := CheckItemName(seg); why != "" {
			return fmt.Sprintf("segment %d (%q) %s", i+1, seg, why)
		}
	}
	return ""
}

var (
	credentialID = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	// specIDRe: what a managed marker can carry unambiguously (no space,
	// no '>' that could end it), '/' allowed for team/sub-team names.
	specIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$`)
	slugRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	sha256Re = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	// bareHostRe is a host[:port] (cloudsmith.docker_registry).
	bareHostRe = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]+)?$`)
)

// urlRules are what checkURL enforces beyond "absolute http(s)".
type urlRules struct {
	noTrailingSlash bool // the oidc-provider plugin's custom issuer rule
	schemes         []string
	// anyHTTPHost allows plain http to remote hosts: proxies speak http
	// and tunnel TLS end to end.
	anyHTTPHost bool
}

// checkURL returns why raw is not acceptable, and a hint, or "" when fine.
// https is required except for loopback hosts; credentials, queries and
// fragments are refused (credentials belong in ${VAR} secrets).
func checkURL(raw string, r urlRules) (why, hint string) {
	u, err := url.Parse(raw)
	if err != nil {
		return "is not a valid URL", "write an absolute URL like https://host.example.com/"
	}
	schemes := r.schemes
	if schemes == nil {
		schemes = []string{"https", "http"}
	}
	okScheme := false
	for _, s := range schemes {
		okScheme = okScheme || u.Scheme == s
	}
	switch {
	case u.Scheme == "" || u.Host == "" || u.Opaque != "":
		return "is not an absolute URL", "write scheme and host, e.g. https://host.example.com"
	case !okScheme:
		return fmt.Sprintf("has scheme %q", u.Scheme), "use one of: " + strings.Join(schemes, ", ")
	case u.User != nil:
		return "contains credentials", "remove user:password@ from the URL; credentials come from ${VAR} secrets or the environment"
	case u.Hostname() == "":
		return "has no host", "write scheme and host, e.g. https://host.example.com"
	case u.Scheme == "http" && !r.anyHTTPHost && !sendrule.IsLoopback(u.Hostname()):
		return "uses plain http for a remote host", "use https (plain http is only allowed for 127.0.0.1, ::1 or localhost)"
	case u.RawQuery != "" || u.ForceQuery:
		return "has a query string", "remove the ?... part"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "has a fragment", "remove the #... part"
	case strings.ContainsAny(raw, " \t\n"):
		return "contains whitespace", "percent-encode spaces as %20"
	case r.noTrailingSlash && strings.HasSuffix(raw, "/"):
		return "ends with '/'", "remove the trailing slash (the oidc-provider plugin refuses it)"
	}
	return "", ""
}
