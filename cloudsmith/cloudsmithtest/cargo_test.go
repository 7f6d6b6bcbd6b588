package cloudsmithtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// writeTree writes files (relative name → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// cargoRoundTrip checks with a real cargo that the demo crate resolves and
// downloads (checksum verified against the index), then publishes a crate
// and fetches it back from the index.
func cargoRoundTrip(t *testing.T, s started, cargo string, env []string) {
	t.Helper()
	dir := t.TempDir()
	env = append(env, "CARGO_HOME="+filepath.Join(dir, "cargo-home"), "CARGO_TERM_COLOR=never", "CARGO_NET_RETRY=0")
	consumer := filepath.Join(dir, "consumer")
	writeTree(t, consumer, map[string]string{
		"Cargo.toml":  "[package]\nname = \"consumer\"\nversion = \"0.1.0\"\nedition = \"2018\"\n\n[dependencies]\nhello-cloudsmith = { version = \"1\", registry = \"cloudsmith\" }\n",
		"src/main.rs": "fn main() { println!(\"{}\", hello_cloudsmith::hello()); }\n",
	})
	out := run(t, consumer, env, cargo, "fetch")
	crates, _ := filepath.Glob(filepath.Join(dir, "cargo-home", "registry", "cache", "*", DemoCargoCrate+"-"+DemoCargoVersion+".crate"))
	if len(crates) != 1 {
		t.Fatalf("cargo fetch did not download the demo crate:\n%s", out)
	}

	lib := filepath.Join(dir, "published")
	writeTree(t, lib, map[string]string{
		"Cargo.toml": "[package]\nname = \"published-crate\"\nversion = \"2.0.0\"\nedition = \"2018\"\ndescription = \"published by a test\"\nlicense = \"MIT\"\n\n" +
			"[dependencies]\nhello-cloudsmith = { version = \"1\", registry = \"cloudsmith\" }\n",
		"src/lib.rs": "pub fn twice() -> String { hello_cloudsmith::hello().repeat(2) }\n",
	})
	out += run(t, lib, env, cargo, "publish", "--registry", "cloudsmith", "--no-verify", "--allow-dirty")
	writeTree(t, consumer, map[string]string{
		"Cargo.toml": "[package]\nname = \"consumer\"\nversion = \"0.1.0\"\nedition = \"2018\"\n\n[dependencies]\npublished-crate = { version = \"2\", registry = \"cloudsmith\" }\n",
	})
	out += run(t, consumer, env, cargo, "fetch")
	if crates, _ := filepath.Glob(filepath.Join(dir, "cargo-home", "registry", "cache", "*", "published-crate-2.0.0.crate")); len(crates) != 1 {
		t.Fatalf("cargo fetch did not download the published crate:\n%s", out)
	}
	if strings.Contains(out, s.token) {
		t.Error("cargo printed the token")
	}
}

// TestCargoGitIndex drives Debian's cargo 0.66 (Rust 1.65, no stable
// sparse registries) against the git index on the download host: git
// fetches it with the credentials of a credential store file, Cargo
// downloads the crates through the index's dl URL and publishes with its
// registry token.
func TestCargoGitIndex(t *testing.T) {
	t.Parallel()
	cargo := needTool(t, "/usr/bin/cargo", "--version")
	rustc := needTool(t, "/usr/bin/rustc", "--version")
	needTool(t, "git", "--version")
	s := startWithToken(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "git-credentials")
	if err := os.WriteFile(creds, []byte("http://token:"+s.token+"@"+hostOf(s.DownloadURL)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cargoRoundTrip(t, s, cargo, []string{
		"RUSTC=" + rustc,
		"CARGO_REGISTRIES_CLOUDSMITH_INDEX=" + s.CargoGitIndex(),
		"CARGO_REGISTRIES_CLOUDSMITH_TOKEN=Token " + s.token,
		"CARGO_NET_GIT_FETCH_WITH_CLI=true",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=credential.helper", "GIT_CONFIG_VALUE_0=store --file=" + creds,
	})
	var challenged, fetched bool
	for _, r := range s.Cloudsmith.Requests() {
		challenged = challenged || strings.HasSuffix(r.Path, "/info/refs") && r.Status == 401
		fetched = fetched || strings.HasSuffix(r.Path, "/git-upload-pack") && r.Status == 200 && r.Auth == "token"
	}
	if !challenged || !fetched {
		t.Errorf("git did not fetch the index with the token after a challenge (challenged %v, fetched %v)", challenged, fetched)
	}
}

var cargoVersionRE = regexp.MustCompile(`cargo 1\.(\d+)\.`)

// TestCargoSparse drives a Cargo of 1.74 or later (rustup's, when there)
// against the sparse index: config.json says auth-required, so Cargo sends
// "Token <token>" on every request, downloads included.
func TestCargoSparse(t *testing.T) {
	t.Parallel()
	cargo := needTool(t, "cargo", "--version")
	out, _ := exec.Command(cargo, "--version").Output()
	m := cargoVersionRE.FindSubmatch(out)
	if minor, _ := strconv.Atoi(string(m[len(m)-1])); m == nil || minor < 74 {
		t.Skipf("%s is %s; sparse registries with authentication need 1.74", cargo, strings.TrimSpace(string(out)))
	}
	s := startWithToken(t)
	env := []string{
		"CARGO_REGISTRIES_CLOUDSMITH_INDEX=" + s.CargoSparseIndex(),
		"CARGO_REGISTRIES_CLOUDSMITH_CREDENTIAL_PROVIDER=cargo:token",
		"CARGO_REGISTRIES_CLOUDSMITH_TOKEN=Token " + s.token,
	}
	for _, k := range []string{"RUSTUP_HOME", "RUSTUP_TOOLCHAIN"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if _, ok := os.LookupEnv("RUSTUP_HOME"); !ok {
		if home, err := os.UserHomeDir(); err == nil {
			env = append(env, "RUSTUP_HOME="+filepath.Join(home, ".rustup"))
		}
	}
	cargoRoundTrip(t, s, cargo, env)
}
