package app

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/oidctest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
)

// These tests run the built binary against the Cloudsmith emulator, with
// OIDC tokens from a loopback issuer, and let real package managers
// (which nobody here wrote) install the demo packages through it.

// world is an emulator trusting a test issuer for service "jenkins".
type world struct {
	cs   *cloudsmithtest.Server
	iss  *oidctest.Issuer
	dir  string
	base []string // environment for the binary
}

func newWorld(t *testing.T, opts ...cloudsmithtest.Option) *world {
	t.Helper()
	iss, err := oidctest.Start("oidc-token-cred")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = iss.Close() })
	cs, err := cloudsmithtest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	if _, err := cs.Cloudsmith.AddService(cloudsmithtest.Service{Name: "jenkins", Slug: "jenkins"}); err != nil {
		t.Fatal(err)
	}
	// Write: the round trips publish before they install.
	if err := cs.Cloudsmith.GrantPrivilege(cs.Cloudsmith.Org(), cs.Cloudsmith.Repo(), "jenkins", cloudsmithtest.PrivilegeWrite); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Cloudsmith.AddProvider(cloudsmithtest.ProviderSettings{Name: "Jenkins", ProviderURL: iss.URL, Enabled: true,
		Claims: map[string]any{"aud": "cloudsmith"}, ServiceAccounts: []string{"jenkins"}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w := &world{cs: cs, iss: iss, dir: dir}
	w.base = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LANG=C.UTF-8",
		"CLOUDSMITH_ORG=" + cs.Org, "CLOUDSMITH_SERVICE_SLUG=jenkins", "CLOUDSMITH_REPO=" + cs.Repo,
		"CLOUDSMITH_OIDC_CACHE_DIR=" + filepath.Join(dir, "cache"),
	}, cs.Env()...)
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION", "GOROOT"} {
		if v, ok := os.LookupEnv(k); ok {
			w.base = append(w.base, k+"="+v)
		}
	}
	return w
}

