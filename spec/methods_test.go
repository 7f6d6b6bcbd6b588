package spec

import (
	"reflect"
	"strings"
	"testing"
)

func TestIssuerURL(t *testing.T) {
	cases := []struct {
		url, issuer, folder, want string
	}{
		{"https://j.example.com/", "", "", "https://j.example.com/oidc"},
		{"https://j.example.com", "", "", "https://j.example.com/oidc"},
		{"https://j.example.com/jenkins/", "", "", "https://j.example.com/jenkins/oidc"},
		{"https://j.example.com/", "", "at the top/middle", "https://j.example.com/oidc/job/at%20the%20top/job/middle"},
		{"https://j.example.com/", "", "Ünï", "https://j.example.com/oidc/job/%C3%9Cn%C3%AF"},
		{"https://j.example.com/", "https://issuer.example.com", "team-a", "https://issuer.example.com"},
	}
	for _, tc := range cases {
		s := &Spec{Jenkins: Jenkins{URL: tc.url}, OIDC: OIDC{Issuer: tc.issuer, Folder: tc.folder}}
		if got := s.IssuerURL(); got != tc.want {
			t.Errorf("IssuerURL(%q, %q, %q) = %q, want %q", tc.url, tc.issuer, tc.folder, got, tc.want)
		}
	}
}

func TestJobFolderBase(t *testing.T) {
	for name, want := range map[string][2]string{
		"top":     {"", "top"},
		"a/b":     {"a", "b"},
		"a/b/c d": {"a/b", "c d"},
		"":        {"", ""},
	} {
		j := Job{Name: name}
		if j.Folder() != want[0] || j.Base() != want[1] {
			t.Errorf("%q: Folder=%q Base=%q, want %q", name, j.Folder(), j.Base(), want)
		}
	}
}

func TestFolders(t *testing.T) {
	s := &Spec{
		OIDC: OIDC{Folder: "team-a"},
		Jobs: []Job{{Name: "team-a/x/y"}, {Name: "Team-A/z"}, {Name: "top"}, {Name: "b/c"}},
		Seed: &Seed{Name: "ops/seed"},
	}
	want := []string{"team-a", "team-a/x", "b", "ops"}
	if got := s.Folders(); !reflect.DeepEqual(got, want) {
		t.Errorf("Folders() = %q, want %q", got, want)
	}
}

func TestCloudsmithURLs(t *testing.T) {
	var c Cloudsmith
	if c.API() != DefaultAPIURL || c.Download() != DefaultDownloadURL || c.NPM() != DefaultNPMURL || c.Go() != DefaultGoURL {
		t.Errorf("defaults: %s %s %s %s", c.API(), c.Download(), c.NPM(), c.Go())
	}
	c = Cloudsmith{APIURL: "http://127.0.0.1:1/api/", DownloadURL: "http://127.0.0.1:1/dl", NPMURL: "http://127.0.0.1:1/npm//", GoURL: "http://127.0.0.1:1/go"}
	if c.API() != "http://127.0.0.1:1/api" || c.Download() != "http://127.0.0.1:1/dl" || c.NPM() != "http://127.0.0.1:1/npm" || c.Go() != "http://127.0.0.1:1/go" {
		t.Errorf("overrides: %s %s %s %s", c.API(), c.Download(), c.NPM(), c.Go())
	}
}

func TestResolve(t *testing.T) {
	s := &Spec{File: "conf/spec.yaml"}
	if got := s.Resolve("templates"); got != "conf/templates" {
		t.Errorf("Resolve = %q", got)
	}
	if got := s.Resolve("/abs/t"); got != "/abs/t" {
		t.Errorf("Resolve abs = %q", got)
	}
}

// A spec's identity comes from id, else from its credential: never from
// the file name, so renaming the file keeps ownership.
func TestIdentity(t *testing.T) {
	for _, name := range []string{"a.yaml", "renamed/b.yml"} {
		s, err := Parse(name, []byte(base), getenv)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Identity(); got != "oidc-token-cred" {
			t.Errorf("%s: derived identity %q", name, got)
		}
		s, err = Parse(name, []byte("id: team-a/build\n"+strings.Replace(strings.Replace(base, "  audience:", "  folder: team-a\n  audience:", 1), "name: build-wheel", "name: team-a/build-wheel", 1)), getenv)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Identity(); got != "team-a/build" {
			t.Errorf("%s: identity %q", name, got)
		}
		if s.ID = ""; s.Identity() != "team-a/oidc-token-cred" {
			t.Errorf("%s: derived identity with a folder %q", name, s.Identity())
		}
	}
}
