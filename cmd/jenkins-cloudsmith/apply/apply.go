// Package apply is the `jenkins-cloudsmith apply` command: it makes the
// controller (and Cloudsmith) match the spec.
package apply

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdflags"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
)

// NewCmd returns the apply command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var o cmdflags.Session
	cmd := &cobra.Command{
		Use:   "apply -f SPEC",
		Short: "Make Jenkins (and Cloudsmith) match the spec",
		Long: `Apply plans (see plan) and then makes the changes: required plugins checked
(installed with --install-plugins), the OIDC ID Token credential, folders (parents
first), then jobs in parallel. Only what differs is written: a second apply sends
no write at all and leaves the OIDC signing key (and so the JWKS) untouched.

Each job is changed with a single config.xml POST, which Jenkins applies whole or
not at all, so an interrupted apply (Ctrl-C, a lost connection) leaves every job
either as it was or as the spec wants; run apply again to finish. A write whose
answer was lost is read back before it is retried.

Jobs, folders and the credential apply creates carry a marker naming the spec's
id; --prune deletes only jobs of this spec that it no longer lists, never a job
made by hand or another spec's. --adopt takes over hand-made items the spec names,
--adopt-from ID another spec's (moving jobs between specs).

A change to the credential's description, audience, issuer or kind would make
Jenkins generate a new key under the same kid, failing builds while verifiers keep
the old one cached: apply refuses it (use rotate, no downtime) unless given
--replace-key-with-downtime. An apply with something to write holds a lease kept in
Jenkins, so a second apply of the same spec stops and names the first.
With cloudsmith.api_key set it also ensures the Cloudsmith service account and the
OIDC provider (provider URL = the issuer, the spec's claims, the service linked).`,
		Example: `  export JENKINS_API_TOKEN=...   # referenced as ${JENKINS_API_TOKEN} in the spec
  jenkins-cloudsmith apply -f jenkins-cloudsmith.yaml

  # Bootstrap a fresh controller: install missing plugins, wait for the restart
  jenkins-cloudsmith apply -f spec.yaml --install-plugins

  # Also delete managed jobs removed from the spec, 16 requests at a time
  jenkins-cloudsmith apply -f spec.yaml --prune --parallel 16`,
		Args: cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, s *apply.Session) error {
			res, err := s.Apply(ctx, apply.RunOptions{Reporter: views.NewApply(f.IO)})
			if res == nil {
				return err
			}
			return views.ApplyResult(f.IO, s, res, o.Output == cmdutil.OutputJSON, err)
		}),
	}
	o.AddFlags(cmd, true)
	cmdflags.AddOutputFlag(cmd, &o.Output, "result format: text (one summary line) or json")
	return cmd
}
