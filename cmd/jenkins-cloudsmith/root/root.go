// Package root assembles the jenkins-cloudsmith command tree. Each
// subcommand lives in its own package beside this one.
package root

import (
	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/demo"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/discovery"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/doctor"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/emulate"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/prune"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/rotate"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/schema"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/smoke"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/token"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/validate"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
)

// New returns the root command with every subcommand attached.
func New(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jenkins-cloudsmith",
		Short: "Give Jenkins builds keyless access to Cloudsmith through OpenID Connect",
		Long: `jenkins-cloudsmith reads one YAML spec and makes Jenkins (and, where asked,
Cloudsmith) match it: the OIDC ID Token credential, jobs rendered from templates,
and the discovery documents a custom issuer must host.`,
		Version:       f.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetIn(f.IO.In)
	cmd.SetOut(f.IO.Out)
	cmd.SetErr(f.IO.ErrOut)
	cmd.AddCommand(
		// Subcommands register here, one line each (keep sorted):
		apply.NewCmd(f),
		demo.NewCmd(f),
		discovery.NewCmd(f),
		doctor.NewCmd(f),
		emulate.NewCmd(f),
		plan.NewCmd(f),
		prune.NewCmd(f),
		render.NewCmd(f),
		rotate.NewCmd(f),
		schema.NewCmd(f),
		smoke.NewCmd(f),
		token.NewCmd(f),
		validate.NewCmd(f),
	)
	return cmd
}
