package cloudsmith

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
)

// Claims are the parts of an OIDC ID token that decide whether Cloudsmith
// accepts it. They are read without verifying the signature, only to
// explain a failure; none of them is secret.
type Claims struct {
	Issuer   string    // iss: must equal the provider URL exactly
	Audience []string  // aud: a string or an array in the token
	Subject  string    // sub
	Expiry   time.Time // exp; zero when absent
	IssuedAt time.Time // iat; zero when absent
	KeyID    string    // kid from the header: the key Cloudsmith looks up in the JWKS
	// Algorithm is the header's alg (Jenkins signs RS256).
	Algorithm string
}

// ParseClaims decodes token (a compact JWT) without verifying it. The error
// never contains the token.
func ParseClaims(token string) (Claims, error) {
	hdr, m, err := jwtutil.Decode(token)
	if err != nil {
		return Claims{}, err
	}
	c := Claims{KeyID: hdr.Kid, Algorithm: hdr.Alg}
	c.Issuer, _ = m["iss"].(string)
	c.Subject, _ = m["sub"].(string)
	switch a := m["aud"].(type) {
	case string:
		c.Audience = []string{a}
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok {
				c.Audience = append(c.Audience, s)
			}
		}
	}
	c.Expiry = numericDate(m["exp"])
	c.IssuedAt = numericDate(m["iat"])
	return c, nil
}

// numericDate reads a JWT NumericDate (seconds since the epoch, possibly
// fractional); zero when absent or unreadable.
func numericDate(v any) time.Time {
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return time.Time{}
		}
	case float64:
		f = n
	default:
		return time.Time{}
	}
	if f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > 1e12 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// describe renders the claims one per line for an error message.
func (c Claims) describe(now time.Time) string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "\n    %-4s %s", k+":", v) }
	line("iss", orNone(c.Issuer))
	switch len(c.Audience) {
	case 0:
		line("aud", "(none)")
	case 1:
		line("aud", fmt.Sprintf("%q", c.Audience[0]))
	default:
		line("aud", fmt.Sprintf("%q", c.Audience))
	}
	line("sub", orNone(c.Subject))
	line("exp", stamp(c.Expiry, now))
	line("iat", stamp(c.IssuedAt, now))
	line("kid", orNone(c.KeyID))
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", s)
}

func stamp(t, now time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	d := t.Sub(now).Round(time.Second)
	switch {
	case d < 0:
		return fmt.Sprintf("%s (%s ago)", t.Format(time.RFC3339), -d)
	case d > 0:
		return fmt.Sprintf("%s (in %s)", t.Format(time.RFC3339), d)
	}
	return t.Format(time.RFC3339) + " (now)"
}
