package cloudsmith

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// step is one scripted server answer.
type step func(w http.ResponseWriter, r *http.Request)

func reply(status int, header map[string]string, body string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		if w.Header().Get("Content-Type") == "" && body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func reset(w http.ResponseWriter, r *http.Request) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	c, _, err := hj.Hijack()
	if err == nil {
		c.Close()
	}
}

// scripted serves steps in order, repeating the last one.
func scripted(steps ...step) (http.Handler, *atomic.Int32) {
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(steps) {
			i = len(steps) - 1
		}
		steps[i](w, r)
	}), &n
}

func fastRetry(o Options) Options {
	if o.RetryBase == 0 {
		o.RetryBase = time.Millisecond
	}
	if o.RetryCap == 0 {
		o.RetryCap = 5 * time.Millisecond
	}
	return o
}

func TestExchange(t *testing.T) {
	now := time.Now()
	exp := now.Add(2 * time.Hour).Truncate(time.Second)
	good := cloudsmithToken(t, exp)
	created := reply(201, nil, `{"token":"`+good+`"}`)

	tests := []struct {
		name       string
		steps      []step
		opts       Options
		apiPath    string // appended to the server URL
		wantPath   string
		wantErr    error
		wantAttmpt int
		wantMsg    []string
		check      func(t *testing.T, tok *Token)
	}{
		{name: "201 created", steps: []step{created}, wantAttmpt: 1, wantPath: "/openid/acme/",
			check: func(t *testing.T, tok *Token) {
				if tok.Value != good || !tok.Expiry.Equal(exp) {
					t.Errorf("got %v (value ok %v), want expiry %v", tok, tok.Value == good, exp)
				}
			}},
		{name: "200 accepted", steps: []step{reply(200, nil, `{"token":"`+good+`"}`)}, wantAttmpt: 1},
		{name: "v1 suffix stripped", apiPath: "/v1/", steps: []step{created}, wantPath: "/openid/acme/", wantAttmpt: 1},
		{name: "proxy prefix kept", apiPath: "/cs/api/v1", steps: []step{created}, wantPath: "/cs/api/openid/acme/", wantAttmpt: 1},
		{name: "opaque token falls back to 15m", steps: []step{reply(201, nil, `{"token":"opaque"}`)}, wantAttmpt: 1,
			check: func(t *testing.T, tok *Token) {
				if d := time.Until(tok.Expiry); d < 14*time.Minute || d > 16*time.Minute {
					t.Errorf("expiry in %v, want ~15m", d)
				}
			}},
		{name: "401 generic, explained, not retried", steps: []step{reply(401, nil, `{"detail":"OIDC token cannot be authenticated."}`)},
			wantErr: ErrUnauthorized, wantAttmpt: 1,
			wantMsg: []string{`iss: "https://jenkins.example.com/oidc"`, `aud: "jenkins"`, `sub: "https://jenkins.example.com/job/app/"`, `kid: "jenkins-oidc-cred"`, `service "svc-ab12"`, `org "acme"`, "provider URL", "clock skew", "Likely causes"}},
		{name: "404 org", steps: []step{reply(404, nil, `{"detail":"Not found."}`)}, wantErr: ErrNotFound, wantAttmpt: 1, wantMsg: []string{`organization "acme" was not found`}},
		{name: "422 fields", steps: []step{reply(422, nil, `{"detail":"Invalid input.","fields":{"service_slug":["This field may not be blank."]}}`)},
			wantErr: ErrInvalidRequest, wantAttmpt: 1, wantMsg: []string{"service_slug: This field may not be blank."}},
		{name: "400 not retried", steps: []step{reply(400, nil, `{"detail":"The JWT cannot be created."}`)}, wantErr: ErrInvalidRequest, wantAttmpt: 1},
		{name: "429 honours Retry-After then succeeds", steps: []step{reply(429, map[string]string{"Retry-After": "1"}, `{"detail":"Request was throttled."}`), created}, wantAttmpt: 2},
		{name: "503 502 then 201", steps: []step{reply(503, nil, `{"detail":"down"}`), reply(502, map[string]string{"Content-Type": "text/html"}, "<html>bad gateway</html>"), created}, wantAttmpt: 3},
		{name: "reset then 201", steps: []step{reset, reset, created}, wantAttmpt: 3},
		{name: "persistent 503 gives up after max attempts", opts: Options{MaxAttempts: 3}, steps: []step{reply(503, nil, `{"detail":"Service unavailable."}`)},
			wantErr: ErrUnavailable, wantAttmpt: 3, wantMsg: []string{"503", "after 3 attempts"}},
		{name: "persistent reset", opts: Options{MaxAttempts: 2}, steps: []step{reset}, wantErr: ErrUnavailable, wantAttmpt: 2, wantMsg: []string{"could not reach Cloudsmith"}},
		{name: "429 beyond budget", opts: Options{RetryBudget: 2 * time.Second}, steps: []step{reply(429, map[string]string{"Retry-After": "30"}, `{"detail":"Request was throttled."}`)},
			wantErr: ErrRateLimited, wantAttmpt: 1, wantMsg: []string{"wait 30s"}},
		{name: "HTML 2xx from a proxy", steps: []step{reply(200, map[string]string{"Content-Type": "text/html"},
			"<html><body>Login required. session=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2ln "+strings.Repeat("padding ", 60)+"</body></html>")},
			wantErr: ErrBadResponse, wantAttmpt: 1, wantMsg: []string{"not JSON", "text/html", "Login required", "****"}},
		{name: "2xx without token", steps: []step{reply(201, nil, `{"token":""}`)}, wantErr: ErrBadResponse, wantAttmpt: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, served := scripted(tc.steps...)
			srv := httptest.NewServer(h)
			defer srv.Close()
			rec := newSpecCheck(t, nil)
			o := fastRetry(tc.opts)
			o.APIURL = srv.URL + tc.apiPath
			o.HTTPClient = rec.client()
			o.APIKey = "management-key-must-not-be-sent"
			c, err := NewClient(o)
			if err != nil {
				t.Fatal(err)
			}
			oidc := oidcToken(t, now.Add(time.Hour), nil)
			tok, err := c.Exchange(context.Background(), "acme", "svc-ab12", oidc)
			if got := int(served.Load()); tc.wantAttmpt != 0 && got != tc.wantAttmpt {
				t.Errorf("server saw %d requests, want %d", got, tc.wantAttmpt)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				msg := err.Error()
				for _, w := range tc.wantMsg {
					if !strings.Contains(msg, w) {
						t.Errorf("message lacks %q:\n%s", w, msg)
					}
				}
				sig := oidc[strings.LastIndex(oidc, ".")+1:]
				if strings.Contains(msg, oidc) || strings.Contains(msg, sig) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), sig) {
					t.Errorf("message leaks the OIDC token:\n%s", msg)
				}
				var ee *ExchangeError
				if !errors.As(err, &ee) || ee.Attempts != tc.wantAttmpt {
					t.Errorf("ExchangeError attempts = %+v, want %d", ee, tc.wantAttmpt)
				}
				return
			}
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			req, body := rec.last()
			if tc.wantPath != "" && req.URL.Path != tc.wantPath {
				t.Errorf("path %q, want %q", req.URL.Path, tc.wantPath)
			}
			if req.Header.Get("X-Api-Key") != "" || req.Header.Get("Authorization") != "" {
				t.Error("the exchange carried a credential header")
			}
			for k, want := range map[string]string{"Content-Type": "application/json", "Accept": "application/json", "User-Agent": DefaultUserAgent} {
				if got := req.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			var sent map[string]string
			if err := json.Unmarshal(body, &sent); err != nil || sent["oidc_token"] != oidc || sent["service_slug"] != "svc-ab12" || len(sent) != 2 {
				t.Errorf("body %s is not {oidc_token, service_slug} (%v)", body, err)
			}
			if tc.check != nil {
				tc.check(t, tok)
			}
		})
	}
}

