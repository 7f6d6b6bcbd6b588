package cloudsmith

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// Sentinel errors, matched with errors.Is against *ExchangeError and
// *APIError by status class.
var (
	// ErrInvalidInput: a caller-supplied value was rejected before anything
	// was sent (empty org, a service name instead of a slug, a token that is
	// not a JWT).
	ErrInvalidInput = errors.New("invalid input")
	// ErrUnauthorized: 401. For the exchange, Cloudsmith rejected the OIDC
	// token; for the management API, the API key.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: 403, the credential lacks a role.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: 404, e.g. the organization does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidRequest: 400 or 422, with Detail and Fields saying what.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrRateLimited: 429 that outlasted the retry budget.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable: 5xx or a network error that outlasted the retry budget.
	ErrUnavailable = errors.New("unavailable")
	// ErrBadResponse: a 2xx that is not the JSON Cloudsmith documents (an
	// HTML page from a proxy, or no token).
	ErrBadResponse = errors.New("unexpected response")
)

// sentinel maps an HTTP status (0 = network error) to its sentinel.
func sentinel(status int) error {
	switch {
	case status == 0 || status >= 500:
		return ErrUnavailable
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return ErrInvalidRequest
	case status >= 200 && status < 300:
		return ErrBadResponse
	}
	return nil
}

// ExchangeError explains a failed OIDC token exchange with everything the
// client can see, since Cloudsmith's own 401 is deliberately generic. It
// never holds the OIDC token or the signature, only decoded claims.
type ExchangeError struct {
	// Status is the HTTP status of the last attempt; 0 for a network error.
	Status int
	// Detail is Cloudsmith's "detail" (masked), or a short excerpt of a
	// non-JSON body.
	Detail string
	// Fields are Cloudsmith's per-field errors (422), masked.
	Fields map[string][]string
	// Org, Service and APIURL are what was asked; APIURL is the exchange base.
	Org, Service, APIURL string
	// Claims are decoded from the OIDC token that was sent.
	Claims Claims
	// Attempts is the number of HTTP attempts made; Elapsed their total time.
	Attempts int
	// LastStatus is the status of the last attempt that got an answer, which
	// differs from Status when a later attempt failed on the network.
	LastStatus int
	Elapsed    time.Duration
	// RetryAfter is the last Retry-After the server asked for, if any.
	RetryAfter string
	// Err is the underlying network or decoding error, if any.
	Err error
	// Now is when the error was made, to say whether exp had passed.
	Now time.Time
}

// Error explains what failed and what to check.
func (e *ExchangeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cloudsmith: exchanging the OIDC token for service %q in org %q at %s failed: ", e.Service, e.Org, e.APIURL)
	switch {
	case e.Status == 0:
		fmt.Fprintf(&b, "could not reach Cloudsmith%s: %v", e.attempts(), e.Err)
		if errors.Is(e.Err, context.DeadlineExceeded) {
			b.WriteString(" (the retry budget ran out)")
		}
		if e.LastStatus != 0 {
			fmt.Fprintf(&b, "; the last answer was %d %s", e.LastStatus, http.StatusText(e.LastStatus))
		}
		b.WriteString("\n  check the API URL, the proxy settings (HTTPS_PROXY, NO_PROXY) and, for a custom CA, the CA bundle")
	case e.Status >= 200 && e.Status < 300:
		fmt.Fprintf(&b, "Cloudsmith answered %d but not with a token: %v", e.Status, e.Err)
		if e.Detail != "" {
			fmt.Fprintf(&b, "; the body starts %q", e.Detail)
		}
		b.WriteString("\n  is the API URL Cloudsmith's (not a web UI, proxy or login page)?")
	case e.Status == http.StatusUnauthorized:
		e.explainUnauthorized(&b)
	case e.Status == http.StatusNotFound:
		fmt.Fprintf(&b, "404 Not Found: %s: organization %q was not found (check the org slug and the API URL)", e.detail("Not found."), e.Org)
	case e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity:
		fmt.Fprintf(&b, "%d %s: %s", e.Status, http.StatusText(e.Status), e.detail("Missing or invalid parameters."))
		writeFields(&b, e.Fields)
	case e.Status == http.StatusTooManyRequests:
		fmt.Fprintf(&b, "429 rate limited%s", e.attempts())
		if e.RetryAfter != "" {
			fmt.Fprintf(&b, " (the server asked to wait %ss, beyond the retry budget or the OIDC token's expiry)", e.RetryAfter)
		}
	case e.Status >= 500:
		fmt.Fprintf(&b, "Cloudsmith is unavailable: %d %s%s", e.Status, e.detail(http.StatusText(e.Status)), e.attempts())
	default:
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
		if e.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.Detail)
		}
		writeFields(&b, e.Fields)
	}
	return b.String()
}

