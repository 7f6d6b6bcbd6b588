package trust_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

func errorsOf(r *trust.CheckResult) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(string(f.Severity) + ": " + f.Message + "\n")
	}
	return b.String()
}

// The scenario: export, check OK; the credential re-saved in
// Jenkins (key rotated), check fails and names the stale key; export again,
// check OK.
func TestExportCheckResaveExport(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	d := w.Export()

	cfg, err := os.ReadFile(filepath.Join(w.Dir, ".well-known", "openid-configuration"))
	if err != nil {
		t.Fatal(err)
	}
	wantCfg, wantJWKS, err := w.Env.Jenkins.Discovery(w.Ctx(), w.Issuer, "oidc-token-cred", "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cfg, wantCfg) {
		t.Errorf("exported openid-configuration is not byte-for-byte Jenkins':\n%s\n%s", cfg, wantCfg)
	}
	jwks, _ := os.ReadFile(filepath.Join(w.Dir, "jwks"))
	if !bytes.Equal(jwks, wantJWKS) {
		t.Errorf("exported jwks is not byte-for-byte Jenkins':\n%s\n%s", jwks, wantJWKS)
	}
	for _, f := range []string{"jwks", ".well-known/openid-configuration"} {
		fi, err := os.Stat(filepath.Join(w.Dir, f))
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, err %v; want 0644", f, fi.Mode(), err)
		}
	}

	res := trust.Check(w.Ctx(), w.Env.Issuer, d)
	if !res.OK() {
		t.Fatalf("check after export failed:\n%s", errorsOf(res))
	}
	// http.FileServer sniffs text/plain for files without an extension:
	// a warning, not an error.
	if !strings.Contains(errorsOf(res), "not application/json") {
		t.Errorf("want a content-type warning, got:\n%s", errorsOf(res))
	}
	oldThumb := trust.Thumbprint(d.Keys[0])

	// Re-save the credential: the plugin generates a new key.
	r, _ := render.New(render.Options{})
	out, err := r.Render(w.S)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Env.Jenkins.UpdateCredential(w.Ctx(), "", "oidc-token-cred", out.Credential.FormJSON); err != nil {
		t.Fatal(err)
	}
	now, err := trust.FromJenkins(w.Ctx(), w.Env.Jenkins, w.S)
	if err != nil {
		t.Fatal(err)
	}
	res = trust.Check(w.Ctx(), w.Env.Issuer, now)
	if res.OK() {
		t.Fatal("check passed although the hosted key is stale")
	}
	msg := res.Err().Error()
	for _, want := range []string{`stale key for kid "oidc-token-cred"`, oldThumb, trust.Thumbprint(now.Keys[0]), "discovery export"} {
		if !strings.Contains(msg, want) {
			t.Errorf("check error lacks %q:\n%s", want, msg)
		}
	}

	w.Export()
	if res := trust.Check(w.Ctx(), w.Env.Issuer, now); !res.OK() {
		t.Fatalf("check after re-export failed:\n%s", errorsOf(res))
	}
}

func TestExportDefaultIssuerHasNothingToHost(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{DefaultIssuer: true})
	w.Apply()
	d, err := trust.FromJenkins(w.Ctx(), w.Env.Jenkins, w.S)
	if err != nil {
		t.Fatal(err)
	}
	if d.Custom || d.Issuer != w.J.URL+"oidc" {
		t.Fatalf("documents %+v: want Jenkins' own issuer %soidc", d, w.J.URL)
	}
	if _, err := trust.Export(t.TempDir(), d); err == nil || !strings.Contains(err.Error(), "nothing to export") {
		t.Fatalf("Export for the default issuer: %v", err)
	}
	// Jenkins serves them itself, anonymously: check reads them there.
	if res := trust.Check(w.Ctx(), w.Env.Issuer, d); !res.OK() || len(res.Findings) != 0 {
		t.Fatalf("check of Jenkins' own issuer: %s", errorsOf(res))
	}
}

// Each way a hosted document can be wrong is an error naming it, or a
// warning for the content type.
func TestCheckFindings(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	d, err := trust.FromJenkins(w.Ctx(), w.Env.Jenkins, w.S)
	if err != nil {
		t.Fatal(err)
	}
	hosted := func(cfg, jwks, ctype string, status int) *trust.Documents {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", ctype)
			rw.WriteHeader(status)
			body := jwks
			if strings.HasSuffix(r.URL.Path, "openid-configuration") {
				body = strings.ReplaceAll(cfg, "ISSUER", srv.URL)
			}
			_, _ = rw.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		c := *d
		c.Issuer = srv.URL
		c.Config = []byte(strings.ReplaceAll(string(d.Config), w.Issuer, srv.URL))
		return &c
	}
	goodCfg := strings.ReplaceAll(string(d.Config), w.Issuer, "ISSUER")
	tests := []struct {
		name       string
		cfg, jwks  string
		ctype      string
		status     int
		wantOK     bool
		wantSubstr string
	}{
		{"ok", goodCfg, string(d.JWKS), "application/json", 200, true, ""},
		{"content type", goodCfg, string(d.JWKS), "application/octet-stream", 200, true, `served as "application/octet-stream"`},
		{"wrong issuer", strings.Replace(goodCfg, `"issuer":"ISSUER"`, `"issuer":"ISSUER/"`, 1), string(d.JWKS), "application/json", 200, false, "names issuer"},
		{"wrong jwks_uri", strings.Replace(goodCfg, "ISSUER/jwks", "ISSUER/keys", 1), string(d.JWKS), "application/json", 200, false, "names jwks_uri"},
		{"html page", "<!DOCTYPE html><html><body>Not Found</body></html>", "", "text/html", 200, false, "an HTML page"},
		{"404", "nope", "", "text/plain", 404, false, "answers 404"},
		{"html 404", "<html><body><h1>404 Not Found</h1></body></html>", "", "text/html", 404, false, "answers 404 Not Found, an HTML page"},
		{"missing key", goodCfg, `{"keys":[{"kid":"other","kty":"RSA","alg":"RS256","use":"sig","n":"AQAB","e":"AQAB"}]}`, "application/json", 200, false, `lacks key "oidc-token-cred"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := hosted(tt.cfg, tt.jwks, tt.ctype, tt.status)
			res := trust.Check(w.Ctx(), w.Env.Issuer, want)
			if res.OK() != tt.wantOK {
				t.Fatalf("OK = %v, want %v:\n%s", res.OK(), tt.wantOK, errorsOf(res))
			}
			if !strings.Contains(errorsOf(res), tt.wantSubstr) {
				t.Errorf("findings lack %q:\n%s", tt.wantSubstr, errorsOf(res))
			}
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c := *d
		c.Issuer = srv.URL
		res := trust.Check(w.Ctx(), w.Env.Issuer, &c)
		if res.OK() || !strings.Contains(errorsOf(res), "cannot fetch the openid-configuration") {
			t.Fatalf("findings: %s", errorsOf(res))
		}
	})
	t.Run("plain http to a remote host", func(t *testing.T) {
		c := *d
		c.Issuer = "http://issuer.example.com"
		res := trust.Check(w.Ctx(), w.Env.Issuer, &c)
		if res.OK() || !strings.Contains(errorsOf(res), "plain http") {
			t.Fatalf("findings: %s", errorsOf(res))
		}
	})
}
