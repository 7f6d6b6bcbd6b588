package app

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
)

// Maven, Docker and Cargo through `cloudsmith-oidc exec` with the clients
// Debian packages (Maven 3.8, skopeo 1.9, cargo 0.66) and rustup's Cargo
// for the sparse index: installs of the demo packages, then publish and
// install of a new version, with nothing on the command lines but what a
// build would type, and the user's own configuration kept.

// debianMavenRepo holds Debian's Maven plugins (libmaven-*-plugin-java);
// Maven Central is unreachable here, so the user's own settings mirror
// central there, as an offline agent's would.
const debianMavenRepo = "/usr/share/maven-repo"

func (w *world) hostsEnv() []string {
	return []string{
		"CLOUDSMITH_MAVEN_UPLOAD_URL=" + w.cs.URLs[cloudsmithtest.HostMaven],
		"CLOUDSMITH_CARGO_URL=" + w.cs.URLs[cloudsmithtest.HostCargo],
		"CLOUDSMITH_NUGET_URL=" + w.cs.URLs[cloudsmithtest.HostNuGet],
		"CLOUDSMITH_DOCKER_REGISTRY=" + w.cs.DockerRegistry(),
	}
}

func TestEndToEndMaven(t *testing.T) {
	t.Parallel()
	needTool(t, "mvn", "--version")
	for _, p := range []string{"maven-dependency-plugin/3.5.0", "maven-deploy-plugin/3.0.0"} {
		needTool(t, "test", "-d", filepath.Join(debianMavenRepo, "org/apache/maven/plugins", p))
	}
	w, oidc, tok := start(t)
	// The user's own settings: a mirror of central (and of everything
	// else, which must not swallow the Cloudsmith repository).
	writeFiles(t, map[string]string{filepath.Join(w.dir, ".m2", "settings.xml"): `<?xml version="1.0"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <mirrors>
    <mirror><id>debian</id><mirrorOf>*</mirrorOf><url>file://` + debianMavenRepo + `</url></mirror>
  </mirrors>
</settings>
`})
	// Java takes user.home from the password database, not HOME: point it
	// at the test's home, as the agent user's own would be.
	env := append(w.hostsEnv(), "MAVEN_OPTS=-XX:TieredStopAtLevel=1 -Xshare:auto -Duser.home="+w.dir, "JAVA_HOME="+os.Getenv("JAVA_HOME"))
	get := func(artifact string) {
		t.Helper()
		w.execOK(t, w.dir, oidc, tok, env, "exec", "--format", "maven", "--",
			"mvn", "-B", "--no-transfer-progress", "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get", "-Dtransitive=false", "-Dartifact="+artifact)
	}
	get("com.example:hello-cloudsmith:1.0.0")
	if _, err := os.Stat(filepath.Join(w.dir, ".m2/repository/com/example/hello-cloudsmith/1.0.0/hello-cloudsmith-1.0.0.jar")); err != nil {
		t.Fatal(err)
	}
	jar := filepath.Join(w.dir, "published.jar")
	writeFiles(t, map[string]string{jar: "PK\x05\x06" + strings.Repeat("\x00", 18)})
	w.execOK(t, w.dir, oidc, tok, env, "exec", "--format", "maven", "--", "sh", "-c",
		`mvn -B --no-transfer-progress org.apache.maven.plugins:maven-deploy-plugin:3.0.0:deploy-file -Dfile="$0" `+
			`-DgroupId=com.example -DartifactId=published -Dversion=2.0.0 -Dpackaging=jar -DrepositoryId=cloudsmith -Durl="$CLOUDSMITH_MAVEN_DEPLOY_URL"`, jar)
	for _, r := range w.cs.Cloudsmith.Requests() {
		if r.Method == "PUT" && r.Status == 401 {
			t.Errorf("a deploy was sent without credentials first: %s", r.Path)
		}
	}
	get("com.example:published:2.0.0")
	if _, err := os.Stat(filepath.Join(w.dir, ".m2/repository/com/example/published/2.0.0/published-2.0.0.jar")); err != nil {
		t.Fatal(err)
	}
	// A SNAPSHOT: timestamped file names and the version's own
	// maven-metadata.xml, which the install reads to find them.
	w.execOK(t, w.dir, oidc, tok, env, "exec", "--format", "maven", "--", "sh", "-c",
		`mvn -B --no-transfer-progress org.apache.maven.plugins:maven-deploy-plugin:3.0.0:deploy-file -Dfile="$0" `+
			`-DgroupId=com.example -DartifactId=published -Dversion=2.1.0-SNAPSHOT -Dpackaging=jar -DrepositoryId=cloudsmith -Durl="$CLOUDSMITH_MAVEN_DEPLOY_URL"`, jar)
	if err := os.RemoveAll(filepath.Join(w.dir, ".m2/repository/com/example/published/2.1.0-SNAPSHOT")); err != nil {
		t.Fatal(err)
	}
	get("com.example:published:2.1.0-SNAPSHOT")
	if _, err := os.Stat(filepath.Join(w.dir, ".m2/repository/com/example/published/2.1.0-SNAPSHOT/published-2.1.0-SNAPSHOT.jar")); err != nil {
		t.Fatal(err)
	}
}

