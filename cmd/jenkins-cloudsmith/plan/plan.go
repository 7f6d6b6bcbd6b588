// Package plan is the `jenkins-cloudsmith plan` command: it shows what
// apply would change, as a readable diff or as JSON.
package plan

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdflags"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
)

// NewCmd returns the plan command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var o cmdflags.Session
	var detailed bool
	cmd := &cobra.Command{
		Use:   "plan -f SPEC",
		Short: "Show what apply would change in Jenkins (and Cloudsmith)",
		Long: `Plan reads the controller (one request lists every job, then one config.xml read
per job the spec defines) and prints what apply would do: plugins to install, the
OIDC credential to create or update, folders, and jobs to create, update or delete,
each update with a unified diff of the job XML after normalising what Jenkins
rewrites on save. A change that makes Jenkins generate a new OIDC signing key is
marked "! rotate OIDC signing key"; re-saving an existing credential is also marked
"! apply refuses this change" with the two ways forward (rotate, or apply
--replace-key-with-downtime). Only jobs this spec owns are planned or pruned; an
item another spec owns, or one made by hand, is a conflict that says whose it is
and how to take it (--adopt, --adopt-from). Nothing is written.

Secrets come from the environment through the spec's ${VAR} references and are
never printed.`,
		Example: `  # What would change?
  jenkins-cloudsmith plan -f jenkins-cloudsmith.yaml

  # In CI: exit 2 when there are changes, 0 when none, 1 on error
  jenkins-cloudsmith plan -f spec.yaml --detailed-exitcode

  # Machine-readable, including managed jobs that --prune would delete
  jenkins-cloudsmith plan -f spec.yaml --prune --output json | jq '.summary'`,
		Args: cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, s *apply.Session) error {
			if err := s.Compute(ctx); err != nil {
				return err
			}
			if err := views.Plan(f.IO.Out, s.Plan, o.Output, f.IO.ColorScheme()); err != nil {
				return err
			}
			if detailed && !s.Plan.Empty() {
				return &cmdutil.ExitError{Code: 2}
			}
			return nil
		}),
	}
	o.AddFlags(cmd, true)
	cmdflags.AddOutputFlag(cmd, &o.Output, "output format: text or json")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 0 when there is nothing to do, 2 when there are changes, 1 on error")
	return cmd
}
