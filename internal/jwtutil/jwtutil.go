// Package jwtutil signs and inspects the RS256 JSON Web Tokens that flow
// between Jenkins' oidc-provider plugin, Cloudsmith and this project.
//
// Signing and key encoding follow the plugin's source byte for byte where it
// matters to relying parties: the JWK's "n" and "e" are the base64url (no
// padding) of Java's BigInteger.toByteArray(), so a 2048-bit modulus carries
// a leading zero byte, exactly as Jenkins publishes it.
//
// Verification lives with the relying parties (the Cloudsmith emulator and
// coreos/go-oidc in tests); Decode here never checks a signature and is only
// for diagnostics.
package jwtutil

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Header is the JOSE header this package writes: the plugin sets alg, kid
// (the credential id) and typ.
type Header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

// JWK is one RSA public key as the oidc-provider plugin publishes it in its
// JWKS document, with the same field order.
type JWK struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKS is a JSON Web Key Set document.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// Sign returns a compact RS256 JWS of claims, with kid in the header.
// claims is marshalled with encoding/json, so pass an ordered struct or a
// json.RawMessage when claim order matters.
func Sign(key *rsa.PrivateKey, kid string, claims any) (string, error) {
	return SignWithHeader(key, Header{Kid: kid, Typ: "JWT"}, claims)
}

// SignWithHeader is Sign with the header given (Alg is always RS256), for
// issuers whose tokens carry no typ.
func SignWithHeader(key *rsa.PrivateKey, h Header, claims any) (string, error) {
	if key == nil {
		return "", errors.New("jwtutil: no signing key")
	}
	h.Alg = "RS256"
	hdr, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jwtutil: encoding claims: %w", err)
	}
	signingInput := b64(hdr) + "." + b64(body)
	sum := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("jwtutil: signing: %w", err)
	}
	return signingInput + "." + b64(sig), nil
}

// Verify checks an RS256 signature of token against pub and returns the
// decoded header and claims. It checks nothing else (no exp, iss or aud):
// relying parties apply their own rules.
func Verify(token string, pub *rsa.PublicKey) (Header, map[string]any, error) {
	hdr, claims, parts, err := decode(token)
	if err != nil {
		return hdr, nil, err
	}
	if hdr.Alg != "RS256" {
		return hdr, nil, fmt.Errorf("jwtutil: algorithm %q is not RS256", hdr.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return hdr, nil, fmt.Errorf("jwtutil: signature is not base64url: %w", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return hdr, nil, errors.New("jwtutil: signature does not verify with the published key")
	}
	return hdr, claims, nil
}

// Decode returns a token's header and claims without verifying anything.
// Use it only to explain a token to a person or to read a cache expiry.
func Decode(token string) (Header, map[string]any, error) {
	hdr, claims, _, err := decode(token)
	return hdr, claims, err
}

func decode(token string) (Header, map[string]any, []string, error) {
	var hdr Header
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return hdr, nil, nil, fmt.Errorf("jwtutil: a JWT has 3 dot-separated parts, this has %d", len(parts))
	}
	rawHdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return hdr, nil, nil, fmt.Errorf("jwtutil: header is not base64url: %w", err)
	}
	if err := json.Unmarshal(rawHdr, &hdr); err != nil {
		return hdr, nil, nil, fmt.Errorf("jwtutil: header is not JSON: %w", err)
	}
	rawClaims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return hdr, nil, nil, fmt.Errorf("jwtutil: payload is not base64url: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(rawClaims))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return hdr, nil, nil, fmt.Errorf("jwtutil: payload is not a JSON object: %w", err)
	}
	return hdr, claims, parts, nil
}

// PublicJWK encodes pub the way the oidc-provider plugin does (Keys.key):
// kty RSA, alg RS256, use sig, and n/e from BigInteger.toByteArray().
func PublicJWK(kid string, pub *rsa.PublicKey) JWK {
	return JWK{
		Kid: kid,
		Kty: "RSA",
		Alg: "RS256",
		Use: "sig",
		N:   b64(javaBigIntegerBytes(pub.N)),
		E:   b64(javaBigIntegerBytes(big.NewInt(int64(pub.E)))),
	}
}

// PublicKey decodes an RSA JWK back into a key. It accepts n/e with or
// without the leading zero byte.
func (k JWK) PublicKey() (*rsa.PublicKey, error) {
	if k.Kty != "RSA" {
		return nil, fmt.Errorf("jwtutil: key %q has kty %q, want RSA", k.Kid, k.Kty)
	}
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, fmt.Errorf("jwtutil: key %q: n is not base64url: %w", k.Kid, err)
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil {
		return nil, fmt.Errorf("jwtutil: key %q: e is not base64url: %w", k.Kid, err)
	}
	eInt := new(big.Int).SetBytes(e)
	if !eInt.IsInt64() || eInt.Int64() < 3 || eInt.Int64() > 1<<31-1 {
		return nil, fmt.Errorf("jwtutil: key %q: unusable exponent", k.Kid)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(eInt.Int64())}, nil
}

// Find returns the key with the given kid.
func (s JWKS) Find(kid string) (JWK, bool) {
	for _, k := range s.Keys {
		if k.Kid == kid {
			return k, true
		}
	}
	return JWK{}, false
}

// javaBigIntegerBytes mirrors java.math.BigInteger#toByteArray for positive
// values: big-endian two's complement, so a set top bit gains a 0x00 prefix.
func javaBigIntegerBytes(v *big.Int) []byte {
	b := v.Bytes()
	if len(b) == 0 {
		return []byte{0}
	}
	if b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
