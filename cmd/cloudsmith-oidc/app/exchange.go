package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/securefile"
)

func runExchange(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("exchange", "exchange [--output FILE|-] [--as raw|json|env] [flags]\n\n"+
		"Examples:\n  cloudsmith-oidc exchange --output \"$WORKSPACE_TMP/cloudsmith.token\"   # 0600, atomic\n"+
		"  cloudsmith-oidc exchange --token-file \"$OIDC_TOKEN_FILE\" --output - --as json")
	o := a.register(fs, false)
	output := fs.String("output", "", "write the Cloudsmith token to FILE (0600, atomic) or - for stdout; without it the token is only cached and checked")
	format := fs.String("format", "", "not for exchange: package formats go to configure or exec --format (use --as for the token's encoding)")
	as := fs.String("as", "raw", "how to write the token: raw, json ({\"token\",\"expires_at\"}) or env (CLOUDSMITH_API_KEY=...)")
	pos, _, err := parse(fs, args, false)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("exchange takes no arguments (got %q); package formats go to configure or exec --format", pos[0])
	}
	if *format != "" {
		return usageError("exchange has no package formats (--format %q): use configure %s or exec --format %s; --as chooses how the token is written", *format, *format, *format)
	}
	switch *as {
	case "raw", "json", "env":
	default:
		return usageError("--as %q: use raw, json or env", *as)
	}
	s, err := a.exchange(ctx, o)
	if err != nil {
		return err
	}
	data, err := encodeToken(s, *as)
	if err != nil {
		return err
	}
	switch *output {
	case "":
		fmt.Fprintf(a.io.ErrOut, "%s: exchange ok%s: a Cloudsmith token for %s/%s valid until %s; add --output FILE (or -) to write it\n",
			a.prog, cachedNote(s), o.org, o.service, s.expiry.UTC().Format(time.RFC3339))
	case "-":
		if _, err := a.io.Out.Write(data); err != nil {
			return fmt.Errorf("writing the token to stdout: %w", err)
		}
	default:
		if err := securefile.WriteOutput(*output, data); err != nil {
			return err
		}
		fmt.Fprintf(a.io.ErrOut, "%s: wrote a Cloudsmith token%s to %s, valid until %s\n",
			a.prog, cachedNote(s), *output, s.expiry.UTC().Format(time.RFC3339))
	}
	return nil
}

func cachedNote(s *session) string {
	if s.cached {
		return " (cached)"
	}
	return ""
}

// encodeToken renders the token as --as asks, newline-terminated.
func encodeToken(s *session, as string) ([]byte, error) {
	switch as {
	case "json":
		b, err := json.Marshal(struct {
			Token     string `json:"token"`
			ExpiresAt string `json:"expires_at"`
		}{s.token, s.expiry.UTC().Format(time.RFC3339)})
		return append(b, '\n'), err
	case "env":
		return []byte("CLOUDSMITH_API_KEY=" + s.token + "\n"), nil
	}
	return []byte(s.token + "\n"), nil
}
