package trust_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

// serve refreshes from Jenkins, keeps the last good copy on errors and
// shuts down when its context ends.
func TestServeRefreshesAndKeepsLastGood(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	first, err := trust.FromJenkins(w.Ctx(), w.Env.Jenkins, w.S)
	if err != nil {
		t.Fatal(err)
	}
	var failing atomic.Bool
	var current atomic.Pointer[trust.Documents]
	current.Store(first)
	srv := &trust.Server{Refresh: 20 * time.Millisecond, Fetch: func(ctx context.Context) (*trust.Documents, error) {
		if failing.Load() {
			return nil, errors.New("jenkins is restarting")
		}
		return current.Load(), nil
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if code, ct, body := get("/jwks"); code != 200 || ct != "application/json" || body != string(first.JWKS) {
		t.Fatalf("GET /jwks = %d %q %q", code, ct, body)
	}
	if code, _, body := get("/.well-known/openid-configuration"); code != 200 || body != string(first.Config) {
		t.Fatalf("GET config = %d %q", code, body)
	}
	if code, _, _ := get("/other"); code != 404 {
		t.Fatalf("GET /other = %d", code)
	}

	failing.Store(true)
	time.Sleep(60 * time.Millisecond)
	if _, _, body := get("/jwks"); body != string(first.JWKS) {
		t.Fatal("a failed refresh dropped the last good JWKS")
	}
	next := *first
	next.JWKS = []byte(strings.Replace(string(first.JWKS), `"use":"sig"`, `"use":"sig" `, 1))
	current.Store(&next)
	failing.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, body := get("/jwks"); body == string(next.JWKS) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refreshed JWKS is never served")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
