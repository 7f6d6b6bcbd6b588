package cloudsmithtest

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sendrule"
)

// issuerCache fetches and caches issuers' discovery documents and key sets
// the way real relying parties do (coreos/go-oidc): reuse within a TTL, and
// refetch once when a token names a kid the cached set lacks, so a key
// rotation (a re-saved Jenkins credential) takes effect immediately.
type issuerCache struct {
	client   *http.Client
	ttl      time.Duration
	insecure bool

	mu      sync.Mutex
	entries map[string]issuerEntry
}

type issuerEntry struct {
	jwksURI string
	keys    jwtutil.JWKS
	fetched time.Time
}

func newIssuerCache(cfg config) *issuerCache {
	hc := cfg.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return &issuerCache{client: hc, ttl: cfg.jwksTTL, insecure: cfg.insecureIssuers, entries: map[string]issuerEntry{}}
}

// key returns the public key kid of issuer iss.
func (ic *issuerCache) key(ctx context.Context, iss, kid string, now time.Time) (*rsa.PublicKey, error) {
	ic.mu.Lock()
	e, cached := ic.entries[iss]
	ic.mu.Unlock()
	if cached && now.Sub(e.fetched) < ic.ttl {
		if k, ok := e.keys.Find(kid); ok {
			return publicKey(k, iss)
		}
	}
	e, err := ic.fetch(ctx, iss)
	if err != nil {
		return nil, err
	}
	e.fetched = now
	ic.mu.Lock()
	ic.entries[iss] = e
	ic.mu.Unlock()
	k, ok := e.keys.Find(kid)
	if !ok {
		kids := make([]string, 0, len(e.keys.Keys))
		for _, k := range e.keys.Keys {
			kids = append(kids, k.Kid)
		}
		return nil, fmt.Errorf("no key with kid %q in the JWKS at %s (it has %q)", kid, e.jwksURI, kids)
	}
	return publicKey(k, iss)
}

func publicKey(k jwtutil.JWK, iss string) (*rsa.PublicKey, error) {
	if k.Use != "" && k.Use != "sig" {
		return nil, fmt.Errorf("key %q of issuer %q has use %q, not sig", k.Kid, iss, k.Use)
	}
	if k.Alg != "" && k.Alg != "RS256" {
		return nil, fmt.Errorf("key %q of issuer %q has alg %q, not RS256", k.Kid, iss, k.Alg)
	}
	pub, err := k.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("issuer %q: %w", iss, err)
	}
	if pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("key %q of issuer %q is only %d bits", k.Kid, iss, pub.N.BitLen())
	}
	return pub, nil
}

// fetch reads {iss}/.well-known/openid-configuration, checks its issuer is
// exactly iss, and reads its jwks_uri.
func (ic *issuerCache) fetch(ctx context.Context, iss string) (issuerEntry, error) {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	discURL := strings.TrimSuffix(iss, "/") + "/.well-known/openid-configuration"
	if err := ic.getJSON(ctx, discURL, &disc); err != nil {
		return issuerEntry{}, fmt.Errorf("discovery for issuer %q: %w", iss, err)
	}
	if disc.Issuer != iss {
		return issuerEntry{}, fmt.Errorf("discovery document at %s names issuer %q, not the token's iss %q", discURL, disc.Issuer, iss)
	}
	if disc.JWKSURI == "" {
		return issuerEntry{}, fmt.Errorf("discovery document at %s has no jwks_uri", discURL)
	}
	var keys jwtutil.JWKS
	if err := ic.getJSON(ctx, disc.JWKSURI, &keys); err != nil {
		return issuerEntry{}, fmt.Errorf("JWKS of issuer %q: %w", iss, err)
	}
	return issuerEntry{jwksURI: disc.JWKSURI, keys: keys}, nil
}

func (ic *issuerCache) getJSON(ctx context.Context, raw string, v any) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && (ic.insecure || sendrule.IsLoopback(u.Hostname())):
	case u.Scheme == "http":
		return fmt.Errorf("%s uses plain http on a non-loopback host; Cloudsmith fetches issuers over https", raw)
	default:
		return fmt.Errorf("%s: unsupported scheme %q", raw, u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := ic.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", raw, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %s", raw, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("GET %s: %w", raw, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: not JSON: %w", raw, err)
	}
	return nil
}
