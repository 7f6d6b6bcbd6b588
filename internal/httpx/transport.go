// Package httpx builds the HTTP clients both of this project's API clients
// use, as layers of http.RoundTripper in the style of go-containerregistry's
// transport package: TLS and proxy at the bottom, then logging, retry, and
// host-scoped authentication on top. Each layer does one job and can be
// tested on its own.
package httpx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Options configures the base transport.
type Options struct {
	// CABundle is a PEM file of extra trusted roots, added to the system
	// pool (as SSL_CERT_FILE would, but per client).
	CABundle string
	// Proxy overrides the proxy from the environment (HTTPS_PROXY,
	// HTTP_PROXY, NO_PROXY) when set.
	Proxy *url.URL
	// DialTimeout bounds connection set-up; ResponseHeaderTimeout bounds the
	// wait for a response. Zero means the defaults (10s and 60s).
	DialTimeout           time.Duration
	ResponseHeaderTimeout time.Duration
}

// NewTransport returns the bottom layer: TLS always verified (there is no
// option to turn it off), extra roots from CABundle, proxies from the
// environment.
func NewTransport(o Options) (*http.Transport, error) {
	dial := o.DialTimeout
	if dial == 0 {
		dial = 10 * time.Second
	}
	hdr := o.ResponseHeaderTimeout
	if hdr == 0 {
		hdr = 60 * time.Second
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CABundle != "" {
		pem, err := os.ReadFile(o.CABundle)
		if err != nil {
			return nil, fmt.Errorf("reading CA bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", o.CABundle)
		}
		tlsConf.RootCAs = pool
	}
	proxy := http.ProxyFromEnvironment
	if o.Proxy != nil {
		proxy = http.ProxyURL(o.Proxy)
	}
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   dial,
		ResponseHeaderTimeout: hdr,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}, nil
}

// NoFollow is a CheckRedirect that hands redirects back to the caller, for
// APIs (like Jenkins' doDelete and createItem) whose 302 is the answer.
func NoFollow(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// SameHostRedirects is a CheckRedirect that follows at most 10 redirects
// and refuses to follow one to another host, or from https down to http,
// so that credentials added by an auth layer can never reach a host they
// were not meant for, nor cross the network in clear.
func SameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("refusing to follow a redirect from %s to another host (%s)", via[0].URL.Host, req.URL.Host)
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("refusing to follow a redirect from https to %s on %s (is the server's root URL set to http?)", req.URL.Scheme, req.URL.Host)
	}
	return nil
}
