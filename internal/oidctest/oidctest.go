// Package oidctest is a minimal OpenID Connect issuer for tests and
// benchmarks: it serves a discovery document and a JWKS on loopback, the
// way a custom issuer for Jenkins' oidc-provider plugin serves two static
// files, and mints RS256 ID tokens with the plugin's claim shape.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
)

// Issuer is a running issuer.
type Issuer struct {
	// URL is the issuer (the "iss" claim and a Cloudsmith provider URL),
	// without a trailing slash.
	URL string
	// Kid is the key id, as the plugin uses the credential id.
	Kid string

	key *rsa.PrivateKey
	srv *http.Server
}

// Start runs an issuer on 127.0.0.1 with a fresh 2048-bit key.
func Start(kid string) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	is := &Issuer{URL: "http://" + ln.Addr().String(), Kid: kid, key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                is.URL,
			"jwks_uri":                              is.URL + "/jwks",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, jwtutil.JWKS{Keys: []jwtutil.JWK{jwtutil.PublicJWK(kid, &key.PublicKey)}})
	})
	is.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = is.srv.Serve(ln) }()
	return is, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Mint signs an ID token with iss, aud, sub, iat and exp (one hour), as
// the plugin does, overridden or extended by extra.
func (is *Issuer) Mint(aud, sub string, extra map[string]any) (string, error) {
	now := time.Now()
	claims := map[string]any{
		"iss": is.URL, "aud": aud, "sub": sub,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	for k, v := range extra {
		claims[k] = v
	}
	return jwtutil.Sign(is.key, is.Kid, claims)
}

// Close stops the issuer.
func (is *Issuer) Close() error {
	if is == nil || is.srv == nil {
		return errors.New("oidctest: not started")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := is.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("oidctest: %w", err)
	}
	return nil
}
