package spec

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
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
	for _, e := range pkgconfig.Endpoints() {
		if got := c.Host(e.Key); got != e.Default {
			t.Errorf("default %s = %s, want %s", e.Key, got, e.Default)
		}
	}
	if c.API() != "https://api.cloudsmith.io" {
		t.Errorf("API() = %s", c.API())
	}
	c = Cloudsmith{APIURL: "http://127.0.0.1:1/api/", DownloadURL: "http://127.0.0.1:1/dl", NPMURL: "http://127.0.0.1:1/npm//", GoURL: "http://127.0.0.1:1/go"}
	got := []string{c.API(), c.Host(pkgconfig.DownloadURL), c.Host(pkgconfig.NPMURL), c.Host(pkgconfig.GoURL)}
	want := []string{"http://127.0.0.1:1/api", "http://127.0.0.1:1/dl", "http://127.0.0.1:1/npm", "http://127.0.0.1:1/go"}
	if !slices.Equal(got, want) {
		t.Errorf("overrides: %q, want %q", got, want)
	}
}

// TestHostFieldsMatchTable: cloudsmith has exactly one field per host of
// pkgconfig's table, named by its key, so a host added there is a spec
// key (and a schema entry) too.
func TestHostFieldsMatchTable(t *testing.T) {
	var keys []string
	for _, f := range hostFields() {
		keys = append(keys, f.key)
	}
	var want []string
	for _, e := range pkgconfig.Endpoints() {
		want = append(want, e.Key)
	}
	if !slices.Equal(keys, want) {
		t.Errorf("cloudsmith's host fields %q, pkgconfig's hosts %q: add a field tagged with each key, in table order", keys, want)
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
