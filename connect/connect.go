// Package connect builds the clients for the systems a spec names: the
// Jenkins controller, Cloudsmith (the OIDC exchange, and the management
// API when the spec has an API key) and the HTTP client that fetches an
// issuer's documents as Cloudsmith would. It is the one place that turns
// the spec's connection settings (URLs, CA bundles, proxies, secrets)
// into clients, so every command and workflow talks through the same
// ones: a setting honoured by one is honoured by all.
package connect

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sendrule"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// Options tune the clients.
type Options struct {
	// Logger receives one line per HTTP request to Jenkins and Cloudsmith;
	// nil logs nothing.
	Logger *slog.Logger
	// IssuerCABundle adds roots for fetching an issuer's documents behind
	// a private CA.
	IssuerCABundle string
}

// Clients builds each client of a spec once, when it is first asked for,
// and hands out that one thereafter; building makes no request. It is
// safe for concurrent use.
type Clients struct {
	spec *spec.Spec
	o    Options

	jenkins    lazy[*jenkins.Client]
	cloudsmith lazy[*cloudsmith.Client]
	issuer     lazy[*http.Client]
}

// New returns the clients of s. Relative CA bundle paths are relative to
// the spec file.
func New(s *spec.Spec, o Options) *Clients { return &Clients{spec: s, o: o} }

// Jenkins is the client of the spec's controller.
func (c *Clients) Jenkins() (*jenkins.Client, error) {
	return c.jenkins.get(func() (*jenkins.Client, error) {
		s := c.spec
		cfg := jenkins.Config{URL: s.Jenkins.URL, User: s.Jenkins.User, Token: s.Jenkins.Token.Value(),
			CABundle: s.Resolve(s.Jenkins.CABundle), Logger: c.o.Logger}
		var err error
		if cfg.Proxy, err = proxyURL("jenkins.proxy", s.Jenkins.Proxy); err != nil {
			return nil, err
		}
		return jenkins.New(cfg)
	})
}

// Cloudsmith is the Cloudsmith client: its OIDC exchange carries no
// credential, and its management API the spec's API key when there is one
// (see HasAPIKey). Both go through cloudsmith.proxy and trust
// cloudsmith.ca_bundle.
func (c *Clients) Cloudsmith() (*cloudsmith.Client, error) {
	return c.cloudsmith.get(func() (*cloudsmith.Client, error) {
		s := c.spec
		proxy, err := proxyURL("cloudsmith.proxy", s.Cloudsmith.Proxy)
		if err != nil {
			return nil, err
		}
		cc, err := cloudsmith.NewClient(cloudsmith.Options{APIURL: s.Cloudsmith.API(), APIKey: s.Cloudsmith.APIKey.Value(),
			CABundle: s.Resolve(s.Cloudsmith.CABundle), Proxy: proxy, Logger: c.o.Logger})
		if err != nil {
			return nil, fmt.Errorf("cloudsmith client: %w", err)
		}
		return cc, nil
	})
}

// HasAPIKey reports whether the spec lets the Cloudsmith client use the
// management API (cloudsmith.api_key is set).
func (c *Clients) HasAPIKey() bool { return c.spec.Cloudsmith.APIKey.Value() != "" }

// Issuer is the HTTP client that fetches an issuer's discovery documents
// as Cloudsmith does: TLS verified against the system roots plus
// Options.IssuerCABundle, plain http only to loopback, at most 5
// redirects, each one checked the same way.
func (c *Clients) Issuer() (*http.Client, error) {
	return c.issuer.get(func() (*http.Client, error) {
		hc, err := IssuerClient(c.o.IssuerCABundle)
		if err != nil {
			return nil, fmt.Errorf("issuer client: %w", err)
		}
		return hc, nil
	})
}

// IssuerClient is the client Clients.Issuer returns, for a CA bundle.
func IssuerClient(caBundle string) (*http.Client, error) {
	t, err := httpx.NewTransport(httpx.Options{CABundle: caBundle, DialTimeout: 10 * time.Second, ResponseHeaderTimeout: 15 * time.Second})
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t, Timeout: 15 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return IssuerURLAllowed(req.URL)
	}}, nil
}

// IssuerURLAllowed refuses plain http except to loopback (an emulated or
// local setup): Cloudsmith fetches issuers over https.
func IssuerURLAllowed(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && sendrule.IsLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%s uses plain http on a remote host; Cloudsmith only fetches issuers over https", httpx.SafeURL(u))
	}
	return fmt.Errorf("%s: scheme %q is not https", httpx.SafeURL(u), u.Scheme)
}

// proxyURL parses a proxy setting; empty means the environment's.
func proxyURL(field, value string) (*url.URL, error) {
	if value == "" {
		return nil, nil
	}
	u, err := url.Parse(value)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", field, value, err)
	}
	return u, nil
}

// lazy holds a value built on first use; a build error is kept and
// returned on every later use, so a client is never built twice.
type lazy[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (l *lazy[T]) get(build func() (T, error)) (T, error) {
	l.once.Do(func() { l.v, l.err = build() })
	return l.v, l.err
}
