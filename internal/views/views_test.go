package views_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// TestColourOnlyWhenAsked: the one colour scheme paints a terminal and
// leaves pipes (and NO_COLOR) plain, for every view.
func TestColourOnlyWhenAsked(t *testing.T) {
	p := &plan.Plan{Jenkins: "https://ci/", Changes: []plan.Change{{Action: plan.Delete, Kind: plan.KindJob, Name: "old"}}}
	r := &trust.Report{Links: []trust.Link{{Name: trust.LinkJenkins, Status: trust.Fail, Detail: "down", Fix: "start it"}}}
	for _, tt := range []struct {
		name string
		cs   *iostreams.ColorScheme
		ansi bool
	}{
		{"nil scheme", nil, false},
		{"colour off", iostreams.NewColorScheme(false), false},
		{"colour on", iostreams.NewColorScheme(true), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := views.PlanText(&b, p, tt.cs); err != nil {
				t.Fatal(err)
			}
			if err := views.DoctorText(&b, r, tt.cs); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if got := strings.Contains(out, "\x1b["); got != tt.ansi {
				t.Errorf("ANSI codes present = %v, want %v:\n%q", got, tt.ansi, out)
			}
			for _, want := range []string{"- delete job old", "FAIL  jenkins  down", "fix: start it"} {
				if !strings.Contains(out, want) && !tt.ansi {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
