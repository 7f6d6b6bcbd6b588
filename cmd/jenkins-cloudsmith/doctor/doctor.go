// Package doctor is the `jenkins-cloudsmith doctor` command: it walks the
// trust chain from Jenkins to Cloudsmith and prints one line per link.
package doctor

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdflags"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// NewCmd returns the doctor command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var o cmdflags.Trust
	var tokenFile string
	cmd := &cobra.Command{
		Use:   "doctor -f SPEC",
		Short: "Check every link from Jenkins to Cloudsmith and say how to fix what is broken",
		Long: `Cloudsmith's answer to a refused token is deliberately generic. Doctor walks the
chain a token travels and prints one line per link, ok, FAIL or warn, with the fix:

  jenkins           reachable at jenkins.url, its version, the user logged in
  plugins           the required plugins installed and enabled
  credential        the OIDC credential present with the spec's audience, issuer, kind
  issuer documents  <issuer>/.well-known/openid-configuration and its JWKS reachable
                    and holding the keys Jenkins signs with now
  provider url      a Cloudsmith OIDC provider whose URL is exactly the tokens' iss
  provider enabled  that provider enabled
  service linked    cloudsmith.service exists and is linked to it
  required claims   its required claims satisfied by the token each job would get
                    (the plugin's default claim templates: sub = job URL,
                    build_number, aud = the audience)
  exchange          with --token-file, a real exchange of that token

The provider links need cloudsmith.api_key (the management API); without it they are
skipped and the spec's own cloudsmith.provider.claims are evaluated. Exit status 0
only when no link FAILs.`,
		Example: `  jenkins-cloudsmith doctor -f spec.yaml

  # Also exchange a real token, minted as a build gets it
  jenkins-cloudsmith token -f spec.yaml --out id_token
  jenkins-cloudsmith doctor -f spec.yaml --token-file id_token

  # For scripts
  jenkins-cloudsmith doctor -f spec.yaml --output json | jq '.links[] | select(.status=="FAIL")'`,
		Args: cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, env *trust.Env) error {
			output := o.Output
			r := trust.Doctor(ctx, env, trust.DoctorOptions{TokenFile: tokenFile})
			var err error
			if output == cmdutil.OutputJSON {
				err = views.DoctorJSON(f.IO.Out, r)
			} else {
				err = views.DoctorText(f.IO.Out, r, f.IO.ColorScheme())
			}
			if err != nil {
				return err
			}
			if !r.OK() {
				return cmdflags.Failed(output, fmt.Errorf("%d link(s) of the trust chain failed: %q", len(r.Failed()), r.Failed()))
			}
			return nil
		}),
	}
	o.AddFlags(cmd)
	o.AddIssuerCAFlag(cmd)
	o.AddOutputFlag(cmd)
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding an ID token minted by Jenkins (jenkins-cloudsmith token --out FILE mints one), to try a real exchange")
	_ = cmd.MarkFlagFilename("token-file")
	return cmd
}
