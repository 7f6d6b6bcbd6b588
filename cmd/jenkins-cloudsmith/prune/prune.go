// Package prune is the `jenkins-cloudsmith prune` command: apply limited to
// deleting managed jobs the spec no longer lists.
package prune

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdflags"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

// NewCmd returns the prune command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var o cmdflags.Session
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "prune -f SPEC",
		Short: "Delete managed jobs the spec no longer lists",
		Long: `Prune deletes the jobs this spec created (their description ends with a marker
naming the spec's id) that the spec no longer lists. Jobs made by hand, by other
tools or by another spec are never touched, nor are folders; jobs with the
owner-less marker of older versions are listed but left. It reads one list of
every job and nothing else; --dry-run prints what would be deleted.`,
		Example: `  jenkins-cloudsmith prune -f jenkins-cloudsmith.yaml --dry-run
  jenkins-cloudsmith prune -f jenkins-cloudsmith.yaml`,
		Args: cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, s *apply.Session) error {
			s.Options.PruneOnly = true
			if dryRun {
				if err := s.Compute(ctx); err != nil {
					return err
				}
				return views.PlanText(f.IO.Out, s.Plan, f.IO.ColorScheme())
			}
			res, err := s.Apply(ctx, apply.RunOptions{Reporter: views.NewApply(f.IO),
				Keep: func(c plan.Change) bool { return c.Action == plan.Delete }})
			if res == nil {
				return err
			}
			return views.ApplyResult(f.IO, s, res, false, err)
		}),
	}
	o.AddFlags(cmd, false)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be deleted and change nothing")
	return cmd
}
