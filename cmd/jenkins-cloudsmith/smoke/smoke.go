// Package smoke is the `jenkins-cloudsmith smoke` command: it builds a
// generated job and reports whether the OIDC token was bound, exchanged and
// used.
package smoke

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdflags"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// NewCmd returns the smoke command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var o cmdflags.Trust
	var job string
	cmd := &cobra.Command{
		Use:   "smoke -f SPEC [--job NAME]",
		Short: "Build a generated job and report whether its OIDC token was bound, exchanged and used",
		Long: `Smoke triggers a build of a job the spec generates (by default its first freestyle
job), follows the build's console as it runs (masked: Jenkins masks the bound token;
smoke also masks the spec's secrets and anything shaped like a JWT) and reports:

  bound      the credential was bound to the build (no binding error)
  exchanged  cloudsmith-oidc traded the token with Cloudsmith (no error from it)
  used       the job's steps ran with the Cloudsmith token and the build succeeded

The console goes to stderr, the report to stdout. Exit status 0 only when all three
hold; when one fails, run doctor to find the broken link.`,
		Example: `  jenkins-cloudsmith smoke -f spec.yaml
  jenkins-cloudsmith smoke -f spec.yaml --job team-a/publish --output json`,
		Args: cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, env *trust.Env) error {
			output := o.Output
			res, err := trust.Smoke(ctx, env, trust.SmokeOptions{Job: job, Console: f.IO.ErrOut})
			if err != nil {
				return err
			}
			write := views.SmokeText
			if output == cmdutil.OutputJSON {
				write = views.SmokeJSON
			}
			if err := write(f.IO.Out, res); err != nil {
				return err
			}
			if !res.OK() {
				return cmdflags.Failed(output, fmt.Errorf("smoke test of %s #%d failed: %s", res.Job, res.Number, res.Problem))
			}
			return nil
		}),
	}
	o.AddFlags(cmd)
	cmd.Flags().StringVar(&job, "job", "", "full name of the spec job to build (default: the first freestyle job)")
	o.AddOutputFlag(cmd)
	return cmd
}
