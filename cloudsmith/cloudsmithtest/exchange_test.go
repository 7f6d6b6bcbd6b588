package cloudsmithtest

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
)

var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// exchangeFixture is an emulator trusting one test issuer for service
// "jenkins", with required claims aud (exact) and sub (wildcard).
type exchangeFixture struct {
	cs  *Cloudsmith
	srv *httptest.Server
	iss *testIssuer
	key *rsa.PrivateKey
	kid string
}

func newExchangeFixture(t *testing.T, opts ...Option) *exchangeFixture {
	t.Helper()
	f := &exchangeFixture{iss: newTestIssuer(t, "/oidc"), key: testKeys()[0], kid: "id-token"}
	f.iss.publish(map[string]*rsa.PrivateKey{f.kid: f.key})
	f.cs = New(append([]Option{WithClock(func() time.Time { return testNow })}, opts...)...)
	f.srv = httptest.NewServer(f.cs)
	t.Cleanup(f.srv.Close)
	for _, name := range []string{"jenkins", "other"} {
		if _, err := f.cs.AddService(Service{Name: name, Slug: name}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.cs.AddProvider(ProviderSettings{
		Name:            "Jenkins",
		ProviderURL:     f.iss.URL,
		Claims:          map[string]any{"aud": "cloudsmith", "sub": "https://jenkins.example/job/.*"},
		Enabled:         true,
		ServiceAccounts: []string{"jenkins"},
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

// claims returns valid claims for the fixture's issuer, with edits applied
// (a nil value deletes the claim).
func (f *exchangeFixture) claims(edits map[string]any) map[string]any {
	c := map[string]any{
		"iss":          f.iss.URL,
		"aud":          "cloudsmith",
		"sub":          "https://jenkins.example/job/app/",
		"build_number": 7,
		"iat":          testNow.Unix(),
		"exp":          testNow.Add(time.Hour).Unix(),
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func (f *exchangeFixture) token(t *testing.T, edits map[string]any) string {
	return mint(t, f.key, f.kid, f.claims(edits))
}

// post sends an exchange and returns the status and decoded JSON body.
func post(t *testing.T, url, contentType, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response %d is not a JSON object: %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func exchangeBody(token, service string) string {
	b, _ := json.Marshal(map[string]string{"oidc_token": token, "service_slug": service})
	return string(b)
}

// forge builds a token with an arbitrary header and signature function.
func forge(header, claims map[string]any, sign func(input string) string) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return input + "." + sign(input)
}

func TestExchange(t *testing.T) {
	f := newExchangeFixture(t)
	other := newTestIssuer(t, "/other")
	other.publish(map[string]*rsa.PrivateKey{f.kid: f.key})

	tests := []struct {
		name    string
		org     string
		service string
		token   func(t *testing.T) string
		// why is a fragment of LastExchangeFailure; "" means success.
		why string
	}{
		{name: "valid", token: func(t *testing.T) string { return f.token(t, nil) }},
		{name: "aud array with a match, compared exactly", why: `claim "aud" is ["other","cloudsmith"], want "cloudsmith"`, token: func(t *testing.T) string {
			return f.token(t, map[string]any{"aud": []string{"other", "cloudsmith"}})
		}},
		{name: "exp within leeway", token: func(t *testing.T) string {
			return f.token(t, map[string]any{"exp": testNow.Add(-30 * time.Second).Unix()})
		}},
		{name: "iat within leeway", token: func(t *testing.T) string {
			return f.token(t, map[string]any{"iat": testNow.Add(30 * time.Second).Unix()})
		}},
		{name: "wildcard prefix matches exactly the prefix", token: func(t *testing.T) string {
			return f.token(t, map[string]any{"sub": "https://jenkins.example/job/"})
		}},
		{name: "unknown org", org: "nope", why: `org "nope" does not exist`, token: func(t *testing.T) string { return f.token(t, nil) }},
		{name: "iss of an unconfigured issuer", why: "no provider", token: func(t *testing.T) string {
			return mint(t, f.key, f.kid, f.claims(map[string]any{"iss": other.URL}))
		}},
		{name: "iss with a trailing slash", why: "no provider", token: func(t *testing.T) string {
			return f.token(t, map[string]any{"iss": f.iss.URL + "/"})
		}},
		{name: "no iss", why: "no string iss", token: func(t *testing.T) string { return f.token(t, map[string]any{"iss": nil}) }},
		{name: "expired beyond leeway", why: "expired", token: func(t *testing.T) string {
			return f.token(t, map[string]any{"exp": testNow.Add(-2 * time.Minute).Unix()})
		}},
		{name: "no exp", why: "no exp", token: func(t *testing.T) string { return f.token(t, map[string]any{"exp": nil}) }},
		{name: "exp not a number", why: "not a number", token: func(t *testing.T) string { return f.token(t, map[string]any{"exp": "soon"}) }},
		{name: "iat in the future beyond leeway", why: "iat", token: func(t *testing.T) string {
			return f.token(t, map[string]any{"iat": testNow.Add(5 * time.Minute).Unix()})
		}},
		{name: "nbf in the future beyond leeway", why: "nbf", token: func(t *testing.T) string {
			return f.token(t, map[string]any{"nbf": testNow.Add(5 * time.Minute).Unix()})
		}},
		{name: "unknown kid", why: `no key with kid "rotated-away"`, token: func(t *testing.T) string {
			return mint(t, f.key, "rotated-away", f.claims(nil))
		}},
		{name: "no kid", why: "no kid", token: func(t *testing.T) string { return mint(t, f.key, "", f.claims(nil)) }},
		{name: "HS256 keyed with the public key", why: `alg is "HS256"`, token: func(t *testing.T) string {
			pub, _ := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
			return forge(map[string]any{"alg": "HS256", "kid": f.kid, "typ": "JWT"}, f.claims(nil), func(in string) string {
				m := hmac.New(sha256.New, pub)
				m.Write([]byte(in))
				return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
			})
		}},
		{name: "alg none", why: `alg is "none"`, token: func(t *testing.T) string {
			return forge(map[string]any{"alg": "none", "kid": f.kid}, f.claims(nil), func(string) string { return "" })
		}},
		{name: "signed by another key", why: "signature does not verify", token: func(t *testing.T) string {
			return mint(t, testKeys()[1], f.kid, f.claims(nil))
		}},
		{name: "tampered payload", why: "signature does not verify", token: func(t *testing.T) string {
			good := strings.Split(f.token(t, nil), ".")
			evil, _ := json.Marshal(f.claims(map[string]any{"sub": "https://jenkins.example/job/evil/"}))
			return good[0] + "." + base64.RawURLEncoding.EncodeToString(evil) + "." + good[2]
		}},
		{name: "not a JWT", why: "not a JWT", token: func(t *testing.T) string { return "definitely-not-a-jwt" }},
		{name: "missing required claim", why: `required claim "aud" is missing`, token: func(t *testing.T) string {
			return f.token(t, map[string]any{"aud": nil})
		}},
		{name: "wrong exact claim", why: `claim "aud"`, token: func(t *testing.T) string {
			return f.token(t, map[string]any{"aud": "cloudsmith-evil"})
		}},
		{name: "aud array without a match", why: `claim "aud"`, token: func(t *testing.T) string {
			return f.token(t, map[string]any{"aud": []string{"a", "b"}})
		}},
		{name: "wildcard claim mismatch", why: `claim "sub"`, token: func(t *testing.T) string {
			return f.token(t, map[string]any{"sub": "https://evil.example/job/app/"})
		}},
		{name: "wildcard is not a regexp", why: `claim "sub"`, token: func(t *testing.T) string {
			return f.token(t, map[string]any{"sub": "https://jenkinsXexample/job/app/"})
		}},
		{name: "service not linked", service: "other", why: `service "other" is not linked`, token: func(t *testing.T) string { return f.token(t, nil) }},
		{name: "unknown service", service: "ghost", why: `service "ghost" is not linked`, token: func(t *testing.T) string { return f.token(t, nil) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			org, service := "acme", "jenkins"
			if tc.org != "" {
				org = tc.org
			}
			if tc.service != "" {
				service = tc.service
			}
			status, body := post(t, f.srv.URL+"/openid/"+org+"/", "application/json", exchangeBody(tc.token(t), service))
			if tc.why == "" {
				if status != http.StatusCreated {
					t.Fatalf("status %d %v, want 201; failure: %s", status, body, f.cs.LastExchangeFailure())
				}
				tok, _ := body["token"].(string)
				_, claims, err := jwtutil.Verify(tok, &f.cs.signKey.PublicKey)
				if err != nil {
					t.Fatalf("returned token: %v", err)
				}
				if got, want := claims["exp"], json.Number(itoa(testNow.Add(90*time.Minute).Unix())); got != want {
					t.Errorf("exp = %v, want now+90m = %v", got, want)
				}
				if claims["org"] != "acme" || claims["service"] != "jenkins" {
					t.Errorf("claims %v do not name org and service", claims)
				}
				if len(body) != 1 {
					t.Errorf("body has fields besides token: %v", body)
				}
				return
			}
			if status != http.StatusUnauthorized || len(body) != 1 || body["detail"] != GenericExchangeError {
				t.Fatalf("got %d %v, want 401 with only the generic detail", status, body)
			}
			if got := f.cs.LastExchangeFailure(); !strings.Contains(got, tc.why) {
				t.Errorf("LastExchangeFailure() = %q, want it to mention %q", got, tc.why)
			}
			reqs := f.cs.Requests()
			if last := reqs[len(reqs)-1]; !strings.Contains(last.Failure, tc.why) || last.Status != 401 {
				t.Errorf("request log entry %+v lacks the reason", last)
			}
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestExchangeDisabledProvider(t *testing.T) {
	f := newExchangeFixture(t)
	perm := f.cs.Providers("acme")[0].SlugPerm
	if err := f.cs.UpdateProvider("acme", perm, func(p *ProviderSettings) { p.Enabled = false }); err != nil {
		t.Fatal(err)
	}
	status, body := post(t, f.srv.URL+"/openid/acme/", "application/json", exchangeBody(f.token(t, nil), "jenkins"))
	if status != 401 || body["detail"] != GenericExchangeError {
		t.Fatalf("got %d %v", status, body)
	}
	if !strings.Contains(f.cs.LastExchangeFailure(), "disabled") {
		t.Errorf("failure %q does not say disabled", f.cs.LastExchangeFailure())
	}
}

func TestExchangeLenientIssuerSlash(t *testing.T) {
	f := newExchangeFixture(t, WithLenientIssuerSlash())
	// The issuer publishes itself with a slash; the provider URL has none.
	f.iss.setDiscoveryIssuer(f.iss.URL + "/")
	status, body := post(t, f.srv.URL+"/openid/acme/", "application/json",
		exchangeBody(f.token(t, map[string]any{"iss": f.iss.URL + "/"}), "jenkins"))
	if status != 201 {
		t.Fatalf("got %d %v: %s", status, body, f.cs.LastExchangeFailure())
	}
}

func TestExchangeDiscoveryIssuerMismatch(t *testing.T) {
	f := newExchangeFixture(t)
	f.iss.setDiscoveryIssuer("https://elsewhere.example/oidc")
	status, _ := post(t, f.srv.URL+"/openid/acme/", "application/json", exchangeBody(f.token(t, nil), "jenkins"))
	if status != 401 {
		t.Fatalf("status %d, want 401", status)
	}
	if got := f.cs.LastExchangeFailure(); !strings.Contains(got, `names issuer "https://elsewhere.example/oidc"`) {
		t.Errorf("failure %q", got)
	}
}

func TestExchangeRefusesPlainHTTPOffLoopback(t *testing.T) {
	f := newExchangeFixture(t)
	const iss = "http://issuer.example.invalid/oidc"
	if _, err := f.cs.AddProvider(ProviderSettings{Name: "Remote", ProviderURL: iss, Enabled: true, ServiceAccounts: []string{"jenkins"}}); err != nil {
		t.Fatal(err)
	}
	status, _ := post(t, f.srv.URL+"/openid/acme/", "application/json", exchangeBody(f.token(t, map[string]any{"iss": iss}), "jenkins"))
	if status != 401 || !strings.Contains(f.cs.LastExchangeFailure(), "plain http") {
		t.Fatalf("status %d, failure %q", status, f.cs.LastExchangeFailure())
	}
}

func TestExchangeHTTPSIssuer(t *testing.T) {
	iss := newTLSTestIssuer(t, "/oidc")
	key := testKeys()[0]
	iss.publish(map[string]*rsa.PrivateKey{"k": key})
	for _, tc := range []struct {
		name string
		opts []Option
		want int
	}{
		{"untrusted certificate", nil, 401},
		{"trusted through WithHTTPClient", []Option{WithHTTPClient(iss.srv.Client())}, 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := New(append([]Option{WithClock(func() time.Time { return testNow })}, tc.opts...)...)
			srv := httptest.NewServer(cs)
			defer srv.Close()
			trust(t, cs, iss.URL, nil)
			tok := mint(t, key, "k", map[string]any{"iss": iss.URL, "exp": testNow.Add(time.Hour).Unix()})
			status, _ := post(t, srv.URL+"/openid/acme/", "application/json", exchangeBody(tok, "jenkins"))
			if status != tc.want {
				t.Fatalf("status %d, want %d (%s)", status, tc.want, cs.LastExchangeFailure())
			}
			if tc.want == 401 && !strings.Contains(cs.LastExchangeFailure(), "certificate") {
				t.Errorf("failure %q does not blame the certificate", cs.LastExchangeFailure())
			}
		})
	}
}

func TestExchangeJWKSCacheAndRotation(t *testing.T) {
	f := newExchangeFixture(t)
	exchange := func(tok string) int {
		status, _ := post(t, f.srv.URL+"/openid/acme/", "application/json", exchangeBody(tok, "jenkins"))
		return status
	}
	if s := exchange(f.token(t, nil)); s != 201 {
		t.Fatalf("first exchange %d: %s", s, f.cs.LastExchangeFailure())
	}
	if s := exchange(f.token(t, nil)); s != 201 {
		t.Fatalf("second exchange %d", s)
	}
	if d, j := f.iss.discHits.Load(), f.iss.jwksHits.Load(); d != 1 || j != 1 {
		t.Fatalf("fetched discovery %d and JWKS %d times for two tokens, want 1 and 1 (cached)", d, j)
	}
	// Re-saving a Jenkins credential rotates its key under a new kid.
	newKey := testKeys()[2]
	f.iss.publish(map[string]*rsa.PrivateKey{"id-token-2": newKey})
	if s := exchange(mint(t, newKey, "id-token-2", f.claims(nil))); s != 201 {
		t.Fatalf("exchange after rotation %d: %s", s, f.cs.LastExchangeFailure())
	}
	if j := f.iss.jwksHits.Load(); j != 2 {
		t.Errorf("JWKS fetched %d times, want a refetch on the unknown kid (2)", j)
	}
	// The old key is gone: its tokens fail even though it was cached.
	if s := exchange(f.token(t, nil)); s != 401 {
		t.Errorf("token of the rotated-away key: %d, want 401", s)
	}
}

func TestExchangeTokenLifetime(t *testing.T) {
	f := newExchangeFixture(t, WithTokenLifetime(90*time.Minute))
	status, body := post(t, f.srv.URL+"/openid/acme/", "application/json", exchangeBody(f.token(t, nil), "jenkins"))
	if status != 201 {
		t.Fatal(status)
	}
	_, claims, _ := jwtutil.Decode(body["token"].(string))
	if got, want := claims["exp"], json.Number(itoa(testNow.Add(90*time.Minute).Unix())); got != want {
		t.Errorf("exp %v, want %v", got, want)
	}
}

func TestExchangeDynamicMapping(t *testing.T) {
	f := newExchangeFixture(t)
	if _, err := f.cs.AddProvider(ProviderSettings{
		Name: "Mapped", ProviderURL: other(t, f).URL, Enabled: true, Claims: map[string]any{},
		MappingClaim: "team", DynamicMappings: []DynamicMapping{{ClaimValue: "blue", ServiceAccount: "other"}},
	}); err != nil {
		t.Fatal(err)
	}
	iss := f.cs.Providers("acme")[1].ProviderURL
	ok := mint(t, f.key, f.kid, f.claims(map[string]any{"iss": iss, "team": "blue"}))
	if s, _ := post(t, f.srv.URL+"/openid/acme/", "application/json", exchangeBody(ok, "other")); s != 201 {
		t.Fatalf("mapped exchange %d: %s", s, f.cs.LastExchangeFailure())
	}
	bad := mint(t, f.key, f.kid, f.claims(map[string]any{"iss": iss, "team": "red"}))
	if s, _ := post(t, f.srv.URL+"/openid/acme/", "application/json", exchangeBody(bad, "other")); s != 401 {
		t.Fatalf("unmapped value exchanged: %d", s)
	}
}

func other(t *testing.T, f *exchangeFixture) *testIssuer {
	ti := newTestIssuer(t, "/mapped")
	ti.publish(map[string]*rsa.PrivateKey{f.kid: f.key})
	return ti
}

func TestExchangeRequestValidation(t *testing.T) {
	f := newExchangeFixture(t)
	url := f.srv.URL + "/openid/acme/"
	tests := []struct {
		name, ct, body string
		status         int
		detail         string
		fields         map[string]string
	}{
		{"empty object", "application/json", `{}`, 422, "Invalid input.", map[string]string{"oidc_token": msgRequired, "service_slug": msgRequired}},
		{"empty body", "application/json", ``, 422, "Invalid input.", map[string]string{"oidc_token": msgRequired}},
		{"blank fields", "application/json", `{"oidc_token":"","service_slug":"  "}`, 422, "Invalid input.", map[string]string{"oidc_token": msgBlank, "service_slug": msgBlank}},
		{"null token", "application/json", `{"oidc_token":null,"service_slug":"x"}`, 422, "Invalid input.", map[string]string{"oidc_token": msgNull}},
		{"number token", "application/json", `{"oidc_token":5,"service_slug":"x"}`, 422, "Invalid input.", map[string]string{"oidc_token": msgNotString}},
		{"list body", "application/json", `[]`, 422, "Invalid input.", map[string]string{"non_field_errors": "Invalid data. Expected a dictionary, but got list."}},
		{"malformed JSON", "application/json", `{"oidc_token": $TOKEN}`, 400, "JSON parse error - Expecting value: line 1 column 16 (char 15)", nil},
		{"truncated JSON", "application/json", `{`, 400, "JSON parse error - ", nil},
		{"form body", "application/x-www-form-urlencoded", `oidc_token=x`, 415, "Unsupported media type", nil},
		// DRF picks the parser by Content-Type; a body without one has none.
		{"JSON without content type", "", `{"oidc_token":"x","service_slug":"y"}`, 415, `Unsupported media type "" in request.`, nil},
		{"no body, no content type", "", ``, 422, "Invalid input.", map[string]string{"oidc_token": msgRequired}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, url, tc.ct, tc.body)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, body, tc.status)
			}
			if d, _ := body["detail"].(string); !strings.HasPrefix(d, tc.detail) {
				t.Errorf("detail %q, want prefix %q", d, tc.detail)
			}
			fields, _ := body["fields"].(map[string]any)
			for k, want := range tc.fields {
				got, _ := fields[k].([]any)
				if len(got) == 0 || got[0] != want {
					t.Errorf("fields[%s] = %v, want [%q]", k, fields[k], want)
				}
			}
		})
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET exchange: %d, want 405", resp.StatusCode)
	}
}

// TestClaimArrayElementMatch: with the option, a string requirement
// matches a token's array claim when any element does (aud from a current
// oidc-provider); a requirement that no element meets still fails.
func TestClaimArrayElementMatch(t *testing.T) {
	f := newExchangeFixture(t, WithClaimArrayElementMatch())
	for aud, want := range map[string]int{`["other","cloudsmith"]`: 201, `["cloudsmith"]`: 201, `["a","b"]`: 401} {
		var list []string
		if err := json.Unmarshal([]byte(aud), &list); err != nil {
			t.Fatal(err)
		}
		status, body := post(t, f.srv.URL+"/openid/acme/", "application/json", exchangeBody(f.token(t, map[string]any{"aud": list}), "jenkins"))
		if status != want {
			t.Errorf("aud %s: %d %v, want %d (%s)", aud, status, body, want, f.cs.LastExchangeFailure())
		}
	}
}
