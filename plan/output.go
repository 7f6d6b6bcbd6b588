package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// SchemaVersion is the version of the JSON plan format. It changes only
// when a field changes meaning or disappears; new fields may be added.
const SchemaVersion = 1

// Summary counts changes by action.
type Summary struct {
	Install          int  `json:"install"`
	Create           int  `json:"create"`
	Update           int  `json:"update"`
	Replace          int  `json:"replace"`
	Delete           int  `json:"delete"`
	UnchangedJobs    int  `json:"unchanged_jobs"`
	UnchangedFolders int  `json:"unchanged_folders"`
	RotatesKey       bool `json:"rotates_key"`
}

// Summarize counts p's changes.
func (p *Plan) Summarize() Summary {
	s := Summary{UnchangedJobs: p.UnchangedJobs, UnchangedFolders: p.UnchangedFolders, RotatesKey: p.RotatesKey()}
	for _, c := range p.Changes {
		switch c.Action {
		case Install:
			s.Install++
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Replace:
			s.Replace++
		case Delete:
			s.Delete++
		}
	}
	return s
}

// jsonPlan is the stable JSON form of a plan.
type jsonPlan struct {
	FormatVersion int      `json:"format_version"`
	Jenkins       string   `json:"jenkins"`
	Issuer        string   `json:"issuer"`
	CustomIssuer  bool     `json:"custom_issuer"`
	Warnings      []string `json:"warnings,omitempty"`
	Changes       []Change `json:"changes"`
	Summary       Summary  `json:"summary"`
}

// WriteJSON writes p as one indented JSON document:
//
//	{"format_version":1,"jenkins":URL,"issuer":URL,"custom_issuer":bool,
//	 "changes":[{"action","kind","name","folder","rotates_key","reason","diff",...}],
//	 "summary":{"install","create","update","replace","delete","unchanged_jobs","unchanged_folders","rotates_key"}}
func WriteJSON(w io.Writer, p *Plan) error {
	changes := p.Changes
	if changes == nil {
		changes = []Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonPlan{FormatVersion: SchemaVersion, Jenkins: p.Jenkins, Issuer: p.Issuer, CustomIssuer: p.CustomIssuer,
		Warnings: p.Warnings, Changes: changes, Summary: p.Summarize()})
}

// ANSI colours, used only when the caller says the output is a colour
// terminal.
const (
	red     = "\x1b[31m"
	green   = "\x1b[32m"
	yellow  = "\x1b[33m"
	magenta = "\x1b[35m"
	bold    = "\x1b[1m"
	reset   = "\x1b[0m"
)

// WriteText writes p as a readable diff:
//
//   - create job team-a/build-wheel
//     ~ update job team-a/lint (config differs from the spec)
//     ! rotate OIDC signing key: ...
//   - delete job old-job
func WriteText(w io.Writer, p *Plan, color bool) error {
	paint := func(c, s string) string {
		if !color {
			return s
		}
		return c + s + reset
	}
	var b strings.Builder
	for _, warning := range p.Warnings {
		b.WriteString(paint(yellow, "warning: "+warning) + "\n")
	}
	for _, c := range p.Changes {
		sym, col := "+", green
		switch c.Action {
		case Update:
			sym, col = "~", yellow
		case Replace:
			sym, col = "-/+", yellow
		case Delete:
			sym, col = "-", red
		}
		line := fmt.Sprintf("%s %s %s %s", sym, c.Action, c.Kind, c.Name)
		if c.Kind == KindCredential && c.Folder != "" {
			line += " (folder " + c.Folder + ")"
		}
		if c.Reason != "" && (c.Kind != KindJob || c.Action != Create) {
			line += " (" + c.Reason + ")"
		}
		b.WriteString(paint(col, line) + "\n")
		if c.RotatesKey {
			msg := "! rotate OIDC signing key: Jenkins generates a new key for credential " + c.Name + "; "
			if p.CustomIssuer {
				msg += "publish the new JWKS at the custom issuer " + p.Issuer + " before builds use it"
			} else {
				msg += "Jenkins serves it at " + strings.TrimSuffix(p.Issuer, "/") + "/jwks, where Cloudsmith fetches it"
			}
			b.WriteString(paint(magenta+bold, msg) + "\n")
		}
		if c.Refused != "" {
			b.WriteString(paint(red+bold, "! apply refuses this change: "+c.Refused) + "\n")
		}
		for _, l := range splitLines(c.Diff) {
			lc := ""
			switch {
			case strings.HasPrefix(l, "+"):
				lc = green
			case strings.HasPrefix(l, "-"):
				lc = red
			case strings.HasPrefix(l, "@@"):
				lc = magenta
			}
			if lc == "" {
				b.WriteString("    " + l + "\n")
			} else {
				b.WriteString("    " + paint(lc, l) + "\n")
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