func (e *ExchangeError) explainUnauthorized(b *strings.Builder) {
	now := e.Now
	if now.IsZero() {
		now = time.Now()
	}
	c := e.Claims
	fmt.Fprintf(b, "401 Unauthorized: %s\nCloudsmith does not say which check failed, by design. The OIDC token it was sent has:%s", e.detail("OIDC token cannot be authenticated."), c.describe(now))
	b.WriteString("\nLikely causes:")
	var causes []string
	expired := !c.Expiry.IsZero() && !now.Before(c.Expiry)
	future := !c.IssuedAt.IsZero() && c.IssuedAt.After(now.Add(5*time.Second))
	if expired {
		causes = append(causes, fmt.Sprintf("the OIDC token expired %s ago (exp above): mint a fresh one right before the exchange", now.Sub(c.Expiry).Round(time.Second)))
	}
	if future {
		causes = append(causes, fmt.Sprintf("clock skew: iat is %s in the future; check NTP on Jenkins and on this agent", c.IssuedAt.Sub(now).Round(time.Second)))
	}
	causes = append(causes,
		fmt.Sprintf("the provider URL of an enabled OIDC provider in org %q is not exactly the iss %s (scheme, path and trailing slash count)", e.Org, orNone(c.Issuer)),
		fmt.Sprintf("a required claim of that provider is not satisfied (this token has aud %s, sub %s; values match exactly, or by prefix with a trailing \".*\")", audString(c.Audience), orNone(c.Subject)),
		fmt.Sprintf("service %q is not one of that provider's service accounts, or is not its slug (slugs may carry a random suffix, e.g. jenkins-dvha)", e.Service),
		fmt.Sprintf("Cloudsmith cannot fetch %s/.well-known/openid-configuration or its JWKS from the internet, or the JWKS lacks kid %s (re-saving a Jenkins credential rotates its key)", strings.TrimSuffix(c.Issuer, "/"), orNone(c.KeyID)),
	)
	if !expired && !future {
		causes = append(causes, "clock skew between Jenkins and Cloudsmith (compare exp and iat above with the current time)")
	}
	for _, s := range causes {
		b.WriteString("\n  - ")
		b.WriteString(s)
	}
}

func audString(aud []string) string {
	switch len(aud) {
	case 0:
		return "(none)"
	case 1:
		return fmt.Sprintf("%q", aud[0])
	}
	return fmt.Sprintf("%q", aud)
}

func (e *ExchangeError) detail(def string) string {
	if e.Detail != "" {
		return e.Detail
	}
	return def
}

func (e *ExchangeError) attempts() string {
	if e.Attempts <= 1 {
		return ""
	}
	return fmt.Sprintf(" after %d attempts over %s", e.Attempts, e.Elapsed.Round(time.Millisecond))
}

// Unwrap returns the underlying network or decoding error.
func (e *ExchangeError) Unwrap() error { return e.Err }

// Is matches the sentinel for the status class (errors.Is(err, ErrUnauthorized)).
func (e *ExchangeError) Is(target error) bool {
	return target != nil && sentinel(e.Status) == target
}

// APIError is a failed management API call, carrying Cloudsmith's
// {"detail", "fields"} error body.
type APIError struct {
	Method string
	// URL is the request URL without query values.
	URL    string
	Status int
	Detail string
	Fields map[string][]string
	// Err is the underlying network or decoding error, if any.
	Err error
}

// Temporary reports whether the same request may succeed later: a 429 or
// 5xx answer, or no answer at all for a reason other than a certificate
// that does not verify (which fails the same way every time).
func (e *APIError) Temporary() bool {
	if e.Status == 0 {
		var cert *tls.CertificateVerificationError
		return !errors.As(e.Err, &cert)
	}
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Error says what failed and, for auth failures, what to fix.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cloudsmith: %s %s: ", e.Method, e.URL)
	if e.Status == 0 {
		fmt.Fprintf(&b, "%v", e.Err)
		return b.String()
	}
	fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	writeFields(&b, e.Fields)
	switch e.Status {
	case http.StatusUnauthorized:
		b.WriteString("\n  check the Cloudsmith API key (sent as X-Api-Key): it is missing, mistyped, revoked or expired")
	case http.StatusForbidden:
		if strings.HasSuffix(e.URL, "/privileges") {
			// Cloudsmith: Admin "can manage ... privileges"; Managers have
			// "no access to artifacts" until granted (DOCS repositories/
			// repository-privileges.mdx, workspaces/privileges.mdx).
			b.WriteString("\n  the API key's account needs the Admin privilege on the repository to manage its privileges: an Owner's key has it; a Manager's needs it granted in the repository's Access Controls")
			break
		}
		b.WriteString("\n  the API key's account needs the Owner or Manager role in the organization to manage services and OIDC providers")
	}
	return b.String()
}

// Unwrap returns the underlying network or decoding error.
func (e *APIError) Unwrap() error { return e.Err }

// Is matches the sentinel for the status class.
func (e *APIError) Is(target error) bool {
	return target != nil && sentinel(e.Status) == target
}

func writeFields(b *strings.Builder, fields map[string][]string) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "\n  %s: %s", k, strings.Join(fields[k], "; "))
	}
}

// tokenish matches strings that look like credentials: JWTs (three
// base64url parts) and long opaque keys (Cloudsmith API keys are 40 hex
// characters).
// "/" is left out so that long URL paths in a proxy's page stay readable.
var tokenish = regexp.MustCompile(`[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}|[A-Za-z0-9+_\-]{32,}={0,2}`)

// mask hides known secrets and anything that looks like a token.
func mask(s string, secrets ...string) string {
	s = redact.String(s, secrets...)
	return tokenish.ReplaceAllString(s, redact.Mask)
}

// excerpt renders at most max characters of a body for an error: whitespace
// collapsed, credentials masked before truncation so a cut can't expose a
// token's prefix.
func excerpt(body []byte, max int, secrets ...string) string {
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	s = mask(s, secrets...)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}

// maskFields masks every message of a 422's fields.
func maskFields(f map[string][]string, secrets ...string) map[string][]string {
	if len(f) == 0 {
		return nil
	}
	out := make(map[string][]string, len(f))
	for k, vs := range f {
		for _, v := range vs {
			out[mask(k, secrets...)] = append(out[mask(k, secrets...)], mask(v, secrets...))
		}
	}
	return out
}
