package cloudsmith

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
)

// FallbackLifetime is assumed for a returned token whose exp can't be read,
// as Cloudsmith's Terraform provider does.
const FallbackLifetime = 15 * time.Minute

// maxBody bounds how much of a response is read.
const maxBody = 1 << 20

// Token is a short-lived Cloudsmith API token. Its formatting methods never
// print Value, so a Token can be logged or wrapped in an error safely; use
// Value explicitly where the secret is meant to go.
type Token struct {
	Value  string
	Expiry time.Time
}

// String describes the token without its value.
func (t Token) String() string {
	if t.Expiry.IsZero() {
		return "cloudsmith.Token{****}"
	}
	return "cloudsmith.Token{**** expires " + t.Expiry.UTC().Format(time.RFC3339) + "}"
}

// GoString is String, so %#v can't print the value either.
func (t Token) GoString() string { return t.String() }

// Format makes every fmt verb (%v, %+v, %s, %q, %x, ...) print String.
func (t Token) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// MarshalJSON emits only the expiry.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Expiry time.Time `json:"expiry"`
	}{t.Expiry})
}

// LogValue keeps the value out of slog output.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// slugRE is Cloudsmith's slug pattern (OpenAPI: ^[-a-zA-Z0-9_]+$).
var slugRE = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)

// Exchange trades an OIDC ID token (from Jenkins' oidc-provider plugin)
// for a Cloudsmith token for service in org: POST {api}/openid/{org}/.
//
// Network errors, 429 (honouring Retry-After) and 5xx are retried with
// exponential backoff and full jitter, within the client's retry budget and
// never past the OIDC token's own exp; other 4xx fail at once. Failures
// are *ExchangeError, explaining what to fix; errors.Is matches
// ErrUnauthorized, ErrNotFound, ErrInvalidRequest, ErrRateLimited,
// ErrUnavailable, ErrBadResponse or ErrInvalidInput.
func (c *Client) Exchange(ctx context.Context, org, service, oidcToken string) (*Token, error) {
	oidcToken = strings.TrimSpace(oidcToken)
	claims, err := validateExchange(org, service, oidcToken)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(struct {
		OIDCToken   string `json:"oidc_token"`
		ServiceSlug string `json:"service_slug"`
	}{oidcToken, service})
	if err != nil {
		return nil, fmt.Errorf("cloudsmith: encoding the exchange request: %w", err)
	}
	u := endpoint(c.exchangeURL, "openid", org)

	ctx, cancel := context.WithTimeout(ctx, c.budget)
	defer cancel()
	ctx = httpx.WithRetryable(ctx) // the exchange only mints a token: safe to repeat
	if !claims.Expiry.IsZero() {
		// Retrying with an expired token can only fail.
		ctx = httpx.WithDeadline(ctx, claims.Expiry)
	}
	var tries attempts
	ctx = context.WithValue(ctx, attemptsKey{}, &tries)

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("cloudsmith: building the exchange request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)

	start := time.Now()
	fail := func(status int, err error) *ExchangeError {
		return &ExchangeError{
			Status: status, Err: err, Org: org, Service: service,
			APIURL: c.exchangeURL.String(), Claims: claims,
			Attempts: int(tries.n.Load()), LastStatus: int(tries.lastStatus.Load()),
			Elapsed: time.Since(start), Now: c.now(),
		}
	}
	resp, err := c.exchange.Do(req)
	if err != nil {
		return nil, fail(0, scrubURLError(err))
	}
	defer resp.Body.Close()
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var out struct {
			Token string `json:"token"`
		}
		switch {
		case rerr != nil:
			return nil, fail(resp.StatusCode, fmt.Errorf("reading the response: %w", rerr))
		case json.Unmarshal(raw, &out) != nil:
			e := fail(resp.StatusCode, fmt.Errorf("%w: the body is not JSON (Content-Type %q)", ErrBadResponse, resp.Header.Get("Content-Type")))
			e.Detail = excerpt(raw, 200, oidcToken)
			return nil, e
		case strings.TrimSpace(out.Token) == "":
			return nil, fail(resp.StatusCode, fmt.Errorf("%w: the response has no \"token\"", ErrBadResponse))
		}
		tok := &Token{Value: strings.TrimSpace(out.Token)}
		if rc, err := ParseClaims(tok.Value); err == nil && !rc.Expiry.IsZero() {
			tok.Expiry = rc.Expiry
		} else {
			tok.Expiry = c.now().Add(FallbackLifetime)
		}
		return tok, nil
	}

	e := fail(resp.StatusCode, nil)
	e.RetryAfter = resp.Header.Get("Retry-After")
	e.Detail, e.Fields = parseErrorBody(raw, oidcToken)
	return nil, e
}

