// Package claimrule is the product's rule for one required claim value
// against a token's string claim, as Cloudsmith documents it: exact
// equality, or for a value ending in ".*" (the only wildcard, only at the
// end) a prefix match. trust judges tokens with it and spec checks the
// spec's own audience against it. The Cloudsmith emulator keeps its own
// matcher on purpose, so it stays an independent check; Cases is the
// table both run.
package claimrule

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
)

// Wildcard is Cloudsmith's only wildcard, valid only at the end of a value.
const Wildcard = ".*"

// Match reports whether the token's string claim got satisfies the
// required value want.
func Match(want, got string) bool {
	if prefix, wild := strings.CutSuffix(want, Wildcard); wild {
		return strings.HasPrefix(got, prefix)
	}
	return got == want
}

// SameClaims reports whether two sets of required claims are the same
// JSON values: the same text (a) and the same keys typed as non-strings in
// aj, with equal JSON. "1" and 1 differ, as they do to Cloudsmith.
func SameClaims(a map[string]string, aj map[string]json.RawMessage, b map[string]string, bj map[string]json.RawMessage) bool {
	if !maps.Equal(a, b) {
		return false
	}
	for k := range a {
		x, xok := aj[k]
		y, yok := bj[k]
		if xok != yok || !bytes.Equal(x, y) {
			return false
		}
	}
	return true
}

// Case is one required claim against one token claim (a decoded JSON
// value: string, float64, bool, []any) and whether Cloudsmith accepts it.
type Case struct {
	Name  string
	Want  string
	Got   any
	Match bool
}

// Cases is the table of claim-matching cases that the product matcher
// (trust.MatchClaim) and the emulator's matcher must both agree with.
var Cases = []Case{
	{"exact string", "jenkins", "jenkins", true},
	{"different string", "jenkins", "jenkins2", false},
	{"case matters", "Jenkins", "jenkins", false},
	{"prefix wildcard", "https://ci/job/app/.*", "https://ci/job/app/build", true},
	{"prefix wildcard, other folder", "https://ci/job/app/.*", "https://ci/job/other/build", false},
	{"wildcard needs the prefix's slash", "https://ci/job/app/.*", "https://ci/job/app", false},
	{"bare wildcard matches any string", ".*", "anything", true},
	{"star alone is literal", "https://ci/job/*", "https://ci/job/app", false},
	{"aud array, one element matches", "jenkins", []any{"other", "jenkins"}, true},
	{"aud array, none matches", "jenkins", []any{"other"}, false},
	{"wildcard inside an array", "jen.*", []any{"jenkins"}, true},
	{"string never equals a number", "7", float64(7), false},
	{"wildcard never matches a number", ".*", float64(7), false},
	{"string never equals a boolean", "true", true, false},
}
