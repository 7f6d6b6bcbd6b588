package app

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// parseShellEnv reads configure's "export NAME=value" / "unset NAME" lines.
func parseShellEnv(t *testing.T, out string) (set map[string]string, unset []string) {
	t.Helper()
	set = map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "unset "); ok {
			unset = append(unset, name)
			continue
		}
		kv, ok := strings.CutPrefix(line, "export ")
		name, value, ok2 := strings.Cut(kv, "=")
		if !ok || !ok2 {
			t.Fatalf("unexpected line %q", line)
		}
		if strings.HasPrefix(value, "'") {
			value = strings.ReplaceAll(strings.Trim(value, "'"), `'\''`, "'")
		}
		set[name] = value
	}
	return set, unset
}

func TestConfigureEveryFormat(t *testing.T) {
	f := newFake(t)
	oidc := mintJWT(t, time.Hour, nil)
	env := f.env(t, oidc)
	env["CLOUDSMITH_GO_NOSUMDB"] = "example.com"
	env["CLOUDSMITH_CARGO_INDEX"] = "sparse"
	dir := filepath.Join(t.TempDir(), "cfg dir") // a space, to check quoting
	r := runApp(t, env, "", "configure", "python,npm", "go", "maven", "docker", "cargo", "nuget", "helm", "raw",
		"--dir", dir, "--download-url", "http://127.0.0.1:8081", "--npm-url", "https://npm.example:8443/prefix")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	tok := f.lastToken(t)
	assertNoSecrets(t, []string{tok, oidc}, r.out, r.errOut)
	set, unset := parseShellEnv(t, r.out)
	assertMode(t, dir, 0o700)

	read := func(name string) string {
		t.Helper()
		path := set[name]
		if path == "" {
			t.Fatalf("%s not exported:\n%s", name, r.out)
		}
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			path = filepath.Join(path, "config.json")
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		assertMode(t, path, 0o600)
		return string(b)
	}

	t.Run("pip", func(t *testing.T) {
		ini := read("PIP_CONFIG_FILE")
		want := "index-url = http://token:" + tok + "@127.0.0.1:8081/basic/acme/demo/python/simple/\n"
		if !strings.Contains(ini, "[global]\n") || !strings.Contains(ini, want) || !strings.Contains(ini, "trusted-host = 127.0.0.1:8081\n") {
			t.Errorf("pip.conf:\n%s", ini)
		}
		if set["UV_DEFAULT_INDEX"] != "http://127.0.0.1:8081/basic/acme/demo/python/simple/" {
			t.Errorf("UV_DEFAULT_INDEX = %q", set["UV_DEFAULT_INDEX"])
		}
		if !contains(unset, "PIP_INDEX_URL") {
			t.Errorf("PIP_INDEX_URL not unset: %v", unset)
		}
	})
	t.Run("npm", func(t *testing.T) {
		rc := read("NPM_CONFIG_USERCONFIG")
		if !strings.Contains(rc, "registry=https://npm.example:8443/prefix/acme/demo/\n") ||
			!strings.Contains(rc, "//npm.example:8443/prefix/acme/demo/:_authToken="+tok+"\n") {
			t.Errorf("npmrc:\n%s", rc)
		}
	})
	t.Run("netrc", func(t *testing.T) {
		nr := read("NETRC")
		for _, host := range []string{"127.0.0.1:8081", "127.0.0.1", "golang.cloudsmith.io"} {
			if !strings.Contains(nr, "machine "+host+" login token password "+tok+"\n") {
				t.Errorf("netrc lacks %s:\n%s", host, nr)
			}
		}
	})
	t.Run("go", func(t *testing.T) {
		if set["GOPROXY"] != "https://golang.cloudsmith.io/acme/demo/" || set["GONOSUMDB"] != "example.com" {
			t.Errorf("GOPROXY %q GONOSUMDB %q", set["GOPROXY"], set["GONOSUMDB"])
		}
	})
	t.Run("maven", func(t *testing.T) {
		var s struct {
			Servers []struct {
				ID       string `xml:"id"`
				Username string `xml:"username"`
				Password string `xml:"password"`
			} `xml:"servers>server"`
			Repos []struct {
				ID  string `xml:"id"`
				URL string `xml:"url"`
			} `xml:"profiles>profile>repositories>repository"`
			Active []string `xml:"activeProfiles>activeProfile"`
		}
		if err := xml.Unmarshal([]byte(read("CLOUDSMITH_MAVEN_SETTINGS")), &s); err != nil {
			t.Fatal(err)
		}
		if len(s.Servers) != 1 || s.Servers[0].Password != tok || s.Servers[0].Username != "token" || s.Servers[0].ID != "cloudsmith" ||
			len(s.Repos) != 1 || s.Repos[0].URL != "http://127.0.0.1:8081/basic/acme/demo/maven/" || len(s.Active) != 1 {
			t.Errorf("settings.xml parsed as %+v", s)
		}
		if _, ok := set["MAVEN_ARGS"]; ok {
			t.Error("MAVEN_ARGS set although the settings path has a space (Maven would split it)")
		}
	})
	t.Run("docker", func(t *testing.T) {
		var c struct {
			Auths map[string]struct{ Auth string } `json:"auths"`
		}
		if err := json.Unmarshal([]byte(read("DOCKER_CONFIG")), &c); err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(c.Auths["docker.cloudsmith.io"].Auth)
		if err != nil || string(raw) != "token:"+tok {
			t.Errorf("docker auth does not decode to token:<token> (%v)", err)
		}
	})
	t.Run("cargo", func(t *testing.T) {
		// The user's CARGO_HOME stays; the registry comes from variables,
		// the token from a file (the path has a space, which Cargo's
		// provider command line can't hold, so exec's variable serves).
		if _, ok := set["CARGO_HOME"]; ok {
			t.Error("configure replaced CARGO_HOME")
		}
		if set["CARGO_REGISTRIES_CLOUDSMITH_INDEX"] != "sparse+https://cargo.cloudsmith.io/acme/demo/" ||
			set["CARGO_REGISTRIES_CLOUDSMITH_CREDENTIAL_PROVIDER"] != "cargo:token" {
			t.Errorf("cargo variables: %v", set)
		}
		if tf := read("CLOUDSMITH_CARGO_TOKEN_FILE"); tf != "Token "+tok+"\n" {
			t.Error("the Cargo token file does not hold \"Token <token>\"")
		}
	})
	t.Run("nuget", func(t *testing.T) {
		var c struct {
			Sources []struct {
				Key   string `xml:"key,attr"`
				Value string `xml:"value,attr"`
			} `xml:"packageSources>add"`
			Creds []struct {
				Key   string `xml:"key,attr"`
				Value string `xml:"value,attr"`
			} `xml:"packageSourceCredentials>cloudsmith>add"`
		}
		if err := xml.Unmarshal([]byte(read("CLOUDSMITH_NUGET_CONFIG")), &c); err != nil {
			t.Fatal(err)
		}
		if len(c.Sources) != 1 || c.Sources[0].Value != "https://nuget.cloudsmith.io/acme/demo/v3/index.json" ||
			len(c.Creds) != 2 || c.Creds[1].Key != "ClearTextPassword" || c.Creds[1].Value != tok {
			t.Errorf("NuGet.Config parsed as %+v", c)
		}
	})
	t.Run("helm", func(t *testing.T) {
		var c struct {
			Repositories []struct{ Name, URL, Username, Password string } `json:"repositories"`
		}
		if err := json.Unmarshal([]byte(read("HELM_REPOSITORY_CONFIG")), &c); err != nil {
			t.Fatal(err)
		}
		if len(c.Repositories) != 1 || c.Repositories[0].Password != tok || c.Repositories[0].URL != "http://127.0.0.1:8081/basic/acme/demo/helm/charts/" {
			t.Errorf("repositories.yaml parsed as %+v", c)
		}
	})
	t.Run("raw", func(t *testing.T) {
		if set["CLOUDSMITH_RAW_URL"] != "http://127.0.0.1:8081/basic/acme/demo/raw/files/" {
			t.Errorf("CLOUDSMITH_RAW_URL = %q", set["CLOUDSMITH_RAW_URL"])
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestConfigureJSONAndRefusals(t *testing.T) {
	f := newFake(t)
	oidc := mintJWT(t, time.Hour, nil)
	env := f.env(t, oidc)
	r := runApp(t, env, "", "configure", "npm", "--output-env", "json", "--dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	var v struct {
		Env   map[string]string `json:"env"`
		Unset []string          `json:"unset"`
	}
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || v.Env["NPM_CONFIG_USERCONFIG"] == "" {
		t.Fatalf("json env %v (%v):\n%s", v, err, r.out)
	}
	assertNoSecrets(t, []string{f.lastToken(t), oidc}, r.out, r.errOut)

	for _, args := range [][]string{
		{"configure", "python", "--download-url", "http://dl.example.com"}, // token in clear to a remote host
		{"configure", "go", "--go-url", "http://127.0.0.1:1"},              // go never authenticates over http
	} {
		dir := filepath.Join(t.TempDir(), "cfg")
		r := runApp(t, env, "", append(args, "--dir", dir)...)
		if r.code == 0 {
			t.Errorf("%v: succeeded, want a refusal", args)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%v: wrote %s despite failing", args, dir)
		}
	}
}
