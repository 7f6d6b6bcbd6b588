package jenkins

import (
	"strings"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2.479.1", "2.479.1", 0}, {"2.462.3", "2.479.1", -1}, {"2.528", "2.479.1", 1},
		{"212.v7657c4d45c02", "170.v15f73e25a_e28", 1}, {"111.v29fd614b_3617", "170.v15f73e25a_e28", -1},
		{"1488.v9049e8c8b_d98", "1415.v831096eb_5534", 1},
	} {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestVersionWarnings(t *testing.T) {
	i := &Info{Version: "2.462.3", Plugins: map[string]Plugin{"oidc-provider": {Version: "111.v29fd614b_3617"}, "credentials": {Version: "1488.v9049e8c8b_d98"}}}
	w := strings.Join(i.VersionWarnings(), "\n")
	if !strings.Contains(w, "jenkins 2.462.3 is older than the oldest supported release 2.479.1") ||
		!strings.Contains(w, "oidc-provider 111.v29fd614b_3617 is older than") || strings.Contains(w, "credentials 1488") {
		t.Errorf("warnings:\n%s", w)
	}
	if w := (&Info{Version: "2.528.3", Plugins: map[string]Plugin{"oidc-provider": {Version: "212.v7657c4d45c02"}}}).VersionWarnings(); len(w) != 0 {
		t.Errorf("current releases warned: %v", w)
	}
}
