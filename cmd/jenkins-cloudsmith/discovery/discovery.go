// Package discovery is the `jenkins-cloudsmith discovery` command group:
// export, check and serve the OpenID discovery documents of the spec's
// issuer.
package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdflags"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// NewCmd returns the discovery command group.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "discovery",
		Short: "Export, check or serve the issuer's OpenID discovery documents",
		Long: `Cloudsmith verifies a build's ID token by fetching <issuer>/.well-known/openid-configuration
and the JWKS it names. With Jenkins' own issuer (<jenkins>/oidc) Jenkins serves both.
With a custom issuer (oidc.issuer) someone must host them, and re-publish the JWKS
whenever the credential is re-saved: the oidc-provider plugin then generates a new
key under the same kid, and every exchange fails until the new key is published.`,
		Example: `  jenkins-cloudsmith discovery export -f spec.yaml --out ./public
  jenkins-cloudsmith discovery check -f spec.yaml
  jenkins-cloudsmith discovery serve -f spec.yaml --addr 127.0.0.1:8080`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newExportCmd(f), newCheckCmd(f), newServeCmd(f))
	return cmd
}

func newExportCmd(f *cmdutil.Factory) *cobra.Command {
	var o cmdflags.Trust
	var out string
	cmd := &cobra.Command{
		Use:   "export -f SPEC --out DIR",
		Short: "Write the custom issuer's documents, byte for byte, for a web server to host",
		Long: `Export reads from Jenkins what the credential signs with now and writes
DIR/.well-known/openid-configuration and DIR/jwks exactly as Cloudsmith must fetch
them. Serve DIR at the issuer URL, over https, with Content-Type: application/json.
The JWKS holds every key that signs for the issuer: during a rotation both the
current and the successor credential's key. Files are replaced atomically (mode
0644: they are public). For Jenkins' own issuer there is nothing to host.`,
		Example: `  jenkins-cloudsmith discovery export -f spec.yaml --out ./public
  rsync -a ./public/ www@issuer.example.com:/srv/issuer/`,
		Args: cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, env *trust.Env) error {
			return Export(ctx, f, env, out)
		}),
	}
	o.AddFlags(cmd)
	cmd.Flags().StringVar(&out, "out", "", "directory to write the documents into (served at the issuer URL)")
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

// Export writes the documents of a custom issuer into dir and says what to
// do with them; for the default issuer it says where Jenkins serves them.
func Export(ctx context.Context, f *cmdutil.Factory, env *trust.Env, dir string) error {
	s := env.Spec
	if s.OIDC.Issuer == "" {
		iss := s.IssuerURL()
		fmt.Fprintf(f.IO.Out, "Nothing to host: %s is Jenkins' own issuer, and Jenkins serves\n  %s/%s\n  %s/%s\nitself (to anyone, without login). Cloudsmith must be able to reach them.\n",
			iss, iss, trust.ConfigPath, iss, trust.JWKSPath)
		return nil
	}
	if dir == "" {
		return fmt.Errorf("--out DIR is required: the directory your web server serves at %s", s.OIDC.Issuer)
	}
	d, err := trust.FromJenkins(ctx, env.Jenkins, s)
	if err != nil {
		return err
	}
	files, err := trust.Export(dir, d)
	if err != nil {
		return err
	}
	for _, p := range files {
		fmt.Fprintf(f.IO.Out, "wrote %s\n", p)
	}
	fmt.Fprintf(f.IO.Out, "JWKS keys: %s\nServe %s at %s (as application/json), then run `jenkins-cloudsmith discovery check`.\n",
		strings.Join(d.Kids(), ", "), dir, s.OIDC.Issuer)
	return nil
}

func newCheckCmd(f *cmdutil.Factory) *cobra.Command {
	var o cmdflags.Trust
	cmd := &cobra.Command{
		Use:   "check -f SPEC",
		Short: "Compare what is hosted at the issuer with the keys Jenkins signs with",
		Long: `Check fetches <issuer>/.well-known/openid-configuration and its jwks_uri the way
Cloudsmith does (TLS verified; plain http only to loopback) and compares them with
what Jenkins signs with now. It fails, saying which document and how to fix it, when
a key was rotated and not re-published (naming the stale kid and thumbprint), the
issuer or jwks_uri is wrong, the host is unreachable or a body is not the JSON
document (an HTML error page, say). A content type other than application/json is a
warning. Exit status: 0 OK (warnings allowed), 1 otherwise.`,
		Example: `  jenkins-cloudsmith discovery check -f spec.yaml
  jenkins-cloudsmith discovery check -f spec.yaml --ca-bundle internal-ca.pem --output json`,
		Args: cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, env *trust.Env) error {
			output := o.Output
			want, err := trust.FromJenkins(ctx, env.Jenkins, env.Spec)
			if err != nil {
				return err
			}
			res := trust.Check(ctx, env.Issuer, want)
			if output == cmdutil.OutputJSON {
				if err := views.CheckJSON(f.IO.Out, res); err != nil {
					return err
				}
			} else {
				views.CheckFindings(f.IO.ErrOut, res, trust.SevWarning)
			}
			if err := res.Err(); err != nil {
				return cmdflags.Failed(output, err)
			}
			if output == cmdutil.OutputJSON {
				return nil
			}
			return views.CheckOK(f.IO.Out, res, want.Kids())
		}),
	}
	o.AddFlags(cmd)
	o.AddIssuerCAFlag(cmd)
	o.AddOutputFlag(cmd)
	return cmd
}

func newServeCmd(f *cmdutil.Factory) *cobra.Command {
	var o cmdflags.Trust
	var addr string
	var refresh time.Duration
	cmd := &cobra.Command{
		Use:   "serve -f SPEC --addr HOST:PORT",
		Short: "Serve the issuer's documents, refreshed from Jenkins",
		Long: `Serve answers <issuer path>/.well-known/openid-configuration and <issuer path>/jwks
with the documents Jenkins signs with, refreshing them every --refresh (so a
re-saved credential's new key is published within that time) and keeping the last
good copy while Jenkins is unreachable. Put it behind your TLS proxy at the issuer
URL. It stops gracefully on Ctrl-C or SIGTERM.`,
		Example: `  jenkins-cloudsmith discovery serve -f spec.yaml --addr 127.0.0.1:8080 --refresh 30s`,
		Args:    cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, env *trust.Env) error {
			if env.Spec.OIDC.Issuer == "" {
				return fmt.Errorf("the spec uses Jenkins' own issuer %s, which Jenkins serves itself: set oidc.issuer to serve a custom one", env.Spec.IssuerURL())
			}
			if refresh < time.Second {
				return fmt.Errorf("--refresh must be at least 1s, not %s", refresh)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			srv := &trust.Server{
				Fetch: func(ctx context.Context) (*trust.Documents, error) {
					return trust.FromJenkins(ctx, env.Jenkins, env.Spec)
				},
				Refresh: refresh,
				Logger:  slog.New(slog.NewTextHandler(f.IO.ErrOut, nil)),
			}
			return srv.Run(ctx, ln)
		}),
	}
	o.AddFlags(cmd)
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().DurationVar(&refresh, "refresh", time.Minute, "how often to re-read the documents from Jenkins")
	return cmd
}
