package pkgconfig

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMavenSettingsMerge(t *testing.T) {
	cases := []struct {
		name, user string
		want, not  []string
		err        bool
	}{
		{name: "none", want: []string{"<id>cloudsmith</id>", "<usePreemptive>true</usePreemptive>", "<activeProfile>cloudsmith</activeProfile>"}},
		{name: "mirror of everything excludes cloudsmith",
			user: `<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"><mirrors><mirror><id>corp</id><mirrorOf>*</mirrorOf><url>https://nexus/</url></mirror>` +
				`<mirror><id>c</id><mirrorOf>central</mirrorOf><url>https://c/</url></mirror></mirrors><proxies><proxy><id>p</id><host>proxy</host></proxy></proxies></settings>`,
			want: []string{"<mirrorOf>*,!cloudsmith</mirrorOf>", "<mirrorOf>central</mirrorOf>", "<host>proxy</host>"}},
		{name: "user's own cloudsmith server replaced",
			user: `<settings><servers><server><id>cloudsmith</id><password>old</password></server><server><id>other</id><password>keep</password></server></servers>` +
				`<activeProfiles><activeProfile>mine</activeProfile></activeProfiles></settings>`,
			want: []string{"<password>keep</password>", "<activeProfile>mine</activeProfile>", "<password>" + tok + "</password>"},
			not:  []string{"<password>old</password>"}},
		{name: "excluded already", user: `<settings><mirrors><mirror><id>m</id><mirrorOf>external:*,!cloudsmith</mirrorOf></mirror></mirrors></settings>`,
			want: []string{"<mirrorOf>external:*,!cloudsmith</mirrorOf>"}},
		{name: "not XML", user: `<settings><servers>`, err: true},
		{name: "not settings", user: `<project/>`, err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var user []byte
			if c.user != "" {
				user = []byte(c.user)
			}
			out, err := mavenSettings(user, "https://dl/basic/acme/demo/maven/", tok)
			if c.err {
				if err == nil {
					t.Fatalf("no error; got\n%s", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkContains(t, out, c.want, c.not)
		})
	}
}

func TestDockerConfigMerge(t *testing.T) {
	cases := []struct {
		name, user string
		check      func(t *testing.T, doc map[string]json.RawMessage)
	}{
		{"other logins and settings kept", `{"auths":{"ghcr.io":{"auth":"eA=="}},"proxies":{"default":{"httpProxy":"http://p"}},"currentContext":"ci"}`,
			func(t *testing.T, doc map[string]json.RawMessage) {
				if !strings.Contains(string(doc["auths"]), `"ghcr.io"`) || !strings.Contains(string(doc["auths"]), `"docker.cloudsmith.io"`) ||
					doc["proxies"] == nil || string(doc["currentContext"]) != `"ci"` {
					t.Errorf("merged: %s", doc)
				}
			}},
		{"a store is bypassed for the registry only", `{"credsStore":"pass","credHelpers":{"docker.cloudsmith.io":"cloudsmith","gcr.io":"gcloud"}}`,
			func(t *testing.T, doc map[string]json.RawMessage) {
				var h map[string]string
				_ = json.Unmarshal(doc["credHelpers"], &h)
				if h["docker.cloudsmith.io"] != dockerHelperName || h["gcr.io"] != "gcloud" || len(h) != 2 {
					t.Errorf("credHelpers: %v", h)
				}
			}},
		{"a helper for the registry is dropped", `{"credHelpers":{"docker.cloudsmith.io":"cloudsmith"}}`,
			func(t *testing.T, doc map[string]json.RawMessage) {
				if _, ok := doc["credHelpers"]; ok {
					t.Errorf("credHelpers kept: %s", doc["credHelpers"])
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir()
			if err := os.MkdirAll(filepath.Join(home, ".docker", "cli-plugins"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(home, ".docker", "config.json"), []byte(c.user), 0o600); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"HOME": home}
			res, err := Write(filepath.Join(t.TempDir(), "cfg"), tok, Settings{Org: "acme", Repo: "demo", Getenv: func(k string) string { return env[k] }}, []Format{Docker})
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(res.Dir, "docker", "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			c.check(t, doc)
			if target, err := os.Readlink(filepath.Join(res.Dir, "docker", "cli-plugins")); err != nil || target != filepath.Join(home, ".docker", "cli-plugins") {
				t.Errorf("cli-plugins link: %q %v", target, err)
			}
		})
	}
}

func TestCargoGitIndexEnv(t *testing.T) {
	env := map[string]string{"GIT_CONFIG_COUNT": "2", "PATH": "/usr/bin"}
	res, err := Write(filepath.Join(t.TempDir(), "cfg"), tok, Settings{Org: "acme", Repo: "demo", CargoIndex: CargoGit,
		Getenv: func(k string) string { return env[k] }}, []Format{Cargo})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range res.Env {
		got[e.Name] = e.Value
		if strings.Contains(e.Value, tok) {
			t.Errorf("%s holds the token", e.Name)
		}
	}
	want := map[string]string{
		"CARGO_REGISTRIES_CLOUDSMITH_INDEX": "https://dl.cloudsmith.io/basic/acme/demo/cargo/index.git",
		"CARGO_NET_GIT_FETCH_WITH_CLI":      "true",
		"GIT_CONFIG_COUNT":                  "4",
		"GIT_CONFIG_KEY_2":                  "credential.https://dl.cloudsmith.io.helper",
		"GIT_CONFIG_VALUE_2":                "",
		"GIT_CONFIG_KEY_3":                  "credential.https://dl.cloudsmith.io.helper",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["CARGO_HOME"]; ok {
		t.Error("CARGO_HOME replaced")
	}
	store := filepath.Join(res.Dir, "cargo", "git-credentials")
	if got["GIT_CONFIG_VALUE_3"] != "store --file='"+store+"'" {
		t.Errorf("credential helper %q", got["GIT_CONFIG_VALUE_3"])
	}
	if b, err := os.ReadFile(store); err != nil || string(b) != "https://"+url.UserPassword("token", tok).String()+"@dl.cloudsmith.io\n" {
		t.Errorf("credential store: %v %q", err, b)
	}
	if len(res.ExecEnv) != 1 || res.ExecEnv[0].Name != "CARGO_REGISTRIES_CLOUDSMITH_TOKEN" || res.ExecEnv[0].Value != "Token "+tok {
		t.Errorf("exec-only env: %+v", res.ExecEnv)
	}
}

// TestMavenWrapper runs the mvn wrapper with a stand-in mvn behind it: it
// passes -s and the arguments on and takes itself off PATH.
func TestMavenWrapper(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "mvn"), []byte("#!/bin/sh\necho \"$PATH\"\necho \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATH": other + ":/usr/bin:/bin"}
	res, err := Write(filepath.Join(t.TempDir(), "cfg dir"), tok, Settings{Org: "acme", Repo: "demo", Getenv: func(k string) string { return env[k] }}, []Format{Maven})
	if err != nil {
		t.Fatal(err)
	}
	var path, settings string
	for _, e := range res.Env {
		switch e.Name {
		case "PATH":
			path = e.Value
		case "CLOUDSMITH_MAVEN_SETTINGS":
			settings = e.Value
		}
	}
	bin := filepath.Join(res.Dir, "maven", "bin")
	if path != bin+":"+env["PATH"] {
		t.Fatalf("PATH = %q", path)
	}
	cmd := exec.Command(sh, "-c", `mvn -B "a b"`)
	cmd.Env = []string{"PATH=" + path}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if want := env["PATH"] + "\n-s " + settings + " -B a b\n"; string(out) != want {
		t.Errorf("wrapper ran\n%q, want\n%q", out, want)
	}
}

// TestDockerCredentialHelper runs the helper a credsStore makes configure
// write, as the Docker CLI and containers/image do (found on PATH,
// server on stdin, docker-credential-helpers JSON out), and checks the
// helper script holds no token itself.
func TestDockerCredentialHelper(t *testing.T) {
	home := homeWith(t, map[string]string{".docker/config.json": `{"credsStore":"secretservice"}`})
	res := writeFor(t, map[string]string{"HOME": home, "PATH": "/usr/bin:/bin"}, Docker, Maven)
	path := envOf(res, "PATH")
	dirs := filepath.SplitList(path)
	if len(dirs) != 4 || !slices.Contains(dirs[:2], filepath.Join(res.Dir, "docker", "bin")) ||
		!slices.Contains(dirs[:2], filepath.Join(res.Dir, "maven", "bin")) || !slices.Equal(dirs[2:], []string{"/usr/bin", "/bin"}) {
		t.Fatalf("PATH %q: want the Docker helper's and Maven wrapper's directories before the user's PATH", path)
	}
	helper := filepath.Join(res.Dir, "docker", "bin", "docker-credential-"+dockerHelperName)
	script, err := os.ReadFile(helper)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(script), tok) {
		t.Error("the helper script holds the token")
	}
	for action, want := range map[string]string{"get": `"Secret":"` + tok + `"`, "list": `{"docker.cloudsmith.io":"token"}`} {
		cmd := exec.Command(helper, action)
		cmd.Stdin = strings.NewReader("docker.cloudsmith.io\n")
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("helper %s: %v %s; want %s", action, err, out, want)
		}
	}
	var got struct{ Username, Secret string }
	out, _ := exec.Command("sh", "-c", `printf docker.cloudsmith.io | "$0" get`, helper).Output()
	if err := json.Unmarshal(out, &got); err != nil || got.Username != "token" || got.Secret != tok {
		t.Errorf("helper get: %v %s", err, out)
	}
	if fi, err := os.Stat(filepath.Join(res.Dir, "docker", "credential.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credential file: %v %v", fi.Mode(), err)
	}
}

// TestNuGetConfigMerge: --configfile makes NuGet read that file only, so
// the generated NuGet.Config carries the user's own (~/.nuget/NuGet/
// NuGet.Config: other sources, their credentials, settings) and replaces
// a cloudsmith source it already has.
func TestNuGetConfigMerge(t *testing.T) {
	cases := []struct {
		name, user string
		want, not  []string
		err        bool
	}{
		{name: "none", want: []string{`<add key="cloudsmith" value="https://nuget.cloudsmith.io/acme/demo/v3/index.json" protocolVersion="3"`, `value="` + tok + `"`}},
		{name: "user's sources, credentials and settings kept, old cloudsmith replaced",
			user: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
    <add key="corp feed" value="https://corp/nuget/" />
    <add key="cloudsmith" value="https://old/index.json" />
  </packageSources>
  <packageSourceCredentials>
    <corp_x0020_feed><add key="Username" value="me" /><add key="ClearTextPassword" value="keep" /></corp_x0020_feed>
    <cloudsmith><add key="ClearTextPassword" value="old-secret" /></cloudsmith>
  </packageSourceCredentials>
  <config><add key="http_proxy" value="http://proxy:3128" /></config>
</configuration>`,
			want: []string{`key="nuget.org"`, `value="https://corp/nuget/"`, `<corp_x0020_feed>`, `value="keep"`, `value="http://proxy:3128"`, `value="` + tok + `"`},
			not:  []string{"https://old/index.json", "old-secret"}},
		{name: "not XML", user: `<configuration><packageSources>`, err: true},
		{name: "not a NuGet config", user: `<settings/>`, err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{}
			if c.user != "" {
				files[".nuget/NuGet/NuGet.Config"] = c.user
			}
			env := map[string]string{"HOME": homeWith(t, files)}
			res, err := Write(filepath.Join(t.TempDir(), "cfg"), tok, Settings{Org: "acme", Repo: "demo", Getenv: func(k string) string { return env[k] }}, []Format{NuGet})
			if c.err {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(filepath.Join(res.Dir, "NuGet.Config"))
			if err != nil {
				t.Fatal(err)
			}
			checkContains(t, out, c.want, c.not)
			if n := strings.Count(string(out), `key="cloudsmith"`); n != 1 {
				t.Errorf("%d cloudsmith sources:\n%s", n, out)
			}
		})
	}
}

// TestNetrcKeepsUsersEntries: NETRC makes the go command and Python's
// requests (pip, twine) read that file instead of ~/.netrc, so the
// generated one carries the user's other machines; for the Cloudsmith
// hosts ours wins both where the first entry wins (go, curl) and where
// the last does (Python's netrc module).
func TestNetrcKeepsUsersEntries(t *testing.T) {
	home := homeWith(t, map[string]string{".netrc": "machine corp.example login me password keep\nmachine dl.cloudsmith.io login old password stale\nmacdef init\ncd /\n"})
	netrc := envOf(writeFor(t, map[string]string{"HOME": home}, Raw), "NETRC")
	data, err := os.ReadFile(netrc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "machine corp.example login me password keep") {
		t.Errorf("the user's other machine is gone:\n%s", data)
	}
	if first := strings.Fields(string(data)); len(first) < 6 || first[1] != "dl.cloudsmith.io" || first[5] != tok {
		t.Errorf("first entry is not ours:\n%s", data)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	out, err := exec.Command(python, "-c", `import netrc,sys
n = netrc.netrc(sys.argv[1])
print(n.authenticators("dl.cloudsmith.io")[2] == sys.argv[2], n.authenticators("corp.example")[2])`, netrc, tok).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "True keep" {
		t.Errorf("Python's netrc reads: %v %s", err, out)
	}
}

// TestHelmRepositoriesMerge: HELM_REPOSITORY_CONFIG replaces the user's
// repositories.yaml, so the generated one carries the user's other
// repositories (their dependencies resolve) and replaces a stale
// cloudsmith entry; a real helm lists both when it is installed.
func TestHelmRepositoriesMerge(t *testing.T) {
	home := homeWith(t, map[string]string{".config/helm/repositories.yaml": "apiVersion: \"\"\ngenerated: \"2024-01-01T00:00:00Z\"\nrepositories:\n" +
		"- name: bitnami\n  url: https://charts.bitnami.com/bitnami\n  username: me\n  password: keep\n- name: cloudsmith\n  url: https://old.example/charts\n  password: stale\n"})
	path := envOf(writeFor(t, map[string]string{"HOME": home}, Helm), "HELM_REPOSITORY_CONFIG")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"- name: bitnami\n  url: https://charts.bitnami.com/bitnami\n  username: me\n  password: keep\n",
		"- name: \"cloudsmith\"\n  url: \"https://dl.cloudsmith.io/basic/acme/demo/helm/charts/\"\n", `password: "` + tok + `"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), "stale") || strings.Count(string(data), "cloudsmith\"") != 1 {
		t.Errorf("the stale cloudsmith entry is kept:\n%s", data)
	}
	for _, bad := range []string{"repositories: [{name: a, url: 'https://a'}]\n", "repositories: oops\n"} {
		if _, err := helmRepositories([]byte(bad), nil); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
	helm, err := exec.LookPath("helm")
	if err != nil {
		t.Skip("helm not installed")
	}
	cmd := exec.Command(helm, "repo", "list")
	cmd.Env = []string{"HOME=" + home, "HELM_REPOSITORY_CONFIG=" + path}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "bitnami") || !strings.Contains(string(out), "cloudsmith") || strings.Contains(string(out), tok) {
		t.Errorf("helm repo list: %v\n%s", err, out)
	}
}

// homeWith makes a home directory holding files (relative path → content, 0600).
func homeWith(t *testing.T, files map[string]string) string {
	t.Helper()
	home := t.TempDir()
	for rel, body := range files {
		path := filepath.Join(home, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

// writeFor writes the configuration of formats for acme/demo with env as
// the caller's environment.
func writeFor(t *testing.T, env map[string]string, formats ...Format) *Result {
	t.Helper()
	res, err := Write(filepath.Join(t.TempDir(), "cfg"), tok, Settings{Org: "acme", Repo: "demo", Getenv: func(k string) string { return env[k] }}, formats)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// envOf is the value res sets for name ("" when it sets none).
func envOf(res *Result, name string) string {
	for _, e := range res.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// checkContains checks out holds every want and none of not.
func checkContains(t *testing.T, out []byte, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("lacks %s:\n%s", w, out)
		}
	}
	for _, n := range not {
		if strings.Contains(string(out), n) {
			t.Errorf("still has %s:\n%s", n, out)
		}
	}
}