func TestEndToEndSkopeo(t *testing.T) {
	t.Parallel()
	needTool(t, "skopeo", "--version")
	w, oidc, tok := start(t, cloudsmithtest.WithTLS(cloudsmithtest.HostDocker))
	ca := filepath.Join(w.dir, "ca.pem")
	// The user's own Docker config: another registry's login survives, and
	// so does the credential store an agent keeps other logins in (which
	// skopeo ignores, but a credHelpers entry it would run).
	other := base64.StdEncoding.EncodeToString([]byte("me:other-secret"))
	writeFiles(t, map[string]string{
		ca: string(w.cs.CACertPEM),
		filepath.Join(w.dir, ".docker", "config.json"):           `{"auths":{"registry.example":{"auth":"` + other + `"}},"credsStore":"secretservice","psFormat":"table {{.ID}}"}`,
		filepath.Join(w.dir, ".docker", "cli-plugins", "README"): "plugins live here\n",
	})
	env := append(w.hostsEnv(), "SSL_CERT_FILE="+ca, "XDG_RUNTIME_DIR="+w.dir)
	reg := "docker://" + w.cs.DockerRegistry() + "/" + w.cs.Org + "/" + w.cs.Repo + "/"
	out := w.execOK(t, w.dir, oidc, tok, env, "exec", "--format", "docker", "--", "skopeo", "inspect", reg+"hello-cloudsmith:1.0.0")
	if !strings.Contains(out, `"Os": "linux"`) {
		t.Fatalf("skopeo inspect: %s", out)
	}
	layout := "oci:" + filepath.Join(w.dir, "layout") + ":hello"
	w.execOK(t, w.dir, oidc, tok, env, "exec", "--format", "docker", "--", "skopeo", "--insecure-policy", "copy", reg+"hello-cloudsmith:1.0.0", layout)
	w.execOK(t, w.dir, oidc, tok, env, "exec", "--format", "docker", "--", "skopeo", "--insecure-policy", "copy", layout, reg+"pushed:2.0.0")
	w.execOK(t, w.dir, oidc, tok, env, "exec", "--format", "docker", "--", "skopeo", "inspect", reg+"pushed:2.0.0")

	// What exec's child sees: the user's config merged, plugins linked.
	cfg := filepath.Join(w.dir, "cfg")
	w.execOK(t, w.dir, oidc, tok, env, "configure", "docker", "--dir", cfg)
	data, err := os.ReadFile(filepath.Join(cfg, "docker", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Auths    map[string]struct{ Auth string }
		PsFormat string
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Auths["registry.example"].Auth != other || doc.Auths[w.cs.DockerRegistry()].Auth == "" || doc.PsFormat == "" {
		t.Errorf("merged config.json lost the user's settings: %v %s", err, data)
	}
	if _, err := os.Stat(filepath.Join(cfg, "docker", "cli-plugins", "README")); err != nil {
		t.Errorf("the user's cli-plugins are not reachable: %v", err)
	}
}

// cargoRoundTrip fetches the demo crate, publishes a crate and fetches it
// back through exec, in the user's own CARGO_HOME (~/.cargo).
func cargoRoundTrip(t *testing.T, w *world, oidc, tok string, env []string) {
	t.Helper()
	consumer := filepath.Join(w.dir, "consumer")
	lib := filepath.Join(w.dir, "published")
	writeFiles(t, map[string]string{
		filepath.Join(w.dir, ".cargo", "config.toml"): "[net]\nretry = 0\n",
		filepath.Join(consumer, "Cargo.toml"):         "[package]\nname = \"consumer\"\nversion = \"0.1.0\"\nedition = \"2018\"\n\n[dependencies]\nhello-cloudsmith = { version = \"1\", registry = \"cloudsmith\" }\n",
		filepath.Join(consumer, "src", "main.rs"):     "fn main() { println!(\"{}\", hello_cloudsmith::hello()); }\n",
		filepath.Join(lib, "Cargo.toml"):              "[package]\nname = \"published-crate\"\nversion = \"2.0.0\"\nedition = \"2018\"\ndescription = \"published by a test\"\nlicense = \"MIT\"\n",
		filepath.Join(lib, "src", "lib.rs"):           "pub fn two() -> u8 { 2 }\n",
	})
	w.execOK(t, consumer, oidc, tok, env, "exec", "--format", "cargo", "--", "cargo", "fetch")
	w.execOK(t, lib, oidc, tok, env, "exec", "--format", "cargo", "--", "cargo", "publish", "--registry", "cloudsmith", "--no-verify", "--allow-dirty")
	writeFiles(t, map[string]string{filepath.Join(consumer, "Cargo.toml"): "[package]\nname = \"consumer\"\nversion = \"0.1.0\"\nedition = \"2018\"\n\n[dependencies]\npublished-crate = { version = \"2\", registry = \"cloudsmith\" }\n"})
	w.execOK(t, consumer, oidc, tok, env, "exec", "--format", "cargo", "--", "cargo", "fetch")
	for _, name := range []string{"hello-cloudsmith-1.0.0.crate", "published-crate-2.0.0.crate"} {
		if got, _ := filepath.Glob(filepath.Join(w.dir, ".cargo", "registry", "cache", "*", name)); len(got) != 1 {
			t.Errorf("%s is not in the user's Cargo cache", name)
		}
	}
}

// TestEndToEndCargoDebian: with Debian's cargo 0.66 first on PATH, exec
// picks the git index (no stable sparse registries before 1.68, no
// authenticated ones before 1.74).
func TestEndToEndCargoDebian(t *testing.T) {
	t.Parallel()
	needTool(t, "/usr/bin/cargo", "--version")
	needTool(t, "git", "--version")
	w, oidc, tok := start(t)
	env := append(w.hostsEnv(), "PATH=/usr/bin:"+os.Getenv("PATH"))
	cargoRoundTrip(t, w, oidc, tok, env)
	var git bool
	for _, r := range w.cs.Cloudsmith.Requests() {
		git = git || strings.HasSuffix(r.Path, "/cargo/index.git/git-upload-pack") && r.Status == 200
	}
	if !git {
		t.Error("cargo 0.66 did not fetch the git index")
	}
}

// TestEndToEndCargoSparse: a Cargo of 1.74 or later (rustup's) gets the
// sparse index and its token from the credential provider.
func TestEndToEndCargoSparse(t *testing.T) {
	t.Parallel()
	needTool(t, "cargo", "--version")
	out, _ := exec.Command("cargo", "-V").Output()
	if m := regexp.MustCompile(`^cargo 1\.(\d+)\.`).FindSubmatch(out); m == nil || len(m[1]) < 3 && string(m[1]) < "74" {
		t.Skipf("cargo on PATH is %q; the sparse index with a token needs 1.74", strings.TrimSpace(string(out)))
	}
	w, oidc, tok := start(t)
	env := w.hostsEnv()
	home, _ := os.UserHomeDir()
	if v := os.Getenv("RUSTUP_HOME"); v != "" {
		env = append(env, "RUSTUP_HOME="+v)
	} else if home != "" {
		env = append(env, "RUSTUP_HOME="+filepath.Join(home, ".rustup"))
	}
	cargoRoundTrip(t, w, oidc, tok, env)
	var sparse bool
	for _, r := range w.cs.Cloudsmith.Requests() {
		sparse = sparse || r.Host == cloudsmithtest.HostCargo && strings.HasSuffix(r.Path, "/config.json") && r.Status == 200
	}
	if !sparse {
		t.Error("cargo did not read the sparse index")
	}
}
