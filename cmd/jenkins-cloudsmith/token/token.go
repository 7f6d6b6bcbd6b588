// Package token is the `jenkins-cloudsmith token` command: it mints one ID
// token through a temporary job and writes it to a 0600 file, for
// `doctor --token-file` and for trying cloudsmith-oidc by hand.
package token

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdflags"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// NewCmd returns the token command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var o cmdflags.Trust
	var out, templates string
	cmd := &cobra.Command{
		Use:   "token -f SPEC --out FILE",
		Short: "Mint one ID token through a temporary job and write it to a 0600 file",
		Long: `token gets an ID token exactly as a build of the spec gets one, for
doctor --token-file and for trying cloudsmith-oidc by hand. It creates a
temporary freestyle job beside the spec's credential (rendered like the spec's
jobs, so it runs where they run and finds cloudsmith-oidc as they do), builds
it once, and deletes it. The job's step runs "cloudsmith-oidc seal" with a
one-time public key: the console shows the token only sealed to that key,
whose private half never leaves this process. The token is written to --out
with mode 0600, atomically; it expires like any build's token (the
credential's lifetime, an hour by default).

The Jenkins user needs Job/Create, Job/Build and Job/Delete where the
credential lives. The agents need a cloudsmith-oidc with the seal command
(this version or later).`,
		Example: `  jenkins-cloudsmith token -f jenkins-cloudsmith.yaml --out id_token
  jenkins-cloudsmith doctor -f jenkins-cloudsmith.yaml --token-file id_token

  # Try the exchange by hand with the same token
  cloudsmith-oidc inspect --token-file id_token
  cloudsmith-oidc exchange --token-file id_token --org acme --service jenkins-ci --output - --as json`,
		Args: cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, env *trust.Env) error {
			res, err := trust.MintToken(ctx, env, trust.TokenOptions{Out: out, Templates: templates, Log: f.IO.ErrOut})
			if err != nil {
				return err
			}
			if o.Output == cmdutil.OutputJSON {
				return cmdutil.WriteJSON(f.IO.Out, res)
			}
			_, err = fmt.Fprintf(f.IO.Out, "%s: ID token of job %s #%d (sub %s), expires %s\n",
				res.File, res.Job, res.Number, res.Subject, res.Expiry.UTC().Format(time.RFC3339))
			return err
		}),
	}
	o.AddFlags(cmd)
	o.AddOutputFlag(cmd)
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "", "file to write the ID token to (mode 0600; a new path, a regular file, or /dev/stdout)")
	fl.StringVar(&templates, "templates", "", "directory of templates overriding the embedded ones (as for apply)")
	_ = cmd.MarkFlagRequired("out")
	_ = cmd.MarkFlagFilename("out")
	return cmd
}
