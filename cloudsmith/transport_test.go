package cloudsmith

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sendrule"
)

func TestRedirectToAnotherHostDoesNotLeakKey(t *testing.T) {
	var otherHits atomic.Int32
	var leaked atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		if k := r.Header.Get("X-Api-Key"); k != "" {
			leaked.Store(k)
		}
		writeJSON(w, 200, []any{})
	}))
	defer other.Close()
	var sameHostKey atomic.Value
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/orgs/acme/services/":
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
		case "/orgs/acme/openid-connect/":
			http.Redirect(w, r, "/v1/orgs/acme/openid-connect/", http.StatusMovedPermanently)
		case "/v1/orgs/acme/openid-connect/":
			sameHostKey.Store(r.Header.Get("X-Api-Key"))
			writeJSON(w, 200, []any{})
		case "/orgs/acme/services/page/":
			// A pagination link to another host must not be followed either.
			w.Header().Set("Link", fmt.Sprintf(`<%s/orgs/acme/services/?page=2>; rel="next"`, other.URL))
			writeJSON(w, 200, []any{})
		}
	}))
	defer api.Close()
	c, err := NewClient(Options{APIURL: api.URL, APIKey: testAPIKey, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.ListServices(ctx, "acme")
	if err == nil || !strings.Contains(err.Error(), "refusing to follow a redirect") {
		t.Errorf("cross-host redirect: err = %v", err)
	}
	if _, err := c.ListProviders(ctx, "acme"); err != nil {
		t.Errorf("same-host redirect: %v", err)
	}
	if k, _ := sameHostKey.Load().(string); k != testAPIKey {
		t.Errorf("same-host redirect lost the key: %q", k)
	}
	_, err = list[Service](ctx, c, endpoint(c.apiURL, "orgs", "acme", "services", "page"))
	if err == nil || !strings.Contains(err.Error(), "another host") {
		t.Errorf("cross-host Link: err = %v", err)
	}
	if otherHits.Load() != 0 || leaked.Load() != nil {
		t.Errorf("the other host got %d requests, key %v", otherHits.Load(), leaked.Load())
	}

	// Even if a caller's CheckRedirect were laxer, the auth layer itself
	// only adds the key for the API host.
	lax := &http.Client{Transport: c.api.Transport}
	resp, err := lax.Get(api.URL + "/orgs/acme/services/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if otherHits.Load() != 1 || leaked.Load() != nil {
		t.Errorf("auth layer leaked the key across hosts: hits %d key %v", otherHits.Load(), leaked.Load())
	}
}

func TestHTTPSDowngradeRedirectRefused(t *testing.T) {
	req := &http.Request{URL: &url.URL{Scheme: "http", Host: "api.cloudsmith.io"}}
	via := []*http.Request{{URL: &url.URL{Scheme: "https", Host: "api.cloudsmith.io"}}}
	if err := checkRedirect(req, via); err == nil {
		t.Error("followed a redirect from https to http")
	}
}

func TestCABundle(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 201, map[string]string{"token": "opaque"})
	}))
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(bundle, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	tok := oidcToken(t, time.Now().Add(time.Hour), nil)
	ctx := context.Background()

	plain, err := NewClient(Options{APIURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = plain.Exchange(ctx, "acme", "svc", tok)
	var ee *ExchangeError
	if !errors.As(err, &ee) || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the bundle: %v", err)
	}
	if ee.Attempts != 1 {
		t.Errorf("a certificate error was retried: %d attempts", ee.Attempts)
	}

	trusted, err := NewClient(Options{APIURL: srv.URL, CABundle: bundle})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trusted.Exchange(ctx, "acme", "svc", tok); err != nil {
		t.Errorf("with the bundle: %v", err)
	}

	if _, err := NewClient(Options{CABundle: filepath.Join(t.TempDir(), "missing.pem")}); err == nil {
		t.Error("a missing CA bundle was accepted")
	}
}

func TestProxyOption(t *testing.T) {
	var seen atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The token travels over https, so the proxy only sees a CONNECT
		// for the API host (and this one refuses to tunnel).
		seen.Store(r.Method + " " + r.Host)
		http.Error(w, "no tunnel", http.StatusForbidden)
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	// The API host doesn't resolve: only the proxy can answer.
	c, err := NewClient(Options{APIURL: "https://api.cloudsmith.invalid", Proxy: pu, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exchange(context.Background(), "acme", "svc", oidcToken(t, time.Now().Add(time.Hour), nil)); err == nil {
		t.Fatal("the exchange succeeded through a proxy that refuses to tunnel")
	}
	if got, _ := seen.Load().(string); got != "CONNECT api.cloudsmith.invalid:443" {
		t.Errorf("proxy saw %q", got)
	}
}

// TestPlainHTTPOffLoopbackRefused: neither the exchange (the ID token)
// nor the management API (the key) goes over plain http to a host that is
// not this machine; nothing is sent at all.
func TestPlainHTTPOffLoopbackRefused(t *testing.T) {
	var sent atomic.Int32
	rec := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return nil, errors.New("must not be reached")
	})}
	for _, api := range []string{"http://api.cloudsmith.io", "http://10.0.0.7:8080/v1", "HTTP://api.example.com"} {
		_, err := NewClient(Options{APIURL: api, APIKey: "k3y", HTTPClient: rec})
		if !errors.Is(err, sendrule.ErrCleartext) {
			t.Errorf("NewClient(%s) = %v, want a plain-http refusal", api, err)
		}
	}
	if _, err := NewClient(Options{APIURL: "http://127.0.0.1:1", HTTPClient: rec}); err != nil {
		t.Errorf("loopback refused: %v", err)
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRetryBudgetAndTokenExpiry(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		tokenTTL time.Duration
		maxTime  time.Duration
	}{
		// Bounds are loose (CI machines are slow); without the budget, 1000
		// attempts would take well over 10s.
		{"budget exhausted", Options{RetryBudget: 400 * time.Millisecond}, time.Hour, 5 * time.Second},
		// exp is whole seconds: the token lives 1-2s, far below the budget.
		{"stops at the OIDC token's exp", Options{RetryBudget: time.Minute}, 2 * time.Second, 7 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, served := scripted(reply(503, nil, `{"detail":"Service unavailable."}`))
			srv := httptest.NewServer(h)
			defer srv.Close()
			o := tc.opts
			o.APIURL, o.MaxAttempts, o.RetryBase, o.RetryCap = srv.URL, 1000, 20*time.Millisecond, 50*time.Millisecond
			c, err := NewClient(o)
			if err != nil {
				t.Fatal(err)
			}
			tok := oidcToken(t, time.Now().Add(tc.tokenTTL), nil)
			start := time.Now()
			_, err = c.Exchange(context.Background(), "acme", "svc", tok)
			elapsed := time.Since(start)
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err = %v", err)
			}
			if elapsed > tc.maxTime || served.Load() < 3 {
				t.Errorf("gave up after %v and %d attempts, want several attempts within %v", elapsed, served.Load(), tc.maxTime)
			}
			var ee *ExchangeError
			// The budget's deadline may cancel the last attempt in flight,
			// before the server counts it.
			if errors.As(err, &ee); ee.Attempts < int(served.Load()) || ee.Attempts > int(served.Load())+1 {
				t.Errorf("error counts %d attempts, server saw %d", ee.Attempts, served.Load())
			}
		})
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	h, _ := scripted(reply(503, nil, `{"detail":"down"}`))
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, _ := NewClient(Options{APIURL: srv.URL, MaxAttempts: 1000, RetryBase: 50 * time.Millisecond, RetryCap: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exchange(ctx, "acme", "svc", oidcToken(t, time.Now().Add(time.Hour), nil))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("err %v after %v", err, time.Since(start))
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	secret := "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.c2VjcmV0LXNpZ25hdHVyZQ"
	tok := Token{Value: secret, Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("got", "token", tok, "ptr", &tok)
	js, _ := json.Marshal(struct{ T Token }{tok})
	outs := []string{
		fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s %q %x", tok, tok, tok, tok, tok, tok),
		fmt.Sprintf("%v %+v", &tok, struct{ T *Token }{&tok}), fmt.Sprintf("%+v %#v", struct{ T Token }{tok}, struct{ T Token }{tok}),
		string(js), logs.String(),
	}
	for _, o := range outs {
		if strings.Contains(o, secret) || strings.Contains(o, "c2VjcmV0") {
			t.Errorf("token printed: %s", o)
		}
	}
	if !strings.Contains(outs[0], "2030-01-02T03:04:05Z") {
		t.Errorf("String() = %s, want the expiry", outs[0])
	}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	h, _ := scripted(reply(503, nil, `{"detail":"x"}`), reply(201, nil, `{"token":"opaque-cloudsmith-token-value"}`))
	srv := httptest.NewServer(h)
	defer srv.Close()
	var logs bytes.Buffer
	c, _ := NewClient(fastRetry(Options{APIURL: srv.URL, APIKey: testAPIKey, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
	oidc := oidcToken(t, time.Now().Add(time.Hour), nil)
	if _, err := c.Exchange(context.Background(), "acme", "svc", oidc); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Count(out, "/openid/acme/") != 2 {
		t.Errorf("want one log line per attempt:\n%s", out)
	}
	for _, s := range []string{oidc, "opaque-cloudsmith-token-value", testAPIKey} {
		if strings.Contains(out, s) {
			t.Errorf("log carries a secret:\n%s", out)
		}
	}
}

func TestNewClientRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"ftp://x", "https://", "https://user:pass@api.cloudsmith.io", "https://api.cloudsmith.io/?k=v", "::"} {
		_, err := NewClient(Options{APIURL: u})
		if err == nil {
			t.Errorf("NewClient(%q) accepted it", u)
		} else if strings.Contains(err.Error(), "pass") {
			t.Errorf("error echoes the password: %v", err)
		}
	}
}

func TestRefusesInsecureTransport(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	insecure := srv.Client()
	insecure.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify = true
	if _, err := NewClient(Options{HTTPClient: insecure}); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("NewClient accepted a transport that skips TLS verification: %v", err)
	}
}
