package jenkins

import (
	"strconv"
	"strings"
)

// AudIsArray reports whether oidc-provider at version writes a token's
// aud as a JSON array: from 212.v7657c4d… (commit a069ffe, April 2026,
// JJWT 0.12's audience().add) on, a single string before. known is false
// for a version it cannot read (plugins hidden, a snapshot build); array
// is then true, the current shape.
func AudIsArray(version string) (array, known bool) {
	head, _, _ := strings.Cut(version, ".")
	n, err := strconv.Atoi(head)
	if err != nil {
		return true, false
	}
	return n >= 212, true
}
