package cloudsmithtest

import (
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkExchange measures one full exchange over loopback HTTP with the
// issuer's keys cached (signature check, claims, minting the new token).
func BenchmarkExchange(b *testing.B) {
	iss := newTestIssuer(b, "/oidc")
	key := testKeys()[0]
	iss.publish(map[string]*rsa.PrivateKey{"k": key})
	s, err := Start()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	trust(b, s.Cloudsmith, iss.URL, map[string]any{"aud": "cloudsmith"})
	now := time.Now()
	oidc := mint(b, key, "k", map[string]any{"iss": iss.URL, "aud": "cloudsmith", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	body := exchangeBody(oidc, "jenkins")
	client := &http.Client{}
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Post(s.APIURL+"/openid/acme/", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			b.Fatalf("status %d: %s", resp.StatusCode, s.Cloudsmith.LastExchangeFailure())
		}
	}
}
