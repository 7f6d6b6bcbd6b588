package app

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExchangeOutputs(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		toFile bool
		check  func(t *testing.T, got, tok string)
	}{
		{"raw to stdout", []string{"--output", "-"}, false, func(t *testing.T, got, tok string) {
			if got != tok+"\n" {
				t.Errorf("stdout = %q..., want the token and a newline", got[:min(len(got), 10)])
			}
		}},
		{"raw to file", []string{"--output", "FILE"}, true, func(t *testing.T, got, tok string) {
			if got != tok+"\n" {
				t.Error("file does not hold the token")
			}
		}},
		{"json", []string{"--output", "FILE", "--as", "json"}, true, func(t *testing.T, got, tok string) {
			var v struct {
				Token     string `json:"token"`
				ExpiresAt string `json:"expires_at"`
			}
			if err := json.Unmarshal([]byte(got), &v); err != nil {
				t.Fatal(err)
			}
			exp, err := time.Parse(time.RFC3339, v.ExpiresAt)
			if v.Token != tok || err != nil || time.Until(exp) < time.Hour {
				t.Errorf("json = token match %v, expires_at %q (%v)", v.Token == tok, v.ExpiresAt, err)
			}
		}},
		{"env", []string{"--output", "-", "--as", "env"}, false, func(t *testing.T, got, tok string) {
			if got != "CLOUDSMITH_API_KEY="+tok+"\n" {
				t.Error("env output is not CLOUDSMITH_API_KEY=<token>")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			oidc := mintJWT(t, time.Hour, nil)
			file := filepath.Join(t.TempDir(), "token")
			args := []string{"exchange"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "FILE", file))
			}
			r := runApp(t, f.env(t, oidc), "", args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.errOut)
			}
			tok := f.lastToken(t)
			got := r.out
			if tt.toFile {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				got = string(b)
				assertMode(t, file, 0o600)
				assertNoSecrets(t, []string{tok, oidc}, r.out, r.errOut)
			} else {
				assertNoSecrets(t, []string{tok, oidc}, r.errOut)
			}
			tt.check(t, got, tok)
		})
	}
}

func TestExchangeWithoutOutputWritesNothing(t *testing.T) {
	f := newFake(t)
	oidc := mintJWT(t, time.Hour, nil)
	r := runApp(t, f.env(t, oidc), "", "exchange")
	if r.code != 0 || r.out != "" || !strings.Contains(r.errOut, "exchange ok") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.out, r.errOut)
	}
	assertNoSecrets(t, []string{f.lastToken(t), oidc}, r.errOut)
}

