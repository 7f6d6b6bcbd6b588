package cloudsmithtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
)

// testKeys are generated once: RSA key generation dominates test time.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// testIssuer is a tiny OIDC issuer in the shape of Jenkins' oidc-provider
// plugin: {iss}/.well-known/openid-configuration and {iss}/jwks.
type testIssuer struct {
	srv *httptest.Server
	URL string // the iss value

	mu         sync.Mutex
	published  map[string]*rsa.PrivateKey // kid → key in the JWKS
	discIssuer string                     // issuer claimed by discovery; "" = URL

	discHits, jwksHits atomic.Int32
}

func newTestIssuer(t testing.TB, path string) *testIssuer {
	t.Helper()
	return startTestIssuer(t, path, false)
}

// newTLSTestIssuer serves the issuer over https with httptest's certificate.
func newTLSTestIssuer(t testing.TB, path string) *testIssuer {
	t.Helper()
	return startTestIssuer(t, path, true)
}

func startTestIssuer(t testing.TB, path string, useTLS bool) *testIssuer {
	t.Helper()
	ti := &testIssuer{published: map[string]*rsa.PrivateKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		ti.discHits.Add(1)
		ti.mu.Lock()
		iss := ti.discIssuer
		ti.mu.Unlock()
		if iss == "" {
			iss = ti.URL
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                iss,
			"jwks_uri":                              ti.srv.URL + path + "/jwks",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET "+path+"/jwks", func(w http.ResponseWriter, r *http.Request) {
		ti.jwksHits.Add(1)
		ti.mu.Lock()
		defer ti.mu.Unlock()
		var set jwtutil.JWKS
		for kid, k := range ti.published {
			set.Keys = append(set.Keys, jwtutil.PublicJWK(kid, &k.PublicKey))
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	ti.srv = httptest.NewUnstartedServer(mux)
	if useTLS {
		ti.srv.StartTLS()
	} else {
		ti.srv.Start()
	}
	t.Cleanup(ti.srv.Close)
	ti.URL = ti.srv.URL + path
	return ti
}

// publish replaces the JWKS with the given kid → key pairs.
func (ti *testIssuer) publish(keys map[string]*rsa.PrivateKey) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.published = keys
}

func (ti *testIssuer) setDiscoveryIssuer(iss string) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.discIssuer = iss
}

func mint(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	tok, err := jwtutil.Sign(key, kid, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// trust creates service "jenkins" and an enabled provider for issuer iss
// requiring claims and linked to that service, and grants the service
// Write on the seeded repository (the format round trips publish there;
// TestServiceHasNoPrivilegeUntilGranted covers what less is refused).
func trust(tb testing.TB, c *Cloudsmith, iss string, claims map[string]any) {
	tb.Helper()
	if _, err := c.AddService(Service{Name: "jenkins", Slug: "jenkins"}); err != nil {
		tb.Fatal(err)
	}
	if err := c.GrantPrivilege(c.Org(), c.Repo(), "jenkins", PrivilegeWrite); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.AddProvider(ProviderSettings{Name: "Jenkins", ProviderURL: iss, Enabled: true,
		Claims: claims, ServiceAccounts: []string{"jenkins"}}); err != nil {
		tb.Fatal(err)
	}
}
