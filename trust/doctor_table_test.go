package trust

import "testing"

// TestDoctorTable: every link appears once, and every need a check has is
// given before it runs (by the spec, the flags or an earlier check), so a
// skip always has a reason to print.
func TestDoctorTable(t *testing.T) {
	given := map[need]bool{needManagementAPI: true, needClaims: true, needTokenFile: true}
	seen := map[string]bool{}
	for i, c := range doctorChecks {
		if c.run == nil || len(c.links) == 0 {
			t.Errorf("check %d has no run function or no link", i)
		}
		for _, l := range c.links {
			if seen[l] {
				t.Errorf("link %q is reported by two checks", l)
			}
			seen[l] = true
		}
		for _, n := range c.needs {
			if !given[n] {
				t.Errorf("check %v needs %d, which no earlier check provides", c.links, n)
			}
		}
		for _, n := range c.provides {
			given[n] = true
		}
	}
}
