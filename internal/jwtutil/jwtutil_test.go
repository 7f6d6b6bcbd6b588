package jwtutil

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"iss": "https://jenkins.example.com/oidc", "aud": []string{"jenkins"}, "build_number": 7}
	tok, err := Sign(key, "oidc-token-cred", claims)
	if err != nil {
		t.Fatal(err)
	}
	hdr, got, err := Verify(tok, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Alg != "RS256" || hdr.Kid != "oidc-token-cred" || hdr.Typ != "JWT" {
		t.Errorf("header = %+v", hdr)
	}
	if got["iss"] != "https://jenkins.example.com/oidc" || got["build_number"].(json.Number).String() != "7" {
		t.Errorf("claims = %v", got)
	}

	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, _, err := Verify(tok, &other.PublicKey); err == nil {
		t.Error("verified with the wrong key")
	}
	parts := strings.Split(tok, ".")
	if _, _, err := Verify(parts[0]+"."+parts[1]+"."+parts[2][:len(parts[2])-2]+"AA", &key.PublicKey); err == nil {
		t.Error("verified a tampered signature")
	}
}

func TestPublicJWKMatchesPluginEncoding(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := PublicJWK("cred", &key.PublicKey)
	// BigInteger.toByteArray of a 2048-bit modulus is 257 bytes (leading
	// 0x00), which base64url-encodes to 343 characters starting with 'A'.
	if len(jwk.N) != 343 || jwk.N[0] != 'A' {
		t.Errorf("n has %d chars starting %q, want 343 starting 'A'", len(jwk.N), jwk.N[:1])
	}
	if jwk.E != "AQAB" || jwk.Kty != "RSA" || jwk.Alg != "RS256" || jwk.Use != "sig" {
		t.Errorf("jwk = %+v", jwk)
	}
	b, _ := json.Marshal(jwk)
	if !strings.HasPrefix(string(b), `{"kid":"cred","kty":"RSA","alg":"RS256","use":"sig","n":"`) {
		t.Errorf("field order differs from the plugin's: %s", b)
	}
	pub, err := jwk.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if pub.N.Cmp(key.N) != 0 || pub.E != key.E {
		t.Error("round trip changed the key")
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tok := range []string{"", "a.b", "!!!.e30.x", "e30.!!!.x", "bm90anNvbg.e30.x", "e30.bm90anNvbg.x"} {
		if _, _, err := Decode(tok); err == nil {
			t.Errorf("Decode(%q) succeeded", tok)
		}
	}
}
