package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// binPath is the cloudsmith-oidc binary TestMain builds, for tests that
// need a real process (signals, real package managers).
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cloudsmith-oidc-bin-")
	if err != nil {
		panic(err)
	}
	name := "cloudsmith-oidc"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	binPath = filepath.Join(dir, name)
	build := exec.Command("go", "build", "-o", binPath, "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic("building cloudsmith-oidc: " + err.Error())
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// testKey signs the fake server's tokens and test OIDC tokens.
var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// mintJWT returns a signed JWT with exp in d and a unique jti, so every
// call yields a different token.
func mintJWT(t testing.TB, d time.Duration, extra map[string]any) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	claims := map[string]any{"iss": "https://jenkins.example/oidc", "aud": "cloudsmith", "sub": "https://jenkins.example/job/x/",
		"exp": time.Now().Add(d).Unix(), "iat": time.Now().Unix(), "jti": hex.EncodeToString(b)}
	for k, v := range extra {
		claims[k] = v
	}
	tok, err := jwtutil.Sign(testKey, "test-kid", claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// fakeCloudsmith is a tiny exchange endpoint that counts requests; the
// full emulator is used by the end-to-end tests.
type fakeCloudsmith struct {
	*httptest.Server
	requests atomic.Int32
	issued   chan string
	status   int
}

func newFake(t *testing.T) *fakeCloudsmith {
	t.Helper()
	f := &fakeCloudsmith{issued: make(chan string, 100), status: http.StatusCreated}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		var body struct {
			OIDCToken   string `json:"oidc_token"`
			ServiceSlug string `json:"service_slug"`
		}
		if r.Method != http.MethodPost || r.URL.Path != "/openid/acme/" || json.NewDecoder(r.Body).Decode(&body) != nil || body.OIDCToken == "" || body.ServiceSlug != "ci" {
			http.Error(w, `{"detail":"bad request"}`, http.StatusBadRequest)
			return
		}
		if f.status != http.StatusCreated {
			w.WriteHeader(f.status)
			_, _ = w.Write([]byte(`{"detail":"OIDC token cannot be authenticated."}`))
			return
		}
		tok := mintJWT(t, 2*time.Hour, map[string]any{"iss": "https://api.cloudsmith.io"})
		f.issued <- tok
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
	}))
	t.Cleanup(f.Close)
	return f
}

// lastToken returns the most recently issued Cloudsmith token.
func (f *fakeCloudsmith) lastToken(t *testing.T) string {
	t.Helper()
	var tok string
	for {
		select {
		case tok = <-f.issued:
		default:
			if tok == "" {
				t.Fatal("the fake issued no token")
			}
			return tok
		}
	}
}

// env is a test environment for in-process runs.
func (f *fakeCloudsmith) env(t *testing.T, oidc string) map[string]string {
	return map[string]string{
		"OIDC_TOKEN":                oidc,
		"CLOUDSMITH_ORG":            "acme",
		"CLOUDSMITH_SERVICE_SLUG":   "ci",
		"CLOUDSMITH_REPO":           "demo",
		"CLOUDSMITH_API_URL":        f.URL,
		"CLOUDSMITH_OIDC_CACHE_DIR": filepath.Join(t.TempDir(), "cache"),
	}
}

type result struct {
	code        int
	out, errOut string
}

// runApp runs the app in-process with env and stdin.
func runApp(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	ios, in, out, errOut := iostreams.Test(env)
	in.WriteString(stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Main(ctx, append([]string{"cloudsmith-oidc"}, args...), ios)
	return result{code, out.String(), errOut.String()}
}

// assertNoSecrets fails if any form of any secret appears in texts: the
// check every test applies to everything a person or log could read.
func assertNoSecrets(t *testing.T, secrets []string, texts ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range pkgconfig.SecretForms(s) {
			for i, text := range texts {
				if strings.Contains(text, form) {
					// Shown masked: the test log must not leak it either.
					t.Errorf("a secret (%d chars) appears in output #%d:\n%s", len(s), i, redact.String(text, pkgconfig.SecretForms(s)...))
				}
			}
		}
		// The signature alone would be enough to replay a JWT.
		if parts := strings.Split(s, "."); len(parts) == 3 {
			for i, text := range texts {
				if strings.Contains(text, parts[2]) {
					t.Errorf("a JWT signature appears in output #%d", i)
				}
			}
		}
	}
}

// assertMode checks a path's permission bits (skipped on Windows).
func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %04o, want %04o", path, got, want)
	}
}
