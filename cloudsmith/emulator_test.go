package cloudsmith

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
)

// testIssuer serves a discovery document and JWKS for testKey, as Jenkins'
// oidc-provider plugin does, on a loopback URL the emulator may fetch.
func testIssuer(t testing.TB) string {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss := srv.URL + "/oidc"
	mux.HandleFunc("/oidc/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{
			"issuer": iss, "jwks_uri": iss + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/oidc/jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, jwtutil.JWKS{Keys: []jwtutil.JWK{jwtutil.PublicJWK("jenkins-oidc-cred", &testKey().PublicKey)}})
	})
	return iss
}

// emulator starts cloudsmithtest with a service trusted for tokens from a
// test issuer whose aud is "cloudsmith".
func emulator(t testing.TB, opts ...cloudsmithtest.Option) (srv *cloudsmithtest.Server, iss, service string) {
	t.Helper()
	iss = testIssuer(t)
	srv, err := cloudsmithtest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	svc, err := srv.Cloudsmith.AddService(cloudsmithtest.Service{Name: "jenkins"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Cloudsmith.GrantPrivilege(srv.Cloudsmith.Org(), srv.Cloudsmith.Repo(), svc.Slug, cloudsmithtest.PrivilegeRead); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Cloudsmith.AddProvider(cloudsmithtest.ProviderSettings{
		Name: "jenkins", ProviderURL: iss, Enabled: true,
		Claims: map[string]any{"aud": "cloudsmith"}, ServiceAccounts: []string{svc.Slug},
	}); err != nil {
		t.Fatal(err)
	}
	return srv, iss, svc.Slug
}

func exchangeRequests(srv *cloudsmithtest.Server) (all, faults int) {
	for _, r := range srv.Cloudsmith.Requests() {
		if strings.HasPrefix(r.Path, "/openid/") {
			all++
			if r.Fault != "" {
				faults++
			}
		}
	}
	return all, faults
}

func TestEmulatorExchangeSurvivesFaults(t *testing.T) {
	srv, iss, svc := emulator(t, cloudsmithtest.WithFaultRate(1.0/3, 42), cloudsmithtest.WithRetryAfter(0))
	rec := newSpecCheck(t, nil)
	c, err := NewClient(Options{APIURL: srv.APIURL, HTTPClient: rec.client(), MaxAttempts: 20,
		RetryBase: time.Millisecond, RetryCap: 20 * time.Millisecond, RetryBudget: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range n {
		tok := oidcToken(t, time.Now().Add(time.Hour), map[string]any{"iss": iss, "aud": "cloudsmith"})
		got, err := c.Exchange(ctx, srv.Org, svc, tok)
		if err != nil {
			t.Fatalf("exchange %d: %v\nemulator: %s", i, err, srv.Cloudsmith.LastExchangeFailure())
		}
		if d := time.Until(got.Expiry); d < 80*time.Minute || d > 90*time.Minute {
			t.Errorf("token expires in %v, want the emulator's 90 minutes", d)
		}
	}
	all, faults := exchangeRequests(srv)
	t.Logf("%d exchanges took %d requests (%d faults) in %v", n, all, faults, time.Since(start).Round(time.Millisecond))
	if faults < n/4 {
		t.Errorf("only %d faults injected over %d requests: the test isn't testing retries", faults, all)
	}
	if all != n+faults {
		t.Errorf("%d requests for %d exchanges and %d faults: retried a success or a permanent error", all, n, faults)
	}
}

func TestEmulatorPermanentFailureNotRetried(t *testing.T) {
	srv, iss, svc := emulator(t)
	c, err := NewClient(Options{APIURL: srv.APIURL})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, org, service string
		claims             map[string]any
		want               []string
	}{
		{"wrong aud", srv.Org, svc, map[string]any{"iss": iss, "aud": "jenkins"}, []string{`aud: "jenkins"`, "required claim"}},
		{"wrong issuer", srv.Org, svc, map[string]any{"iss": iss + "/", "aud": "cloudsmith"}, []string{`iss: "` + iss + `/"`, "provider URL"}},
		{"unlinked service", srv.Org, "nobody", map[string]any{"iss": iss, "aud": "cloudsmith"}, []string{`service "nobody"`}},
		{"expired", srv.Org, svc, map[string]any{"iss": iss, "aud": "cloudsmith", "iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()}, []string{"expired 1h"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.Cloudsmith.ResetRequests()
			tok := oidcToken(t, time.Now().Add(time.Hour), tc.claims)
			_, err := c.Exchange(context.Background(), tc.org, tc.service, tok)
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("err = %v", err)
			}
			if all, _ := exchangeRequests(srv); all != 1 {
				t.Errorf("%d requests, want exactly 1", all)
			}
			msg := err.Error()
			if strings.Contains(msg, tok[strings.LastIndex(tok, ".")+1:]) {
				t.Errorf("message leaks the token signature")
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestEmulatorManagementRoundTrip(t *testing.T) {
	iss := testIssuer(t)
	srv, err := cloudsmithtest.Start(cloudsmithtest.WithServiceSlugSuffix(), cloudsmithtest.WithPageSize(2),
		cloudsmithtest.WithFaultRate(0.2, 7), cloudsmithtest.WithRetryAfter(0))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	rec := newSpecCheck(t, nil)
	c, err := NewClient(Options{APIURL: srv.APIURL + "/v1/", APIKey: srv.APIKey, HTTPClient: rec.client(),
		MaxAttempts: 20, RetryBase: time.Millisecond, RetryCap: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// A broken emulator must fail the test, not hang it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		if _, err := srv.Cloudsmith.AddService(cloudsmithtest.Service{Name: "filler " + name}); err != nil {
			t.Fatal(err)
		}
	}

	// Faults on non-idempotent POSTs surface as errors (they are not
	// retried, so a lost answer can't create twice); apply reruns Ensure.
	ensureService := func() (*Service, bool) {
		for range 20 {
			s, created, err := c.EnsureService(ctx, srv.Org, "Jenkins builds")
			if err == nil {
				return s, created
			}
			if ctx.Err() != nil || !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrRateLimited) {
				t.Fatal(err)
			}
		}
		t.Fatal("EnsureService kept failing")
		return nil, false
	}
	svc, created := ensureService()
	if !created || svc.Slug == "" {
		t.Fatalf("EnsureService created=%v %+v", created, svc)
	}
	again, created := ensureService()
	if created || again.Slug != svc.Slug {
		t.Fatalf("second EnsureService created=%v %+v", created, again)
	}
	if n := len(srv.Cloudsmith.Services(srv.Org)); n != 6 {
		t.Errorf("%d services, want 6 (5 fillers + 1)", n)
	}
	all, err := c.ListServices(ctx, srv.Org)
	if err != nil || len(all) != 6 {
		t.Fatalf("ListServices over pages of 2: %d, %v", len(all), err)
	}

	want := ProviderSettings{Name: "jenkins", ProviderURL: iss, Enabled: true,
		Claims: map[string]string{"aud": "cloudsmith", "sub": "https://jenkins.example.com/job/.*"}, ServiceAccounts: []string{svc.Slug}}
	ensureProvider := func(p ProviderSettings) bool {
		for range 20 {
			changed, err := c.EnsureProvider(ctx, srv.Org, p)
			if err == nil {
				return changed
			}
			if ctx.Err() != nil || !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrRateLimited) {
				t.Fatal(err)
			}
		}
		t.Fatal("EnsureProvider kept failing")
		return false
	}
	if !ensureProvider(want) {
		t.Error("EnsureProvider didn't create")
	}
	if ensureProvider(want) {
		t.Error("EnsureProvider wrote an unchanged provider")
	}
	provs, err := c.ListProviders(ctx, srv.Org)
	if err != nil || len(provs) != 1 {
		t.Fatalf("ListProviders: %+v %v", provs, err)
	}
	if d := provs[0].Diff(want); len(d) != 0 {
		t.Errorf("emulator holds a different provider: %v", d)
	}

	// The trust set up through the API works for an exchange.
	tok := oidcToken(t, time.Now().Add(time.Hour), map[string]any{"iss": iss, "aud": "cloudsmith"})
	if _, err := c.Exchange(ctx, srv.Org, svc.Slug, tok); err != nil {
		t.Fatalf("exchange through the managed provider: %v", err)
	}

	// Tighten a claim: the same token is now refused, generically.
	want.Claims["aud"] = "something-else"
	if !ensureProvider(want) {
		t.Error("EnsureProvider didn't update the claim")
	}
	got, err := c.GetProvider(ctx, srv.Org, provs[0].SlugPerm)
	if err != nil || got.Claims["aud"] != "something-else" {
		t.Fatalf("GetProvider: %+v %v", got, err)
	}
	if _, err := c.Exchange(ctx, srv.Org, svc.Slug, tok); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("exchange after tightening: %v", err)
	}

	if err := c.DeleteProvider(ctx, srv.Org, got.SlugPerm); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetProvider(ctx, srv.Org, got.SlugPerm); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetProvider after delete: %v", err)
	}
	if _, err := c.ListServices(ctx, "no-such-org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown org: %v", err)
	}
	bad, _ := NewClient(Options{APIURL: srv.APIURL, APIKey: "not-the-key", MaxAttempts: 20, RetryBase: time.Millisecond, RetryCap: 10 * time.Millisecond})
	if _, err := bad.ListServices(ctx, srv.Org); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong key: %v", err)
	}
}

// BenchmarkExchange measures one exchange against the in-process emulator
// (loopback HTTP, RS256 verification with a cached JWKS, token signing).
func BenchmarkExchange(b *testing.B) {
	srv, iss, svc := emulator(b)
	c, err := NewClient(Options{APIURL: srv.APIURL})
	if err != nil {
		b.Fatal(err)
	}
	tok := oidcToken(b, time.Now().Add(time.Hour), map[string]any{"iss": iss, "aud": "cloudsmith"})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Exchange(ctx, srv.Org, svc, tok); err != nil {
			b.Fatal(err)
		}
	}
}
