package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sendrule"
)

func runInspect(_ context.Context, a *app, args []string) error {
	fs := a.flagSet("inspect", "inspect [--token-file FILE|-]\n\nPrints the OIDC token's header and claims as JSON on stdout (never the signature) and hints on stderr.\n\n"+
		"Examples:\n  cloudsmith-oidc inspect                       # the token in $OIDC_TOKEN\n"+
		"  cloudsmith-oidc inspect --token-file - < id_token")
	o := a.register(fs, false)
	pos, _, err := parse(fs, args, false)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("inspect takes no arguments; the token comes from $OIDC_TOKEN or --token-file")
	}
	tok, err := a.oidcToken(o)
	if err != nil {
		return err
	}
	hdr, claims, err := jwtutil.Decode(tok)
	if err != nil {
		return fmt.Errorf("the OIDC token can't be decoded (%d characters): %v", len(tok), err)
	}
	out, err := json.MarshalIndent(map[string]any{"header": hdr, "claims": claims}, "", "  ")
	if err != nil {
		return err
	}
	if _, err := a.io.Out.Write(append(out, '\n')); err != nil {
		return err
	}
	c, _ := cloudsmith.ParseClaims(tok)
	fmt.Fprint(a.io.ErrOut, hints(c, o, time.Now()))
	return nil
}

// hints explains the claims Cloudsmith checks, for a person fixing trust.
func hints(c cloudsmith.Claims, o *options, now time.Time) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, "  "+format+"\n", args...) }
	b.WriteString("What Cloudsmith will check:\n")
	if c.Issuer == "" {
		line("iss: MISSING: Cloudsmith matches the provider by iss; this token can't be exchanged")
	} else {
		line("iss: %q: the Cloudsmith OIDC provider URL must be exactly this string", c.Issuer)
		line("     discovery: %s/.well-known/openid-configuration must be publicly reachable", strings.TrimSuffix(c.Issuer, "/"))
	}
	if c.Algorithm != "RS256" {
		line("alg: %q: only RS256 is known to be accepted", c.Algorithm)
	}
	line("kid: %q: must be in the issuer's JWKS (re-saving the Jenkins credential rotates the key)", c.KeyID)
	line("aud: %q: add it to the provider's required claims to pin this audience", c.Audience)
	if c.Subject != "" {
		line("sub: %q: a required claim may match it exactly or by a prefix ending in .*", c.Subject)
	}
	switch {
	case c.Expiry.IsZero():
		line("exp: MISSING")
	case c.Expiry.Before(now):
		line("exp: %s: EXPIRED %s ago; bind the credential again to mint a fresh token", c.Expiry.Format(time.RFC3339), now.Sub(c.Expiry).Round(time.Second))
	default:
		line("exp: %s: valid for %s more", c.Expiry.Format(time.RFC3339), c.Expiry.Sub(now).Round(time.Second))
	}
	if !c.IssuedAt.IsZero() && c.IssuedAt.After(now.Add(time.Minute)) {
		line("iat: %s: in the future; check the agent's and Jenkins' clocks", c.IssuedAt.Format(time.RFC3339))
	}
	if o.org != "" || o.service != "" {
		line("exchange: org %q, service %q: the service must be linked to the provider", o.org, o.service)
	}
	if u, err := url.Parse(o.apiURL); err == nil {
		if err := sendrule.Check(u, "the API URL", "token"); err != nil {
			line("api: REFUSED: %v", err)
		}
	}
	return b.String()
}
