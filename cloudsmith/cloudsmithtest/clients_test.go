package cloudsmithtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
)

// These tests install the demo packages with real package managers nobody
// here wrote. They skip when a tool is missing, except under CI.

func needTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	return testenv.LookPath(t, name, args...)
}

// run executes a tool with a clean environment plus env, failing with its
// output (which never holds the token: it is passed by environment or file,
// never argv) on error.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LANG=C.UTF-8"}, env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s: %s", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func hostOf(u string) string { return strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://") }

func TestPipInstall(t *testing.T) {
	py := needTool(t, "python3", "-m", "pip", "--version")
	s := startWithToken(t)
	dir := t.TempDir()
	index := "http://token:" + s.token + "@" + hostOf(s.DownloadURL) + "/basic/acme/demo/python/simple/"
	env := []string{
		"PIP_INDEX_URL=" + index,
		"PIP_TRUSTED_HOST=" + strings.Split(hostOf(s.DownloadURL), ":")[0],
		"PIP_CONFIG_FILE=" + os.DevNull,
		"PIP_NO_CACHE_DIR=1",
		"PIP_DISABLE_PIP_VERSION_CHECK=1",
		"PIP_NO_INPUT=1",
		"PYTHONNOUSERSITE=1",
	}
	// pyenv's shims need their own variables.
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	target := filepath.Join(dir, "site")
	out := run(t, dir, env, py, "-m", "pip", "install", "--no-deps", "--target", target, "hello-cloudsmith==1.0.0")
	if strings.Contains(out, s.token) {
		t.Error("pip printed the token")
	}
	got := run(t, dir, append(env, "PYTHONPATH="+target), py, "-c", "import hello_cloudsmith; print(hello_cloudsmith.hello())")
	if strings.TrimSpace(got) != "Hello from Cloudsmith!" {
		t.Errorf("installed module says %q", got)
	}
	if _, err := os.Stat(filepath.Join(target, "hello_cloudsmith-1.0.0.dist-info", "RECORD")); err != nil {
		t.Error(err)
	}
}

func TestNPMInstall(t *testing.T) {
	npm := needTool(t, "npm", "--version")
	s := startWithToken(t)
	dir := t.TempDir()
	reg := s.NPMRegistryURL()
	npmrc := "registry=" + reg + "\n//" + hostOf(reg) + ":_authToken=" + s.token + "\n"
	if err := os.WriteFile(filepath.Join(dir, ".npmrc"), []byte(npmrc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"consumer","version":"0.0.0","private":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"NPM_CONFIG_USERCONFIG=" + filepath.Join(dir, ".npmrc"),
		"NPM_CONFIG_GLOBALCONFIG=" + filepath.Join(dir, "global-npmrc"),
		"NPM_CONFIG_CACHE=" + filepath.Join(dir, "cache"),
		"NPM_CONFIG_UPDATE_NOTIFIER=false",
		"NPM_CONFIG_FUND=false",
		"NPM_CONFIG_AUDIT=false",
		"NPM_CONFIG_FETCH_RETRIES=0",
	}
	out := run(t, dir, env, npm, "install", "hello-cloudsmith@1.0.0")
	if strings.Contains(out, s.token) {
		t.Error("npm printed the token")
	}
	pkg, err := os.ReadFile(filepath.Join(dir, "node_modules", "hello-cloudsmith", "package.json"))
	if err != nil || !strings.Contains(string(pkg), `"version": "1.0.0"`) {
		t.Fatalf("installed package.json: %v %s", err, pkg)
	}
	lock, _ := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if !strings.Contains(string(lock), s.Cloudsmith.art.npmIntegrity) {
		t.Error("package-lock.json lacks the sha512 integrity npm verified")
	}
}

func TestGoModDownload(t *testing.T) {
	goBin := needTool(t, "go", "version")
	// The go command sends credentials only over https.
	s := startWithToken(t, WithTLS(HostGo))
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, s.CACertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	// go.sum holds the h1 hashes the emulator computed: the go command
	// recomputes them from what it downloads and refuses a mismatch.
	files := map[string]string{
		"go.mod": "module consumer\n\ngo 1.21\n\nrequire " + DemoGoModule + " " + DemoGoVersion + "\n",
		"go.sum": s.Cloudsmith.GoSum(),
	}
	for n, body := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"GOPROXY=https://token:" + s.token + "@" + hostOf(s.GoURL) + "/acme/demo/",
		"SSL_CERT_FILE=" + caFile,
		"GONOSUMDB=example.com",
		"GOSUMDB=off",
		"GOFLAGS=-mod=mod -modcacherw",
		"GOPATH=" + filepath.Join(dir, "gopath"),
		"GOMODCACHE=" + filepath.Join(dir, "modcache"),
		"GOCACHE=" + filepath.Join(dir, "gocache"),
		"GOTOOLCHAIN=local",
		"GOENV=off",
		"GOPRIVATE=",
		"GONOPROXY=",
	}
	out := run(t, dir, env, goBin, "mod", "download", "-json", DemoGoModule)
	if strings.Contains(out, s.token) {
		t.Error("go printed the token")
	}
	if !strings.Contains(out, `"Version": "v1.0.0"`) || strings.Contains(out, `"Error"`) {
		t.Fatalf("go mod download: %s", out)
	}
	run(t, dir, env, goBin, "mod", "verify")
	src, err := os.ReadFile(filepath.Join(dir, "modcache", DemoGoModule+"@"+DemoGoVersion, "hello.go"))
	if err != nil || !strings.Contains(string(src), "package hello") {
		t.Fatalf("extracted module: %v", err)
	}
}
