package cloudsmith

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseClaims(t *testing.T) {
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tests := []struct {
		name  string
		extra map[string]any
		check func(t *testing.T, c Claims)
	}{
		{"jenkins token", nil, func(t *testing.T, c Claims) {
			if c.Issuer != "https://jenkins.example.com/oidc" || c.Subject == "" || c.KeyID != "jenkins-oidc-cred" || c.Algorithm != "RS256" ||
				len(c.Audience) != 1 || c.Audience[0] != "jenkins" || !c.Expiry.Equal(exp) || c.IssuedAt.IsZero() {
				t.Errorf("%+v", c)
			}
		}},
		{"aud array", map[string]any{"aud": []string{"a", "b"}}, func(t *testing.T, c Claims) {
			if len(c.Audience) != 2 || c.Audience[1] != "b" {
				t.Errorf("aud %v", c.Audience)
			}
		}},
		{"fractional exp", map[string]any{"exp": 1700000000.5}, func(t *testing.T, c Claims) {
			if c.Expiry.Unix() != 1700000000 || c.Expiry.Nanosecond() != 5e8 {
				t.Errorf("exp %v", c.Expiry)
			}
		}},
		{"missing and odd claims", map[string]any{"iss": nil, "aud": nil, "exp": "tomorrow", "iat": -1}, func(t *testing.T, c Claims) {
			if c.Issuer != "" || c.Audience != nil || !c.Expiry.IsZero() || !c.IssuedAt.IsZero() {
				t.Errorf("%+v", c)
			}
			if d := c.describe(time.Now()); !strings.Contains(d, "iss: (none)") || !strings.Contains(d, "exp: (none)") {
				t.Errorf("describe:\n%s", d)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseClaims(oidcToken(t, exp, tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestExcerptMasksBeforeTruncating(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"
	key := "0123456789abcdef0123456789abcdef01234567"
	body := strings.Repeat("é", 180) + " " + jwt + " " + key + strings.Repeat("x", 500)
	got := excerpt([]byte(body), 200)
	if strings.Contains(got, "eyJ") || strings.Contains(got, "0123456789abcdef") || strings.Contains(got, "c2lnbmF0") {
		t.Errorf("excerpt leaks a token: %s", got)
	}
	if n := utf8.RuneCountInString(got); n > 201 {
		t.Errorf("excerpt is %d characters", n)
	}
	if got := excerpt([]byte("a\n\n  b\tsecret-value"), 200, "secret-value"); got != "a b ****" {
		t.Errorf("excerpt = %q", got)
	}
	if got := excerpt([]byte("see /orgs/acme/openid-connect/some-long-provider-slug-perm/ for details"), 200); !strings.Contains(got, "/orgs/acme/openid-connect/") {
		t.Errorf("excerpt over-masks a path: %q", got)
	}
}

func TestExchangeErrorMessages(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	base := Claims{Issuer: "https://j.example/oidc", Audience: []string{"jenkins"}, Subject: "https://j.example/job/a/",
		IssuedAt: now.Add(-time.Minute), Expiry: now.Add(time.Hour), KeyID: "cred"}
	tests := []struct {
		name    string
		err     ExchangeError
		want    []string
		notWant []string
	}{
		{"401 fresh token", ExchangeError{Status: 401, Claims: base}, []string{"401 Unauthorized", `the iss "https://j.example/oidc"`, `aud "jenkins"`, "(in 1h0m0s)", "clock skew between"}, []string{"expired"}},
		{"401 expired", ExchangeError{Status: 401, Claims: func() Claims { c := base; c.Expiry = now.Add(-90 * time.Second); return c }()},
			[]string{"\n  - the OIDC token expired 1m30s ago", "(1m30s ago)"}, []string{"clock skew between"}},
		{"401 iat in the future", ExchangeError{Status: 401, Claims: func() Claims { c := base; c.IssuedAt = now.Add(5 * time.Minute); return c }()},
			[]string{"clock skew: iat is 5m0s in the future"}, []string{"clock skew between"}},
		{"401 no claims", ExchangeError{Status: 401}, []string{"iss: (none)", "aud: (none)"}, nil},
		{"429", ExchangeError{Status: 429, Attempts: 3, Elapsed: time.Second, RetryAfter: "120"}, []string{"after 3 attempts", "wait 120s"}, nil},
		{"network after 503s", ExchangeError{Status: 0, Attempts: 4, LastStatus: 503, Err: context.DeadlineExceeded},
			[]string{"could not reach", "retry budget ran out", "last answer was 503"}, nil},
		{"other 4xx", ExchangeError{Status: 405, Detail: `Method "GET" not allowed.`}, []string{`405 Method Not Allowed: Method "GET" not allowed.`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.err.Org, tc.err.Service, tc.err.APIURL, tc.err.Now = "acme", "svc", "https://api.cloudsmith.io", now
			msg := tc.err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("lacks %q:\n%s", w, msg)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("has %q:\n%s", w, msg)
				}
			}
		})
	}
}
