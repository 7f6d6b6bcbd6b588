package app

import (
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// offLoopbackServer serves plain http on one of this machine's addresses
// that is not loopback (so a request would cross a real network
// interface) and counts what reaches it. Without such an address it
// falls back to a name that never resolves: the refusal must come before
// any lookup either way.
func offLoopbackServer(t *testing.T) (url string, hits *atomic.Int32) {
	t.Helper()
	hits = new(atomic.Int32)
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.To4() == nil {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(ipn.IP.String(), "0"))
		if err != nil {
			continue
		}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			http.Error(w, "should never be reached", http.StatusTeapot)
		}))
		srv.Listener = l
		srv.Start()
		t.Cleanup(srv.Close)
		return srv.URL, hits
	}
	return "http://cloudsmith-api.invalid", hits
}

// TestTokenNeverSentOverPlainHTTPOffLoopback: every command that sends the
// ID token refuses a plain-http API URL that is not loopback, before any
// request, naming the fix; the README promises loopback only.
func TestTokenNeverSentOverPlainHTTPOffLoopback(t *testing.T) {
	api, hits := offLoopbackServer(t)
	for _, args := range [][]string{
		{"exchange", "--output", "-"},
		{"exec", "--", "true"},
		{"configure", "raw"},
	} {
		t.Run(args[0], func(t *testing.T) {
			oidc := mintJWT(t, time.Hour, nil)
			env := map[string]string{
				"OIDC_TOKEN":                oidc,
				"CLOUDSMITH_ORG":            "acme",
				"CLOUDSMITH_SERVICE_SLUG":   "ci",
				"CLOUDSMITH_REPO":           "demo",
				"CLOUDSMITH_API_URL":        api,
				"CLOUDSMITH_DOWNLOAD_URL":   "https://dl.cloudsmith.io",
				"CLOUDSMITH_OIDC_CACHE_DIR": filepath.Join(t.TempDir(), "cache"),
				"WORKSPACE_TMP":             t.TempDir(),
			}
			r := runApp(t, env, "", args...)
			if r.code == 0 {
				t.Fatalf("exit 0 with a plain-http API URL off loopback; stderr:\n%s", r.errOut)
			}
			if !strings.Contains(r.errOut, "plain http") || !strings.Contains(r.errOut, "use https") {
				t.Errorf("the error does not say why and how to fix it:\n%s", r.errOut)
			}
			assertNoSecrets(t, []string{oidc}, r.out, r.errOut)
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the plain-http host", n)
	}
}

// TestInspectHintsRefusePlainHTTPAPI: inspect explains where the exchange
// would go, and that a plain-http API URL off loopback is refused.
func TestInspectHintsRefusePlainHTTPAPI(t *testing.T) {
	oidc := mintJWT(t, time.Hour, nil)
	env := map[string]string{"OIDC_TOKEN": oidc, "CLOUDSMITH_ORG": "acme", "CLOUDSMITH_SERVICE_SLUG": "ci",
		"CLOUDSMITH_API_URL": "http://cloudsmith.example.com"}
	r := runApp(t, env, "", "inspect")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if !strings.Contains(r.errOut, "plain http") || !strings.Contains(r.errOut, "use https") {
		t.Errorf("inspect's hints do not flag the plain-http API URL:\n%s", r.errOut)
	}
	r = runApp(t, map[string]string{"OIDC_TOKEN": oidc, "CLOUDSMITH_ORG": "acme", "CLOUDSMITH_SERVICE_SLUG": "ci",
		"CLOUDSMITH_API_URL": "http://127.0.0.1:9"}, "", "inspect")
	if strings.Contains(r.errOut, "plain http") {
		t.Errorf("inspect flags a loopback API URL:\n%s", r.errOut)
	}
}
