package pkgconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
)

const tok = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_+/="

func TestParseFormats(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr bool
	}{
		{[]string{"python,npm"}, "python,npm", false},
		{[]string{"npm", "python", "npm"}, "npm,python", false},
		{[]string{" Go , raw "}, "go,raw", false},
		{[]string{"pip,uv"}, "python", false},
		{[]string{"rubygems"}, "", true},
		{[]string{""}, "", true},
	}
	for _, tt := range tests {
		got, err := ParseFormats(tt.args...)
		if (err != nil) != tt.wantErr {
			t.Errorf("%v: err %v", tt.args, err)
			continue
		}
		var names []string
		for _, f := range got {
			names = append(names, string(f))
		}
		if strings.Join(names, ",") != tt.want {
			t.Errorf("%v = %v, want %s", tt.args, names, tt.want)
		}
	}
}

func TestWriteRefusesHostileInput(t *testing.T) {
	good := Settings{Org: "acme", Repo: "demo"}
	tests := []struct {
		name  string
		token string
		s     Settings
	}{
		{"newline in token", tok + "\nmachine evil login x password y", good},
		{"quote in token", tok + `"`, good},
		{"dollar in token", "${HOME}", good},
		{"empty token", "", good},
		{"org with slash", tok, Settings{Org: "acme/../x", Repo: "demo"}},
		{"repo with newline", tok, Settings{Org: "acme", Repo: "demo\nregistry=http://evil"}},
		{"credentials in URL", tok, Settings{Org: "acme", Repo: "demo", URLs: map[string]string{DownloadURL: "https://u:p@dl.example"}}},
		{"http to a remote host", tok, Settings{Org: "acme", Repo: "demo", URLs: map[string]string{DownloadURL: "http://dl.example"}}},
		{"query in URL", tok, Settings{Org: "acme", Repo: "demo", URLs: map[string]string{NPMURL: "https://npm.example/?x=1"}}},
		{"docker path", tok, Settings{Org: "acme", Repo: "demo", URLs: map[string]string{DockerRegistry: "evil.example/x"}}},
		{"nosumdb with space", tok, Settings{Org: "acme", Repo: "demo", GoNoSumDB: "a b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cfg")
			_, err := Write(dir, tt.token, tt.s, All())
			if err == nil {
				t.Fatal("accepted")
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Error("the error contains the token")
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Error("something was written despite the error")
			}
		})
	}
}

func TestWriteEnvNeverHoldsToken(t *testing.T) {
	dir := t.TempDir()
	res, err := Write(dir, tok, Settings{Org: "acme", Repo: "demo", URLs: map[string]string{DownloadURL: "http://localhost:9000"}, GoNoSumDB: "example.com"}, All())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Env {
		for _, form := range SecretForms(tok) {
			if strings.Contains(e.Value, form) {
				t.Errorf("%s holds the token", e.Name)
			}
		}
	}
	if len(res.Files) < 8 {
		t.Errorf("only %d files written", len(res.Files))
	}
	for _, f := range res.Files {
		if !strings.HasPrefix(f, dir) {
			t.Errorf("%s is outside %s", f, dir)
		}
	}
}

func TestSecretForms(t *testing.T) {
	forms := SecretForms(tok)
	for _, want := range []string{tok, "dG9rZW46ZXlKaGJHY2lPaUpTVXpJMU5pSjkuZXlKemRXSWlPaUo0SW4wLmMybG4tXysvPQ==", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_%2B%2F%3D"} {
		found := false
		for _, f := range forms {
			found = found || f == want
		}
		if !found {
			t.Errorf("missing form %q in %q", want, forms)
		}
	}
}

func TestTOMLAndXMLEscaping(t *testing.T) {
	if got := tomlString("a\"b\\c\n"); got != `"a\"b\\c\u000A"` {
		t.Errorf("tomlString = %s", got)
	}
}

// TestAPIDefaultMatchesClient: the table's API host is the one the
// exchange client defaults to.
func TestAPIDefaultMatchesClient(t *testing.T) {
	e, ok := EndpointOf(APIURL)
	if !ok || e.Default != cloudsmith.DefaultAPIURL {
		t.Errorf("table's API host %q, cloudsmith.DefaultAPIURL %q", e.Default, cloudsmith.DefaultAPIURL)
	}
}

func TestEndpointNames(t *testing.T) {
	for _, e := range Endpoints() {
		if e.Env() != "CLOUDSMITH_"+strings.ToUpper(e.Key) || strings.Contains(e.Arg(), "_") || strings.Contains(e.Flag(), "_") {
			t.Errorf("%s: env %s, arg %s, flag %s", e.Key, e.Env(), e.Arg(), e.Flag())
		}
	}
	if e, _ := EndpointOf(PythonUploadURL); e.Arg() != "pythonUploadUrl" || e.Flag() != "python-upload-url" {
		t.Errorf("python_upload_url: arg %s, flag %s", e.Arg(), e.Flag())
	}
}

// TestPublishingConfiguration: uploads are set up in files (0600) and in
// ExecEnv, never in Env.
func TestPublishingConfiguration(t *testing.T) {
	dir := t.TempDir()
	s := Settings{Org: "acme", Repo: "demo", URLs: map[string]string{PythonUploadURL: "https://py.example", APIURL: "https://api.example/"}}
	res, err := Write(dir, tok, s, []Format{Python, NPM, Helm, Raw})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, e := range res.Env {
		env[e.Name] = e.Value
	}
	read := func(name string) string {
		t.Helper()
		fi, err := os.Stat(name)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, fi, err)
		}
		b, _ := os.ReadFile(name)
		return string(b)
	}
	if got := read(env["CLOUDSMITH_PYPIRC"]); !strings.Contains(got, "[cloudsmith]\nrepository = https://py.example/acme/demo/\nusername = token\npassword = "+tok+"\n") {
		t.Errorf("pypirc:\n%s", got)
	}
	if got := read(env["CLOUDSMITH_CREDENTIALS_FILE"]); got != "# Written by cloudsmith-oidc: holds a short-lived Cloudsmith token.\n[default]\napi_key = "+tok+"\n" {
		t.Errorf("credentials.ini:\n%s", got)
	}
	if env["CLOUDSMITH_API_HOST"] != "https://api.example" {
		t.Errorf("CLOUDSMITH_API_HOST = %q", env["CLOUDSMITH_API_HOST"])
	}
	if got := read(env["NPM_CONFIG_USERCONFIG"]); strings.Contains(got, "always-auth") || env["YARN_ALWAYS_AUTH"] != "true" {
		t.Errorf("always-auth for Yarn classic belongs in YARN_ALWAYS_AUTH (npm 9+ warns about it in an npmrc): %q\n%s", env["YARN_ALWAYS_AUTH"], got)
	}
	execEnv := map[string]string{}
	for _, e := range res.ExecEnv {
		execEnv[e.Name] = e.Value
	}
	if execEnv["TWINE_REPOSITORY_URL"] != "https://py.example/acme/demo/" || execEnv["TWINE_USERNAME"] != "token" || execEnv["TWINE_PASSWORD"] != tok || execEnv["UV_PUBLISH_URL"] == "" {
		t.Errorf("ExecEnv = %v", res.ExecEnv)
	}
	for name := range execEnv {
		if _, ok := env[name]; ok {
			t.Errorf("%s is in both Env and ExecEnv", name)
		}
	}
}
