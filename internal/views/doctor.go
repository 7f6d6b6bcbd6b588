package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// DoctorText prints one line per link ("ok", "FAIL", "warn", "skip", the
// link, what was found) and the fix under each failure or warning,
// painted with cs (nil: plain).
func DoctorText(w io.Writer, r *trust.Report, cs *iostreams.ColorScheme) error {
	width := 0
	for _, l := range r.Links {
		width = max(width, len(l.Name))
	}
	var b strings.Builder
	for _, l := range r.Links {
		st := fmt.Sprintf("%-4s", l.Status)
		switch l.Status {
		case trust.OK:
			st = cs.Green(st)
		case trust.Fail:
			st = cs.Red(st)
		case trust.Warn:
			st = cs.Yellow(st)
		}
		indent := strings.Repeat(" ", 4+2+width+2)
		fmt.Fprintf(&b, "%s  %-*s  %s\n", st, width, l.Name, strings.ReplaceAll(l.Detail, "\n", "\n"+indent))
		if l.Fix != "" && l.Status != trust.OK {
			fmt.Fprintf(&b, "%sfix: %s\n", indent, l.Fix)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DoctorJSON prints {"ok": bool, "links": [...]}.
func DoctorJSON(w io.Writer, r *trust.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		OK    bool         `json:"ok"`
		Links []trust.Link `json:"links"`
	}{r.OK(), r.Links})
}