// mint returns a fresh OIDC token the emulator accepts.
func (w *world) mint(t *testing.T) string {
	t.Helper()
	tok, err := w.iss.Mint("cloudsmith", "https://jenkins.example/job/build/", map[string]any{"build_number": 1})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// run runs the binary in dir with the world's environment plus env.
func (w *world) run(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string(nil), w.base...), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// token exchanges oidc (filling the cache the next command shares) and
// returns the Cloudsmith token, so tests can look for it in output.
func (w *world) token(t *testing.T, oidc string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "token")
	_, stderr, code := w.run(t, w.dir, []string{"OIDC_TOKEN=" + oidc}, "exchange", "--output", file)
	if code != 0 {
		t.Fatalf("exchange: exit %d: %s (emulator: %s)", code, stderr, w.cs.Cloudsmith.LastExchangeFailure())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// start is newWorld plus one OIDC token, already exchanged (so the cache
// holds the token the next command uses, and the test can look for it).
func start(t *testing.T, opts ...cloudsmithtest.Option) (w *world, oidc, tok string) {
	t.Helper()
	w = newWorld(t, opts...)
	oidc = w.mint(t)
	return w, oidc, w.token(t, oidc)
}

// execOK runs the binary with OIDC_TOKEN=oidc, fails unless it exits 0,
// checks its output for secrets and returns its stdout.
func (w *world) execOK(t *testing.T, dir, oidc, tok string, env []string, args ...string) string {
	t.Helper()
	out, errOut, code := w.run(t, dir, append([]string{"OIDC_TOKEN=" + oidc}, env...), args...)
	if code != 0 {
		t.Fatalf("%s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errOut)
	}
	assertNoSecrets(t, []string{tok, oidc}, out, errOut)
	return out
}

// writeFiles writes path → content, creating directories.
func writeFiles(t *testing.T, files map[string]string) {
	t.Helper()
	for p, body := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func needTool(t *testing.T, name string, args ...string) {
	t.Helper()
	testenv.LookPath(t, name, args...)
}

func (w *world) exchanges() int {
	n := 0
	for _, r := range w.cs.Cloudsmith.Requests() {
		if strings.HasPrefix(r.Path, "/openid/") {
			n++
		}
	}
	return n
}

func TestEndToEndPip(t *testing.T) {
	needTool(t, "python3", "-m", "pip", "--version")
	w, oidc, tok := start(t)
	target := filepath.Join(w.dir, "site")
	out := w.execOK(t, w.dir, oidc, tok, []string{"PIP_NO_CACHE_DIR=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1", "PYTHONNOUSERSITE=1"},
		"exec", "--format", "python", "--", "python3", "-m", "pip", "install", "-v", "--no-deps", "--target", target, "hello-cloudsmith==1.0.0")
	if _, err := os.Stat(filepath.Join(target, "hello_cloudsmith")); err != nil {
		t.Errorf("hello_cloudsmith not installed: %v\n%s", err, out)
	}
	if n := w.exchanges(); n != 1 {
		t.Errorf("%d exchanges for two commands with one OIDC token, want 1", n)
	}
}

func TestEndToEndNPM(t *testing.T) {
	needTool(t, "npm", "--version")
	w, oidc, tok := start(t)
	proj := filepath.Join(w.dir, "proj")
	writeFiles(t, map[string]string{filepath.Join(proj, "package.json"): `{"name":"consumer","version":"0.0.0","private":true}`})
	env := []string{"NPM_CONFIG_CACHE=" + filepath.Join(w.dir, "npm-cache"), "NPM_CONFIG_GLOBALCONFIG=" + filepath.Join(w.dir, "global-npmrc"),
		"NPM_CONFIG_UPDATE_NOTIFIER=false", "NPM_CONFIG_FETCH_RETRIES=0"}
	w.execOK(t, proj, oidc, tok, env, "exec", "--format", "npm", "--", "npm", "install", "--no-audit", "--no-fund", "--loglevel", "http", "hello-cloudsmith@1.0.0")
	pkg, err := os.ReadFile(filepath.Join(proj, "node_modules", "hello-cloudsmith", "package.json"))
	if err != nil || !strings.Contains(string(pkg), `"1.0.0"`) {
		t.Fatalf("installed package.json: %v %s", err, pkg)
	}
}

func TestEndToEndGo(t *testing.T) {
	// The go command authenticates over https only; here it trusts the
	// emulator through SSL_CERT_FILE, set on the agent.
	goModDownload(t, func(ca string) []string { return []string{"SSL_CERT_FILE=" + ca} })
}

// goModDownload runs `go mod download` of the demo module through exec
// against the emulator's https Go host; trust(ca) is the environment that
// makes the go command trust the emulator's certificate file ca.
func goModDownload(t *testing.T, trust func(ca string) []string) {
	t.Helper()
	needTool(t, "go", "version")
	w, oidc, tok := start(t, cloudsmithtest.WithTLS(cloudsmithtest.HostGo))
	proj := filepath.Join(w.dir, "proj")
	ca := filepath.Join(w.dir, "ca.pem")
	writeFiles(t, map[string]string{
		filepath.Join(proj, "go.mod"): "module consumer\n\ngo 1.21\n\nrequire " + cloudsmithtest.DemoGoModule + " " + cloudsmithtest.DemoGoVersion + "\n",
		filepath.Join(proj, "go.sum"): w.cs.Cloudsmith.GoSum(),
		ca:                            string(w.cs.CACertPEM),
	})
	env := append(trust(ca), "GOFLAGS=-modcacherw", "GOTOOLCHAIN=local", "GOENV=off",
		"GOPATH="+filepath.Join(w.dir, "gopath"), "GOMODCACHE="+filepath.Join(w.dir, "modcache"), "GOCACHE="+filepath.Join(w.dir, "gocache"))
	out := w.execOK(t, proj, oidc, tok, env, "exec", "--format", "go", "--go-nosumdb", "example.com", "--",
		"go", "mod", "download", "-x", "-json", cloudsmithtest.DemoGoModule+"@"+cloudsmithtest.DemoGoVersion)
	if !strings.Contains(out, `"Version": "v1.0.0"`) || strings.Contains(out, `"Error"`) {
		t.Fatalf("go mod download:\n%s", out)
	}
}

func TestEndToEndRawWithCurl(t *testing.T) {
	needTool(t, "curl", "--version")
	w, oidc, tok := start(t)
	out := w.execOK(t, w.dir, oidc, tok, nil, "exec", "--format", "raw", "--",
		"sh", "-c", `curl -fsS --netrc-file "$NETRC" "${CLOUDSMITH_RAW_URL}hello.txt"`)
	if strings.TrimSpace(out) == "" {
		t.Error("hello.txt is empty")
	}
}

func TestEndToEndSurvivesFaults(t *testing.T) {
	// A third of API requests fail with 503, 429 or a reset.
	w := newWorld(t, cloudsmithtest.WithFaultRate(0.33, 7), cloudsmithtest.WithRetryAfter(0))
	for i := range 4 {
		oidc := w.mint(t)
		out, errOut, code := w.run(t, w.dir, []string{"OIDC_TOKEN=" + oidc}, "exchange", "--no-cache", "--output", "-", "--as", "json")
		if code != 0 {
			t.Fatalf("exchange %d under faults: exit %d: %s", i, code, errOut)
		}
		if !strings.Contains(out, `"expires_at"`) {
			t.Errorf("exchange %d: %q", i, out)
		}
	}
}

func TestEndToEndUntrustedTokenFailsFast(t *testing.T) {
	w := newWorld(t)
	other, err := oidctest.Start("other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	oidc, err := other.Mint("cloudsmith", "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, errOut, code := w.run(t, w.dir, []string{"OIDC_TOKEN=" + oidc}, "exchange", "--no-cache")
	if code != ExitError || !strings.Contains(errOut, other.URL) {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	if n := w.exchanges(); n != 1 || time.Since(start) > 10*time.Second {
		t.Errorf("a 401 took %d requests and %s; want 1 request, fast", n, time.Since(start))
	}
	assertNoSecrets(t, []string{oidc}, errOut)
}

func TestEndToEndTLSAlwaysVerified(t *testing.T) {
	w := newWorld(t, cloudsmithtest.WithTLS(cloudsmithtest.HostAPI))
	oidc := w.mint(t)
	_, errOut, code := w.run(t, w.dir, []string{"OIDC_TOKEN=" + oidc}, "exchange", "--no-cache")
	if code == 0 || !strings.Contains(errOut, "certificate") {
		t.Fatalf("an untrusted certificate was accepted: exit %d, %s", code, errOut)
	}
	ca := filepath.Join(w.dir, "ca.pem")
	writeFiles(t, map[string]string{ca: string(w.cs.CACertPEM)})
	out, errOut, code := w.run(t, w.dir, []string{"OIDC_TOKEN=" + oidc}, "exchange", "--no-cache", "--ca-bundle", ca, "--output", "-", "--as", "json")
	if code != 0 || !strings.Contains(out, `"token"`) {
		t.Fatalf("with --ca-bundle: exit %d, %s", code, errOut)
	}
	assertNoSecrets(t, []string{oidc}, errOut)
}

// TestEndToEndGoTrustsCABundle: --ca-bundle (CLOUDSMITH_CA_BUNDLE, which a
// job with cloudsmith.ca_bundle sets) reaches the package manager too: the
// go command trusts the https emulator without SSL_CERT_FILE being set.
func TestEndToEndGoTrustsCABundle(t *testing.T) {
	goModDownload(t, func(ca string) []string { return []string{"CLOUDSMITH_CA_BUNDLE=" + ca} })
}