// validateExchange checks the inputs before anything is sent, with errors
// that name the value to fix but never echo the token.
func validateExchange(org, service, token string) (Claims, error) {
	switch {
	case strings.TrimSpace(org) == "":
		return Claims{}, fmt.Errorf("cloudsmith: %w: no organization given (set CLOUDSMITH_ORG or --org to the org's slug)", ErrInvalidInput)
	case !slugRE.MatchString(org):
		return Claims{}, fmt.Errorf("cloudsmith: %w: organization %q is not a slug (letters, digits, '-' and '_'); use the slug from the org's URL", ErrInvalidInput, org)
	case strings.TrimSpace(service) == "":
		return Claims{}, fmt.Errorf("cloudsmith: %w: no service account given (set CLOUDSMITH_SERVICE_SLUG or --service to the service's slug)", ErrInvalidInput)
	case !slugRE.MatchString(service):
		return Claims{}, fmt.Errorf("cloudsmith: %w: service %q is not a slug (letters, digits, '-' and '_'); use the service account's slug, not its name", ErrInvalidInput, service)
	case token == "":
		return Claims{}, fmt.Errorf("cloudsmith: %w: the OIDC token is empty (is the oidc-provider credential bound, e.g. to $OIDC_TOKEN?)", ErrInvalidInput)
	}
	claims, err := ParseClaims(token)
	if err != nil {
		return Claims{}, fmt.Errorf("cloudsmith: %w: the OIDC token is not a JWT (%d characters): %v; bind an \"OpenID Connect id token\" credential", ErrInvalidInput, len(token), err)
	}
	return claims, nil
}

// parseErrorBody reads Cloudsmith's {"detail", "fields"} (or a bare
// {"error"}), falling back to a masked excerpt of a non-JSON body.
func parseErrorBody(raw []byte, secrets ...string) (string, map[string][]string) {
	var body struct {
		Detail any                        `json:"detail"`
		Error  any                        `json:"error"`
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return "", nil
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return "(non-JSON body) " + excerpt(raw, 200, secrets...), nil
	}
	detail := body.Detail
	if detail == nil {
		detail = body.Error
	}
	var d string
	switch v := detail.(type) {
	case nil:
	case string:
		d = v
	default:
		b, _ := json.Marshal(v)
		d = string(b)
	}
	fields := map[string][]string{}
	for k, v := range body.Fields {
		var list []string
		if json.Unmarshal(v, &list) != nil {
			var one string
			if json.Unmarshal(v, &one) == nil {
				list = []string{one}
			} else {
				list = []string{string(v)}
			}
		}
		fields[k] = list
	}
	return excerpt([]byte(d), 500, secrets...), maskFields(fields, secrets...)
}

// scrubURLError drops *url.Error's "Post \"url\":" prefix: the error
// already names the API URL, and the cause is what the user needs.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

type attemptsKey struct{}

// attempts is what countAttempts learns about one call.
type attempts struct {
	n          atomic.Int32
	lastStatus atomic.Int32 // status of the last attempt that got an answer
}

// countAttempts counts the HTTP attempts of one call (the counter lives in
// the request context), so errors can say how many were made and what the
// last answer was when the budget ran out mid-attempt.
type countAttempts struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (a *countAttempts) RoundTrip(req *http.Request) (*http.Response, error) {
	at, _ := req.Context().Value(attemptsKey{}).(*attempts)
	if at != nil {
		at.n.Add(1)
	}
	resp, err := a.next.RoundTrip(req)
	if at != nil && resp != nil {
		at.lastStatus.Store(int32(resp.StatusCode))
	}
	return resp, err
}
