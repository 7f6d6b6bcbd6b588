package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func noSleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

func TestRetry(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		retryable bool
		statuses  []int // served in order; the last repeats
		want      int
		attempts  int
	}{
		{"503 then ok", http.MethodGet, false, []int{503, 503, 200}, 200, 3},
		{"429 then ok", http.MethodGet, false, []int{429, 200}, 200, 2},
		{"404 not retried", http.MethodGet, false, []int{404, 200}, 404, 1},
		{"401 not retried", http.MethodPost, true, []int{401, 200}, 401, 1},
		{"post not retried by default", http.MethodPost, false, []int{503, 200}, 503, 1},
		{"post retried when marked", http.MethodPost, true, []int{503, 200}, 200, 2},
		{"gives up after max attempts", http.MethodGet, false, []int{500}, 500, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				if i >= len(tt.statuses) {
					i = len(tt.statuses) - 1
				}
				body, _ := io.ReadAll(r.Body)
				if r.Method == http.MethodPost && string(body) != "payload" {
					t.Errorf("attempt %d got body %q", i+1, body)
				}
				if tt.statuses[i] == 429 {
					w.Header().Set("Retry-After", "0")
				}
				w.WriteHeader(tt.statuses[i])
			}))
			defer srv.Close()
			client := &http.Client{Transport: &Retry{MaxAttempts: 4, Sleep: noSleep}}
			ctx := context.Background()
			if tt.retryable {
				ctx = WithRetryable(ctx)
			}
			req, _ := http.NewRequestWithContext(ctx, tt.method, srv.URL, strings.NewReader("payload"))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want || int(n.Load()) != tt.attempts {
				t.Errorf("status %d after %d attempts, want %d after %d", resp.StatusCode, n.Load(), tt.want, tt.attempts)
			}
		})
	}
}

func TestRetryStopsAtDeadline(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	client := &http.Client{Transport: &Retry{MaxAttempts: 10}}
	ctx := WithDeadline(context.Background(), time.Now().Add(time.Second))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n.Load() != 1 || time.Since(start) > 5*time.Second {
		t.Errorf("%d attempts; a Retry-After past the deadline must not be waited for", n.Load())
	}
}

func TestRetryNetworkError(t *testing.T) {
	var n atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if n.Add(1) < 3 {
			return nil, errors.New("connection reset by peer")
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})
	client := &http.Client{Transport: &Retry{Next: rt, Sleep: noSleep}}
	resp, err := client.Get("http://example.invalid/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n.Load() != 3 {
		t.Errorf("attempts = %d, want 3", n.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestHeaderAuthOnlyForItsHost(t *testing.T) {
	var seen []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.URL.Host+"="+r.Header.Get("X-Api-Key"))
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})
	auth := &HeaderAuth{Host: "api.example.com", Next: rt, Header: func() http.Header { return http.Header{"X-Api-Key": {"k"}} }}
	c := &http.Client{Transport: auth}
	for _, u := range []string{"https://api.example.com/x", "https://evil.example.com/x"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if strings.Join(seen, ",") != "api.example.com=k,evil.example.com=" {
		t.Errorf("seen %v", seen)
	}
}

func TestSafeURL(t *testing.T) {
	u, _ := http.NewRequest(http.MethodGet, "https://user:pw@h/p?token=abc&x=1", nil)
	got := SafeURL(u.URL)
	if strings.Contains(got, "abc") || strings.Contains(got, "pw") {
		t.Errorf("SafeURL leaked: %s", got)
	}
}
