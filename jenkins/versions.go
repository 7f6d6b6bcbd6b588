package jenkins

import (
	"fmt"
	"strconv"
	"strings"
)

// Supported is the oldest Jenkins core and plugin releases the tool
// supports, each with why: what breaks, or what is not tested, below it.
// The emulator models the behaviours that changed between these and the
// current releases (see jenkins/jenkinstest's doc table).
var Supported = []struct{ Name, Min, Why string }{
	{"jenkins", "2.479.1", "the first LTS on Jetty 12 and Jakarta EE 9 (2.475+), whose path handling (an encoded '/' or '//' is a 400) and Overall/Manage for safeRestart the emulator models; older cores are not tested"},
	{"oidc-provider", "170.v15f73e25a_e28", "older releases mint a token with a literal ${JOB_URL} sub instead of failing when a claim cannot be substituted"},
	{"credentials", "1415.v831096eb_5534", "the release oidc-provider depends on; both answers of the form createCredentials (302 before 1488.v9049e8c8b_d98, JSON after) are handled"},
}

// VersionWarnings names every component of i older than Supported, with
// the reason; plugins not installed are left to the plugin check.
func (i *Info) VersionWarnings() []string {
	var out []string
	for _, s := range Supported {
		have := i.Version
		if s.Name != "jenkins" {
			have = i.Plugins[s.Name].Version
		}
		if have == "" || CompareVersions(have, s.Min) >= 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s is older than the oldest supported release %s: %s; update it in Manage Jenkins", s.Name, have, s.Min, s.Why))
	}
	return out
}

// CompareVersions orders Jenkins core versions (2.479.1) and plugin
// versions, JEP-229 ones (170.v15f73e25a_e28) included: dot-separated
// numeric parts compare as numbers, from the left, until one is not a
// number (a JEP-229 hash, a qualifier), which ends the comparison.
func CompareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		x, y := 0, 0
		var ex, ey error
		if i < len(pa) {
			x, ex = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, ey = strconv.Atoi(pb[i])
		}
		if ex != nil || ey != nil {
			return 0
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
