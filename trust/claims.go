package trust

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/claimrule"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jenkinsurl"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// DefaultTokenLifetime is the oidc-provider plugin's default tokenLifetime.
const DefaultTokenLifetime = time.Hour

// BuildClaims returns the payload the plugin mints for build number of
// job with its default claim templates (Manage Jenkins » Security » OpenID
// Connect left at its defaults): iss, aud (the array form current plugin
// versions send; omitted when the credential has no audience), iat, exp,
// sub = ${JOB_URL} (string) and build_number = ${BUILD_NUMBER} (integer).
// Custom claim templates configured on the controller are not visible
// through its API and are not evaluated.
func BuildClaims(s *spec.Spec, job string, number int, now time.Time) map[string]any {
	c := map[string]any{
		"iss":          s.IssuerURL(),
		"iat":          now.Unix(),
		"exp":          now.Add(DefaultTokenLifetime).Unix(),
		"sub":          jenkinsurl.Job(s.Jenkins.URL, job),
		"build_number": number,
	}
	if s.OIDC.Audience != "" {
		c["aud"] = []any{s.OIDC.Audience}
	}
	return c
}

// MatchClaim reports whether a token claim satisfies one required claim
// the way Cloudsmith documents it: exact equality, or, for a required
// value ending in ".*" (the only wildcard, only at the end), a prefix
// match; an array claim (aud) matches when one element does. It returns
// why not otherwise.
//
// Cloudsmith compares JSON values, so a required string never equals an
// integer claim such as build_number, and a wildcard never matches a
// number: that is treated as a mismatch, with the reason saying so. (A
// spec that means the number writes it unquoted; CheckClaims compares
// those as JSON. Build numbers make poor required claims anyway: they
// change with every build.)
func MatchClaim(want string, got any, present bool) (bool, string) {
	if !present {
		return false, "the token has no such claim"
	}
	switch g := got.(type) {
	case []any:
		for _, e := range g {
			if ok, _ := MatchClaim(want, e, true); ok {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no element of %s matches", compact(g))
	case string:
		if claimrule.Match(want, g) {
			return true, ""
		}
		if prefix, wild := strings.CutSuffix(want, claimrule.Wildcard); wild {
			return false, fmt.Sprintf("%q does not start with %q", g, prefix)
		}
		return false, fmt.Sprintf("%q is not %q", g, want)
	case int, int64, float64, json.Number:
		n := fmt.Sprint(g)
		if strings.HasSuffix(want, ".*") {
			return false, fmt.Sprintf("the claim is the number %s and a wildcard only matches strings", n)
		}
		if _, err := strconv.ParseFloat(want, 64); err == nil && want == n {
			return false, fmt.Sprintf("the claim is the integer %s but the requirement is the string %q: Cloudsmith compares JSON values, so they never match", n, want)
		}
		return false, fmt.Sprintf("the claim is the number %s, not %q", n, want)
	case bool:
		return false, fmt.Sprintf("the claim is the boolean %t, not the string %q", g, want)
	}
	return false, fmt.Sprintf("the claim is %s, not %q", compact(got), want)
}

// ClaimFailure is a required claim that some jobs' tokens do not satisfy.
type ClaimFailure struct {
	Claim string   `json:"claim"`
	Want  string   `json:"want"`
	Jobs  []string `json:"jobs"`
	// Example is why the first job fails.
	Example string `json:"example"`
}

// String names the claim, the failing jobs (at most five) and why the first fails.
func (f ClaimFailure) String() string {
	jobs := f.Jobs
	more := ""
	if len(jobs) > 5 {
		jobs, more = jobs[:5], fmt.Sprintf(" and %d more", len(f.Jobs)-5)
	}
	return fmt.Sprintf("required claim %s=%q is not satisfied by job %s%s (%s: %s)",
		f.Claim, f.Want, strings.Join(jobs, ", "), more, f.Jobs[0], f.Example)
}

// CheckClaims evaluates required against the token each job would get
// (BuildClaims, build number 1) and lists the claims some jobs fail, in
// claim order.
//
// A claim in typed (a number or boolean, as JSON) must equal the token's
// claim as a JSON value, as Cloudsmith compares it.
func CheckClaims(s *spec.Spec, required map[string]string, typed map[string]json.RawMessage, now time.Time) []ClaimFailure {
	keys := make([]string, 0, len(required))
	for k := range required {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []ClaimFailure
	for _, k := range keys {
		f := ClaimFailure{Claim: k, Want: required[k]}
		for _, job := range jobNames(s) {
			claims := BuildClaims(s, job, 1, now)
			v, present := claims[k]
			ok, why := MatchClaim(required[k], v, present)
			if raw, isTyped := typed[k]; isTyped {
				ok, why = matchJSON(raw, v, present)
			}
			if !ok {
				if f.Example == "" {
					f.Example = why
				}
				f.Jobs = append(f.Jobs, job)
			}
		}
		if len(f.Jobs) > 0 {
			out = append(out, f)
		}
	}
	return out
}

// matchJSON compares a required number or boolean with a token claim as
// JSON values (any element of an array claim).
func matchJSON(want json.RawMessage, got any, present bool) (bool, string) {
	if !present {
		return false, "the token has no such claim"
	}
	if arr, ok := got.([]any); ok {
		for _, e := range arr {
			if ok, _ := matchJSON(want, e, true); ok {
				return true, ""
			}
		}
	}
	if compact(got) == string(want) {
		return true, ""
	}
	return false, fmt.Sprintf("the claim is %s, not the JSON value %s", compact(got), want)
}

// jobNames are the spec's jobs that bind the OIDC credential.
func jobNames(s *spec.Spec) []string {
	out := make([]string, 0, len(s.Jobs))
	for _, j := range s.Jobs {
		out = append(out, j.Name)
	}
	return out
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
