package app

import (
	"context"
	"fmt"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sealbox"
)

// runSeal prints the build's OIDC token sealed to a one-time public key
// (`jenkins-cloudsmith token` asks for it): only the holder of the private
// key can open it, so the console line is safe for anyone to read.
func runSeal(_ context.Context, a *app, args []string) error {
	fs := a.flagSet("seal", "seal --to PUBLIC_KEY [--token-file FILE|-]\n\nPrints the OIDC token sealed to PUBLIC_KEY (X25519, AES-GCM) as one line on stdout,\n"+
		"for `jenkins-cloudsmith token`, which holds the private key and writes the token to a 0600 file.\n\n"+
		"Example:\n  cloudsmith-oidc seal --to \"$JENKINS_CLOUDSMITH_SEAL_KEY\"")
	o := a.register(fs, false)
	to := fs.String("to", "", "the one-time public key to seal the token to")
	pos, _, err := parse(fs, args, false)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *to == "" {
		return usageError("seal takes --to PUBLIC_KEY and no arguments; the token comes from $OIDC_TOKEN or --token-file")
	}
	tok, err := a.oidcToken(o)
	if err != nil {
		return err
	}
	sealed, err := sealbox.Seal(*to, []byte(tok))
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	_, err = fmt.Fprintln(a.io.Out, sealbox.Marker+sealed)
	return err
}