func TestExchangeValidatesInput(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("nothing should be sent, got %s %s", r.Method, r.URL)
	}))
	defer srv.Close()
	c, err := NewClient(Options{APIURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	jwt := oidcToken(t, time.Now().Add(time.Hour), nil)
	secret := "ghp_notajwt_but_secret_value_1234567890"
	tests := []struct{ name, org, svc, tok, want string }{
		{"empty org", "", "svc", jwt, "no organization"},
		{"org with slash", "acme/x", "svc", jwt, "not a slug"},
		{"empty service", "acme", " ", jwt, "no service account"},
		{"service name not slug", "acme", "My Service", jwt, "not its name"},
		{"empty token", "acme", "svc", "  \n", "OIDC token is empty"},
		{"not a JWT", "acme", "svc", secret, "not a JWT"},
		{"two parts", "acme", "svc", "abc.def", "not a JWT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Exchange(context.Background(), tc.org, tc.svc, tc.tok)
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("err = %v, want ErrInvalidInput", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q lacks %q", err, tc.want)
			}
			if strings.TrimSpace(tc.tok) != "" && strings.Contains(err.Error(), tc.tok) {
				t.Errorf("error echoes the token: %v", err)
			}
		})
	}
}

func TestExchangeTrimsTokenWhitespace(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]string
		_ = json.NewDecoder(r.Body).Decode(&b)
		got = b["oidc_token"]
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"token":"x"}`))
	}))
	defer srv.Close()
	c, _ := NewClient(Options{APIURL: srv.URL})
	tok := oidcToken(t, time.Now().Add(time.Hour), nil)
	if _, err := c.Exchange(context.Background(), "acme", "svc", tok+"\n"); err != nil {
		t.Fatal(err)
	}
	if got != tok {
		t.Errorf("sent %q, want the token without its newline", got)
	}
}
