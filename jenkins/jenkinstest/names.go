package jenkinstest

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// rawEncode escapes one URL path component the way Jenkins' Util.rawEncode
// does: it keeps letters, digits and !$&'()*+,-.=@_ and percent-encodes
// everything else (space, "#%/:;<>?[\]^`{|}~, controls, non-ASCII as UTF-8).
func rawEncode(s string) string {
	const keep = "!$&'()*+,-.=@_"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c < 0x80 && strings.IndexByte(keep, c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// checkGoodName applies Jenkins.checkGoodName and returns the Failure
// message Jenkins would send in X-Error, or "" when the name is good.
func checkGoodName(name string) string {
	if name == "" {
		return "No name is specified"
	}
	t := strings.TrimSpace(name)
	if t == "." || t == ".." {
		return "“" + t + "” is not allowed name"
	}
	for _, ch := range name {
		if ch < 0x20 || (ch >= 0x7f && ch <= 0x9f) {
			return "No control code is allowed: " + printableName(name)
		}
		if strings.ContainsRune(`?*/\%!@#$^&|<>[]:;`, ch) {
			return "‘" + string(ch) + "’ is an unsafe character"
		}
	}
	// SECURITY-2424: names ending with a dot are ambiguous on Windows.
	if strings.HasSuffix(t, ".") {
		return "A name cannot end with ‘.’"
	}
	return ""
}

func printableName(name string) string {
	var b strings.Builder
	for _, ch := range name {
		if ch < 0x20 || (ch >= 0x7f && ch <= 0x9f) {
			fmt.Fprintf(&b, "\\u%d;", ch)
		} else {
			b.WriteRune(ch)
		}
	}
	return b.String()
}

// splitPath decodes an escaped request path into segments, as the servlet
// container does before Stapler sees it. An encoded slash inside a segment
// is refused, as Jetty refuses ambiguous path separators.
func splitPath(escaped string) ([]string, error) {
	escaped = strings.TrimPrefix(escaped, "/")
	if escaped == "" {
		return nil, nil
	}
	raw := strings.Split(escaped, "/")
	segs := make([]string, 0, len(raw))
	for _, s := range raw {
		if strings.Contains(strings.ToLower(s), "%2f") {
			return nil, errors.New("ambiguous URI path separator")
		}
		d, err := url.PathUnescape(s)
		if err != nil || !utf8.ValidString(d) {
			return nil, errors.New("bad URI encoding")
		}
		segs = append(segs, d)
	}
	// A trailing slash leaves an empty last segment; Stapler ignores it.
	if segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	for _, s := range segs {
		if s == "" {
			// Jetty 12 refuses "//" (UriCompliance: AMBIGUOUS_EMPTY_SEGMENT).
			return nil, errors.New("ambiguous URI empty segment")
		}
	}
	return segs, nil
}

// foldName is the key Jenkins' case-insensitive item maps use.
func foldName(s string) string { return strings.ToLower(s) }
