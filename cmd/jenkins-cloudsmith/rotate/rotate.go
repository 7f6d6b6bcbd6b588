// Package rotate is the `jenkins-cloudsmith rotate` command: a signing-key
// rotation of the OIDC credential without a failed build.
package rotate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdflags"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// NewCmd returns the rotate command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var o cmdflags.Trust
	var ro trust.RotateOptions
	var templates string
	cmd := &cobra.Command{
		Use:   "rotate -f SPEC [--out DIR] [--publish CMD]",
		Short: "Rotate the OIDC signing key without a failed build",
		Long: `The oidc-provider plugin signs with one key per credential and uses the credential
id as the kid; re-saving the credential replaces the key under the same kid, which
breaks every exchange until the new JWKS is published. Rotate instead:

  1. creates a successor credential <id>--r<N> (same audience, issuer and kind);
  2. publishes a JWKS holding both keys: for a custom issuer it exports to --out
     (as discovery export), runs --publish, and waits until the issuer serves both;
     Jenkins' own issuer serves both by itself;
  3. switches the managed jobs to the successor;
  4. waits for running builds of those jobs (up to --wait-timeout), then --grace;
  5. deletes the old credential and publishes the JWKS without its key.

Every step reads its state from Jenkins and the issuer, so an interrupted rotate is
finished by running it again. The spec keeps naming the original id: plan and apply
manage the successor in its place. The --publish command runs with bash -c, with
DISCOVERY_DIR set to --out; its output is masked.`,
		Example: `  # Custom issuer hosted from a directory synced to the web server
  jenkins-cloudsmith rotate -f spec.yaml --out ./public \
    --publish 'rsync -a "$DISCOVERY_DIR"/ www@issuer.example.com:/srv/issuer/'

  # Custom issuer served by ` + "`jenkins-cloudsmith discovery serve`" + ` (it refreshes itself)
  jenkins-cloudsmith rotate -f spec.yaml

  # Jenkins' own issuer: nothing to publish
  jenkins-cloudsmith rotate -f spec.yaml --wait-timeout 30m`,
		Args: cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, env *trust.Env) error {
			if env.Spec.OIDC.Issuer == "" && (ro.Out != "" || ro.Publish != "") {
				return fmt.Errorf("--out and --publish are for a custom issuer; %s is Jenkins' own, which serves its keys itself", env.Spec.IssuerURL())
			}
			if ro.Publish != "" && ro.Out == "" {
				return fmt.Errorf("--publish needs --out: the directory it publishes")
			}
			var err error
			if ro.Renderer, err = render.New(render.Options{TemplatesDir: templates}); err != nil {
				return err
			}
			ro.Log = f.IO.ErrOut
			res, err := trust.Rotate(ctx, env, ro)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "rotated %s → %s; jobs switched: %s; deleted: %s\n", res.From, res.To,
				orNone(res.Switched), orNone(res.Deleted))
			return nil
		}),
	}
	o.AddFlags(cmd)
	o.AddIssuerCAFlag(cmd)
	fl := cmd.Flags()
	fl.StringVar(&ro.Out, "out", "", "directory to export the custom issuer's documents to (as discovery export)")
	fl.StringVar(&ro.Publish, "publish", "", "shell command run after each export, e.g. a sync of --out to the issuer host")
	fl.DurationVar(&ro.WaitTimeout, "wait-timeout", 10*time.Minute, "how long to wait for the issuer to serve a change, and for running builds")
	fl.DurationVar(&ro.Grace, "grace", 10*time.Second, "extra wait after running builds finished, before the old key is removed")
	fl.BoolVar(&ro.IgnoreOutsideJobs, "ignore-outside-jobs", false, "delete the old credential even while jobs the spec does not manage still bind it (they then fail)")
	fl.DurationVar(&ro.Poll, "poll", 2*time.Second, "interval between checks of the issuer and of running builds")
	fl.StringVar(&templates, "templates", "", "directory of templates overriding the embedded ones (as for apply)")
	_ = cmd.MarkFlagDirname("out")
	_ = cmd.MarkFlagDirname("templates")
	return cmd
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}