func TestExchangeTokenSources(t *testing.T) {
	oidc := mintJWT(t, time.Hour, nil)
	file := filepath.Join(t.TempDir(), "oidc")
	if err := os.WriteFile(file, []byte(oidc+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
	}{
		{"env", map[string]string{"OIDC_TOKEN": oidc}, "", nil},
		{"file flag", map[string]string{"OIDC_TOKEN": "not-this"}, "", []string{"--token-file", file}},
		{"file env", map[string]string{"OIDC_TOKEN_FILE": file}, "", nil},
		{"file env wins", map[string]string{"OIDC_TOKEN_FILE": file, "OIDC_TOKEN": "not-this", "CLOUDSMITH_OIDC_TOKEN": "not-this"}, "", nil},
		{"cloudsmith cli name", map[string]string{"CLOUDSMITH_OIDC_TOKEN": oidc}, "", nil},
		{"ours wins", map[string]string{"OIDC_TOKEN": oidc, "CLOUDSMITH_OIDC_TOKEN": "not-this"}, "", nil},
		{"stdin", nil, oidc + "\n", []string{"--token-file", "-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			env := f.env(t, "")
			delete(env, "OIDC_TOKEN")
			for k, v := range tt.env {
				env[k] = v
			}
			r := runApp(t, env, tt.stdin, append([]string{"exchange", "--no-cache", "--output", "-"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.errOut)
			}
			if f.requests.Load() != 1 {
				t.Errorf("%d requests, want 1", f.requests.Load())
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	oidc := mintJWT(t, time.Hour, nil)
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		contains string
	}{
		{"token flag refused", nil, []string{"exchange", "--token=" + oidc}, ExitUsage, "there is no --token flag"},
		{"oidc-token flag refused", nil, []string{"exec", "--oidc-token", oidc, "--", "true"}, ExitUsage, "there is no --oidc-token flag"},
		{"no token", map[string]string{"CLOUDSMITH_ORG": "acme", "CLOUDSMITH_SERVICE_SLUG": "ci"}, []string{"exchange"}, ExitError, "no OIDC token"},
		{"no org", map[string]string{"OIDC_TOKEN": oidc}, []string{"exchange"}, ExitError, "CLOUDSMITH_ORG"},
		{"format on exchange", nil, []string{"exchange", "--format", "python"}, ExitUsage, "exchange has no package formats"},
		{"bad --as", nil, []string{"exchange", "--as", "xml"}, ExitUsage, "--as"},
		{"unknown format", map[string]string{"CLOUDSMITH_REPO": "demo"}, []string{"configure", "rubygems"}, ExitUsage, "unknown format"},
		{"no format", map[string]string{"CLOUDSMITH_REPO": "demo"}, []string{"configure"}, ExitUsage, "at least one format"},
		{"exec without command", nil, []string{"exec", "--"}, ExitUsage, "needs a command"},
		{"unknown command", nil, []string{"frobnicate"}, ExitUsage, "unknown command"},
		{"unknown flag", nil, []string{"exchange", "--frob"}, ExitUsage, "flag provided but not defined"},
		// A token pasted as an argument is quoted back masked.
		{"token as exchange argument", nil, []string{"exchange", oidc}, ExitUsage, "exchange takes no arguments"},
		{"token as a format", map[string]string{"CLOUDSMITH_REPO": "demo"}, []string{"configure", oidc}, ExitUsage, "unknown format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runApp(t, tt.env, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.errOut, tt.contains) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.errOut, tt.code, tt.contains)
			}
			assertNoSecrets(t, []string{oidc}, r.out, r.errOut)
		})
	}
}

func TestExchangeFailureIsExplainedWithoutTokens(t *testing.T) {
	f := newFake(t)
	f.status = http.StatusUnauthorized
	oidc := mintJWT(t, time.Hour, nil)
	r := runApp(t, f.env(t, oidc), "", "exchange", "--output", "-")
	if r.code != ExitError {
		t.Fatalf("exit %d, want %d", r.code, ExitError)
	}
	if f.requests.Load() != 1 {
		t.Errorf("a 401 was retried: %d requests", f.requests.Load())
	}
	if !strings.Contains(r.errOut, "https://jenkins.example/oidc") {
		t.Errorf("the error does not name the token's issuer:\n%s", r.errOut)
	}
	assertNoSecrets(t, []string{oidc}, r.out, r.errOut)
}

func TestExchangeOutputRefusesSymlink(t *testing.T) {
	f := newFake(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	link := filepath.Join(dir, "token")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	r := runApp(t, f.env(t, mintJWT(t, time.Hour, nil)), "", "exchange", "--output", link)
	if r.code == 0 || !strings.Contains(r.errOut, "symlink") {
		t.Fatalf("exit %d, stderr %q: want a refusal", r.code, r.errOut)
	}
	if _, err := os.Stat(target); err == nil {
		t.Error("the token was written through the symlink")
	}
}

func TestCache(t *testing.T) {
	f := newFake(t)
	oidc := mintJWT(t, time.Hour, nil)
	env := f.env(t, oidc)
	cacheDir := env["CLOUDSMITH_OIDC_CACHE_DIR"]

	first := runApp(t, env, "", "exchange", "--output", "-")
	second := runApp(t, env, "", "exchange", "--output", "-")
	if first.code != 0 || second.code != 0 {
		t.Fatalf("exits %d, %d: %s %s", first.code, second.code, first.errOut, second.errOut)
	}
	if n := f.requests.Load(); n != 1 {
		t.Fatalf("%d exchange requests for two calls with one OIDC token, want 1 (cache miss)", n)
	}
	if first.out != second.out {
		t.Error("the cached token differs from the exchanged one")
	}
	assertMode(t, cacheDir, 0o700)
	ents, _ := os.ReadDir(cacheDir)
	for _, e := range ents {
		assertMode(t, filepath.Join(cacheDir, e.Name()), 0o600)
	}

	// --no-cache always exchanges.
	runApp(t, env, "", "exchange", "--no-cache")
	if n := f.requests.Load(); n != 2 {
		t.Errorf("--no-cache: %d requests, want 2", n)
	}

	// Another OIDC token (another binding) is another key.
	env2 := map[string]string{}
	for k, v := range env {
		env2[k] = v
	}
	env2["OIDC_TOKEN"] = mintJWT(t, time.Hour, nil)
	runApp(t, env2, "", "exchange")
	if n := f.requests.Load(); n != 3 {
		t.Errorf("new OIDC token: %d requests, want 3", n)
	}

	// A corrupted entry is ignored, not trusted.
	ents, _ = os.ReadDir(cacheDir)
	for _, e := range ents {
		if err := os.WriteFile(filepath.Join(cacheDir, e.Name()), []byte(`{"key":`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if r := runApp(t, env, "", "exchange"); r.code != 0 {
		t.Fatalf("corrupt cache: exit %d: %s", r.code, r.errOut)
	}
	if n := f.requests.Load(); n != 4 {
		t.Errorf("corrupt cache: %d requests, want 4", n)
	}

	// A cache directory open to others is refused (with a warning) and the
	// exchange still works.
	if err := os.Chmod(cacheDir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := runApp(t, env, "", "exchange")
	if r.code != 0 || !strings.Contains(r.errOut, "not caching") {
		t.Errorf("loose cache dir: exit %d, stderr %q", r.code, r.errOut)
	}
	if n := f.requests.Load(); n != 5 {
		t.Errorf("loose cache dir: %d requests, want 5", n)
	}
}

func TestCacheDirDefaultsToWorkspaceTmp(t *testing.T) {
	f := newFake(t)
	env := f.env(t, mintJWT(t, time.Hour, nil))
	delete(env, "CLOUDSMITH_OIDC_CACHE_DIR")
	ws := t.TempDir()
	env["WORKSPACE_TMP"] = ws
	if r := runApp(t, env, "", "exchange"); r.code != 0 {
		t.Fatal(r.errOut)
	}
	ents, err := os.ReadDir(filepath.Join(ws, "cloudsmith-oidc"))
	if err != nil || len(ents) != 1 {
		t.Fatalf("cache entries under $WORKSPACE_TMP/cloudsmith-oidc: %v, %v", ents, err)
	}
}

func TestInspect(t *testing.T) {
	oidc := mintJWT(t, time.Hour, map[string]any{"build_number": 42})
	r := runApp(t, map[string]string{"OIDC_TOKEN": oidc}, "", "inspect")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	var v struct {
		Header map[string]any `json:"header"`
		Claims map[string]any `json:"claims"`
	}
	if err := json.Unmarshal([]byte(r.out), &v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.out)
	}
	if v.Header["kid"] != "test-kid" || v.Claims["iss"] != "https://jenkins.example/oidc" || v.Claims["build_number"] != 42.0 {
		t.Errorf("header %v, claims %v", v.Header, v.Claims)
	}
	if !strings.Contains(r.errOut, "provider URL must be exactly") || !strings.Contains(r.errOut, "valid for") {
		t.Errorf("no hints on stderr:\n%s", r.errOut)
	}
	assertNoSecrets(t, []string{oidc}, r.out, r.errOut)
}
