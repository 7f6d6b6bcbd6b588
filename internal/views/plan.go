// Package views prints what the jenkins-cloudsmith commands compute, as
// text for people or JSON for scripts, apart from the packages that
// compute it (Terraform's command/views). Colour comes from one scheme,
// iostreams.ColorScheme.
package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

// Plan prints p as text or JSON (format is an --output value).
func Plan(w io.Writer, p *plan.Plan, format string, cs *iostreams.ColorScheme) error {
	if format == cmdutil.OutputJSON {
		return PlanJSON(w, p)
	}
	return PlanText(w, p, cs)
}

// jsonPlan is the stable JSON form of a plan.
type jsonPlan struct {
	FormatVersion int           `json:"format_version"`
	Jenkins       string        `json:"jenkins"`
	Issuer        string        `json:"issuer"`
	CustomIssuer  bool          `json:"custom_issuer"`
	Warnings      []string      `json:"warnings,omitempty"`
	Changes       []plan.Change `json:"changes"`
	Summary       plan.Summary  `json:"summary"`
}

// PlanJSON writes p as one indented JSON document:
//
//	{"format_version":1,"jenkins":URL,"issuer":URL,"custom_issuer":bool,
//	 "changes":[{"action","kind","name","folder","rotates_key","reason","diff",...}],
//	 "summary":{"install","create","update","replace","delete","unchanged_jobs","unchanged_folders","rotates_key"}}
func PlanJSON(w io.Writer, p *plan.Plan) error {
	changes := p.Changes
	if changes == nil {
		changes = []plan.Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonPlan{FormatVersion: plan.SchemaVersion, Jenkins: p.Jenkins, Issuer: p.Issuer, CustomIssuer: p.CustomIssuer,
		Warnings: p.Warnings, Changes: changes, Summary: p.Summarize()})
}

// PlanText writes p as a readable diff, painted with cs (nil: plain):
//
//   - create job team-a/build-wheel
//     ~ update job team-a/lint (config differs from the spec)
//     ! rotate OIDC signing key: ...
//   - delete job old-job
func PlanText(w io.Writer, p *plan.Plan, cs *iostreams.ColorScheme) error {
	var b strings.Builder
	for _, warning := range p.Warnings {
		b.WriteString(cs.Yellow("warning: "+warning) + "\n")
	}
	for _, c := range p.Changes {
		sym, paint := "+", cs.Green
		switch c.Action {
		case plan.Update:
			sym, paint = "~", cs.Yellow
		case plan.Replace:
			sym, paint = "-/+", cs.Yellow
		case plan.Delete:
			sym, paint = "-", cs.Red
		}
		line := fmt.Sprintf("%s %s %s %s", sym, c.Action, c.Kind, c.Name)
		if c.Kind == plan.KindCredential && c.Folder != "" {
			line += " (folder " + c.Folder + ")"
		}
		if c.Reason != "" && (c.Kind != plan.KindJob || c.Action != plan.Create) {
			line += " (" + c.Reason + ")"
		}
		b.WriteString(paint(line) + "\n")
		if c.RotatesKey {
			msg := "! rotate OIDC signing key: Jenkins generates a new key for credential " + c.Name + "; "
			if p.CustomIssuer {
				msg += "publish the new JWKS at the custom issuer " + p.Issuer + " before builds use it"
			} else {
				msg += "Jenkins serves it at " + strings.TrimSuffix(p.Issuer, "/") + "/jwks, where Cloudsmith fetches it"
			}
			b.WriteString(cs.BoldMagenta(msg) + "\n")
		}
		if c.Refused != "" {
			b.WriteString(cs.BoldRed("! apply refuses this change: "+c.Refused) + "\n")
		}
		if diff := strings.TrimSuffix(c.Diff, "\n"); diff != "" {
			for _, l := range strings.Split(diff, "\n") {
				switch {
				case strings.HasPrefix(l, "+"):
					l = cs.Green(l)
				case strings.HasPrefix(l, "-"):
					l = cs.Red(l)
				case strings.HasPrefix(l, "@@"):
					l = cs.Magenta(l)
				}
				b.WriteString("    " + l + "\n")
			}
		}
	}
	s := p.Summarize()
	if p.Empty() {
		fmt.Fprintf(&b, "No changes: %s matches the spec (%d jobs, %d folders).\n", p.Jenkins, s.UnchangedJobs, s.UnchangedFolders)
	} else {
		fmt.Fprintf(&b, "\nPlan: %d to install, %d to create, %d to update, %d to replace, %d to delete; %d jobs unchanged.\n",
			s.Install, s.Create, s.Update, s.Replace, s.Delete, s.UnchangedJobs)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
