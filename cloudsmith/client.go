package cloudsmith

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sendrule"
)

// DefaultAPIURL is Cloudsmith's public API.
const DefaultAPIURL = "https://api.cloudsmith.io"

// DefaultUserAgent identifies this project to Cloudsmith when
// Options.UserAgent is empty.
const DefaultUserAgent = "jenkins-cloudsmith-oidc"

// Options configures a Client. The zero value talks to DefaultAPIURL with
// proxies from the environment and the system roots.
type Options struct {
	// APIURL is the API base, e.g. https://api.cloudsmith.io or
	// https://api.cloudsmith.io/v1 (Terraform's default). It may carry a
	// path prefix (a reverse proxy). The exchange lives at the host root,
	// so a trailing /v1 is stripped for it, as Cloudsmith's Terraform
	// provider does; the management API is served under both.
	APIURL string
	// HTTPClient, when set, provides the bottom transport (its Transport,
	// or http.DefaultTransport when nil) and its Timeout; the client still
	// adds its own retry, logging, authentication and redirect policy on
	// top. Tests use it to trust an httptest TLS server.
	HTTPClient *http.Client
	// CABundle is a PEM file of extra roots to trust (ignored with
	// HTTPClient). TLS is always verified: there is no option to skip it.
	CABundle string
	// Proxy overrides HTTPS_PROXY/HTTP_PROXY/NO_PROXY (ignored with
	// HTTPClient).
	Proxy *url.URL
	// Logger receives one debug line per HTTP attempt (method, URL without
	// query values, status, duration; never headers or bodies).
	Logger *slog.Logger
	// APIKey authenticates the management API (X-Api-Key). It is sent only
	// to the API host, never to the exchange and never across a redirect.
	APIKey string
	// UserAgent is sent with every request; DefaultUserAgent when empty.
	UserAgent string

	// MaxAttempts bounds tries per request including the first (default 8;
	// 1 disables retries). RetryBudget is usually the tighter bound.
	MaxAttempts int
	// RetryBase and RetryCap shape the exponential backoff with full
	// jitter: sleep = rand[0, min(RetryCap, RetryBase·2^n)). Defaults 250ms
	// and 8s. A Retry-After header replaces the computed sleep.
	RetryBase, RetryCap time.Duration
	// RetryBudget bounds the whole time spent on one call, retries
	// included (default 60s). Exchange also never retries past the OIDC
	// token's own exp.
	RetryBudget time.Duration
	// DialTimeout and ResponseHeaderTimeout bound each attempt (defaults
	// 10s and 30s; ignored with HTTPClient).
	DialTimeout, ResponseHeaderTimeout time.Duration

	// Now is the clock used to explain expiry in errors; time.Now when nil.
	Now func() time.Time
}

// Client talks to Cloudsmith's OIDC exchange and management API. It is
// safe for concurrent use.
type Client struct {
	apiURL      *url.URL // management base (as configured, e.g. with /v1)
	exchangeURL *url.URL // host root (+ proxy prefix) for /openid/
	// exchange carries no credential at all; api adds X-Api-Key for the API
	// host only.
	exchange  *http.Client
	api       *http.Client
	hasKey    bool
	apiKey    string
	userAgent string
	budget    time.Duration
	now       func() time.Time
}

