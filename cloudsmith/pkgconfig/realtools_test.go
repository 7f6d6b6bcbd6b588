package pkgconfig

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMavenReadsSettings lets a real Maven parse the settings.xml (offline,
// a pom-packaging project binds no plugins). Maven is not one of the tools
// CI installs, so it is skipped when missing.
func TestMavenReadsSettings(t *testing.T) {
	mvn, err := exec.LookPath("mvn")
	if err != nil {
		t.Skip("mvn not installed")
	}
	dir := t.TempDir()
	res, err := Write(filepath.Join(dir, "cfg"), tok, Settings{Org: "acme", Repo: "demo", Getenv: func(string) string { return "" }}, []Format{Maven})
	if err != nil {
		t.Fatal(err)
	}
	pom := `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>` +
		`<groupId>x</groupId><artifactId>y</artifactId><version>1</version><packaging>pom</packaging></project>`
	if err := os.WriteFile(filepath.Join(dir, "pom.xml"), []byte(pom), 0o644); err != nil {
		t.Fatal(err)
	}
	var settings string
	for _, e := range res.Env {
		if e.Name == "CLOUDSMITH_MAVEN_SETTINGS" {
			settings = e.Value
		}
	}
	cmd := exec.Command(mvn, "-o", "-B", "-s", settings, "-Dmaven.repo.local="+filepath.Join(dir, "m2"), "validate")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "MAVEN_OPTS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mvn validate with the generated settings: %v\n%s", err, out)
	}
	if strings.Contains(string(out), tok) {
		t.Error("maven printed the token")
	}
}

// TestCargoSendsToken lets a real Cargo (1.74+) resolve a dependency from
// the generated sparse registry and checks it sent the token from its
// credential provider (cargo:token-from-stdout reading the token file).
// It is skipped when cargo is missing.
func TestCargoSendsToken(t *testing.T) {
	cargo, err := exec.LookPath("cargo")
	if err != nil {
		t.Skip("cargo not installed")
	}
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if !strings.HasSuffix(r.URL.Path, "/config.json") {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") == "" {
			// Cargo asks its credential provider only after a 401.
			w.Header().Set("WWW-Authenticate", `Cargo login_url="http://127.0.0.1/login"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"dl":"http://127.0.0.1/dl","api":"http://127.0.0.1","auth-required":true}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	res, err := Write(filepath.Join(dir, "cfg"), tok, Settings{Org: "acme", Repo: "demo", URLs: map[string]string{CargoURL: srv.URL}, CargoIndex: CargoSparse}, []Format{Cargo})
	if err != nil {
		t.Fatal(err)
	}
	proj := filepath.Join(dir, "proj")
	files := map[string]string{
		"Cargo.toml":  "[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\nfoo = { version = \"1\", registry = \"cloudsmith\" }\n",
		"src/main.rs": "fn main() {}\n",
	}
	for name, body := range files {
		p := filepath.Join(proj, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cargo, "generate-lockfile")
	cmd.Dir = proj
	cmd.Env = os.Environ()
	for _, e := range res.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
	}
	out, _ := cmd.CombinedOutput() // fails: the index has no "foo"
	if strings.Contains(string(out), tok) {
		t.Error("cargo printed the token")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range auths {
		if a == "Token "+tok {
			return
		}
	}
	t.Fatalf("cargo never sent the token; Authorization headers seen: %d, output:\n%s", len(auths), out)
}
