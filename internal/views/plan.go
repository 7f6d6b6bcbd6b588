// Package views prints what the jenkins-cloudsmith commands compute, as
// text for people or JSON for scripts, apart from the packages that
// compute it (Terraform's command/views).
package views

import (
	"io"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

// Plan prints p as text or JSON (format is an --output value).
func Plan(w io.Writer, p *plan.Plan, format string, color bool) error {
	if format == cmdutil.OutputJSON {
		return plan.WriteJSON(w, p)
	}
	return plan.WriteText(w, p, color)
}