// NewClient builds a Client from layered round trippers: the base
// transport (CA bundle, proxy, timeouts, TLS always verified), a per-attempt
// log, retries with backoff, and host-scoped API-key authentication.
// Redirects to another host, or from https to http, are refused.
func NewClient(o Options) (*Client, error) {
	raw := o.APIURL
	if raw == "" {
		raw = DefaultAPIURL
	}
	api, err := parseAPIURL(raw)
	if err != nil {
		return nil, err
	}
	ex := *api
	ex.Path = strings.TrimSuffix(strings.TrimSuffix(api.Path, "/"), "/v1")
	ex.RawPath = ""

	base, timeout, err := baseTransport(o)
	if err != nil {
		return nil, err
	}
	// Per attempt: count, then log, then send.
	logged := &httpx.Log{Next: &countAttempts{next: base}, Logger: o.Logger}
	retry := retryLayer(o, logged)

	c := &Client{
		apiURL:      api,
		exchangeURL: &ex,
		hasKey:      o.APIKey != "",
		apiKey:      o.APIKey,
		userAgent:   o.UserAgent,
		budget:      retry.Budget,
		now:         o.Now,
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.exchange = &http.Client{Transport: retry, CheckRedirect: checkRedirect, Timeout: timeout}
	var authed http.RoundTripper = retry
	if o.APIKey != "" {
		key := o.APIKey
		authed = &httpx.HeaderAuth{Host: api.Host, Scheme: api.Scheme, Next: retry, Header: func() http.Header {
			return http.Header{"X-Api-Key": {key}}
		}}
		// HeaderAuth sits above Retry so that every attempt, and every
		// same-host redirect hop, is authenticated afresh.
	}
	c.api = &http.Client{Transport: authed, CheckRedirect: checkRedirect, Timeout: timeout}
	return c, nil
}

// baseTransport is the bottom layer and the client timeout: o.HTTPClient's
// (refused when it skips TLS verification), or a new httpx transport.
func baseTransport(o Options) (http.RoundTripper, time.Duration, error) {
	if o.HTTPClient != nil {
		base := o.HTTPClient.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		if t, ok := base.(*http.Transport); ok && t.TLSClientConfig != nil && t.TLSClientConfig.InsecureSkipVerify {
			return nil, 0, errors.New("cloudsmith: the HTTP client skips TLS verification; trust a CA bundle instead")
		}
		return base, o.HTTPClient.Timeout, nil
	}
	rht := o.ResponseHeaderTimeout
	if rht == 0 {
		rht = 30 * time.Second
	}
	t, err := httpx.NewTransport(httpx.Options{CABundle: o.CABundle, Proxy: o.Proxy, DialTimeout: o.DialTimeout, ResponseHeaderTimeout: rht})
	if err != nil {
		return nil, 0, fmt.Errorf("cloudsmith: %w", err)
	}
	return t, 0, nil
}

// retryLayer is the retry transport over next with o's knobs, Cloudsmith's
// defaults (8 attempts, 250ms..8s backoff, 60s budget) filled in.
func retryLayer(o Options, next http.RoundTripper) *httpx.Retry {
	r := &httpx.Retry{Next: next, MaxAttempts: o.MaxAttempts, Base: o.RetryBase, Cap: o.RetryCap, Budget: o.RetryBudget}
	if r.Budget <= 0 {
		r.Budget = 60 * time.Second
	}
	if r.Base <= 0 {
		r.Base = 250 * time.Millisecond
	}
	if r.Cap <= 0 {
		r.Cap = 8 * time.Second
	}
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 8
	}
	return r
}

// APIURL returns the management API base the client was configured with.
func (c *Client) APIURL() string { return c.apiURL.String() }

func parseAPIURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("cloudsmith: API URL %q is not a URL: %w", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("cloudsmith: API URL %q must start with https:// (or http:// for a local emulator)", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("cloudsmith: API URL %q has no host", raw)
	}
	if err := sendrule.Check(u, "cloudsmith: API URL", "OIDC token or API key"); err != nil {
		// The exchange posts the ID token and the management API sends
		// the key: neither may cross the network in clear.
		return nil, err
	}
	if u.User != nil {
		return nil, fmt.Errorf("cloudsmith: API URL %s must not carry credentials; use the API key option", httpx.SafeURL(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("cloudsmith: API URL %s must not have a query or fragment", httpx.SafeURL(u))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// checkRedirect follows same-host redirects only, and never from https
// down to http, so a credential can't leak to another host or in clear.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if err := httpx.SameHostRedirects(req, via); err != nil {
		return err
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return errors.New("refusing to follow a redirect from https to " + req.URL.Scheme)
	}
	return nil
}

// endpoint joins escaped path segments onto base, keeping its prefix and
// ending with a slash as Cloudsmith's routes do.
func endpoint(base *url.URL, segments ...string) *url.URL {
	u := *base
	var raw strings.Builder
	raw.WriteString(strings.TrimSuffix(base.EscapedPath(), "/"))
	for _, s := range segments {
		raw.WriteByte('/')
		raw.WriteString(url.PathEscape(s))
	}
	raw.WriteByte('/')
	p, err := url.PathUnescape(raw.String())
	if err != nil {
		p = raw.String()
	}
	u.Path, u.RawPath = p, raw.String()
	return &u
}
