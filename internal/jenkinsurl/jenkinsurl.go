// Package jenkinsurl builds the URLs Jenkins itself builds (its root URL,
// job URLs, the oidc-provider plugin's default issuer), byte for byte, so
// that what we compute equals the `iss` and `sub` Jenkins puts in tokens.
// It is a leaf: the spec, the Jenkins client and the trust checks share
// it without importing each other.
package jenkinsurl

import "strings"

// RawEncode encodes one path segment exactly like Jenkins' Util.rawEncode:
// ASCII letters, digits and !$&'()*+,-.=@_ stay; everything else (space,
// "#%/:;<>?[\]^`{|}~, controls, non-ASCII as UTF-8) becomes %XX, upper case.
// Jenkins builds folder issuer URLs and job URLs with it.
func RawEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if rawSafe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func rawSafe(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!$&'()*+,-.=@_", c) >= 0
}

// Root is a Jenkins URL with exactly one trailing slash, the form Jenkins
// uses for its root URL (so "job/x" and "oidc" can be appended).
func Root(url string) string {
	return strings.TrimRight(url, "/") + "/"
}

// Job is a job's absolute URL as Jenkins' JOB_URL gives it:
// <root>job/<a>/job/<b>/, each segment encoded like Util.rawEncode.
func Job(root, fullName string) string {
	var b strings.Builder
	b.WriteString(Root(root))
	for _, seg := range strings.Split(fullName, "/") {
		b.WriteString("job/" + RawEncode(seg) + "/")
	}
	return b.String()
}

// Issuer is the oidc-provider plugin's default issuer for credentials in
// folder's store ("" = the system store): <root>oidc, or
// <root>oidc/job/<a>/job/<b> for folder a/b.
func Issuer(root, folder string) string {
	u := Root(root) + "oidc"
	if folder = strings.Trim(folder, "/"); folder != "" {
		for _, seg := range strings.Split(folder, "/") {
			u += "/job/" + RawEncode(seg)
		}
	}
	return u
}
