package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// SmokeText prints a smoke build's verdict: the build and whether its
// token was bound, exchanged and used.
func SmokeText(w io.Writer, res *trust.SmokeResult) error {
	mark := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "NO"
	}
	_, err := fmt.Fprintf(w, "%s #%d: %s\n  token bound:     %s\n  token exchanged: %s\n  token used:      %s\n",
		res.Job, res.Number, res.Result, mark(res.Bound), mark(res.Exchanged), mark(res.Used))
	return err
}

// SmokeJSON prints {"ok": bool, ...the result's fields}.
func SmokeJSON(w io.Writer, res *trust.SmokeResult) error {
	return cmdutil.WriteJSON(w, struct {
		OK bool `json:"ok"`
		*trust.SmokeResult
	}{res.OK(), res})
}

// CheckJSON prints a discovery check as {"ok": bool, ...the result's fields}.
func CheckJSON(w io.Writer, res *trust.CheckResult) error {
	return cmdutil.WriteJSON(w, struct {
		OK bool `json:"ok"`
		*trust.CheckResult
	}{res.OK(), res})
}

// CheckFindings prints a discovery check's findings of one severity, each
// with its fix.
func CheckFindings(w io.Writer, res *trust.CheckResult, sev trust.Severity) {
	for _, fd := range res.Findings {
		if fd.Severity != sev {
			continue
		}
		fmt.Fprintf(w, "%s: %s\n", fd.Severity, fd.Message)
		if fd.Fix != "" {
			fmt.Fprintf(w, "  fix: %s\n", fd.Fix)
		}
	}
}

// CheckOK prints the one line a passing discovery check ends with.
func CheckOK(w io.Writer, res *trust.CheckResult, kids []string) error {
	_, err := fmt.Fprintf(w, "ok: %s and %s serve key %s, as Jenkins signs\n", res.ConfigURL, res.JWKSURL, strings.Join(kids, ", "))
	return err
}
