package cloudsmithtest

import (
	"strings"
	"testing"
)

// TestStoreServesAddedPackages pins the per-repository store: a package
// added to one repository is served by its format's handler there, next to
// what was there before, and nowhere else.
func TestStoreServesAddedPackages(t *testing.T) {
	s := startWithToken(t)
	c := s.Cloudsmith
	if err := c.AddRepo("acme", "other"); err != nil {
		t.Fatal(err)
	}
	added := []Package{
		{Format: "python", Name: "Hello_Cloudsmith", Version: "2.0.0", Files: []File{{Name: "hello_cloudsmith-2.0.0-py3-none-any.whl", ContentType: "application/zip", Data: []byte("wheel")}}},
		{Format: "npm", Name: "hello-cloudsmith", Version: "2.0.0", Files: []File{{Name: "hello-cloudsmith-2.0.0.tgz", Data: []byte("tgz")}}},
		{Format: "go", Name: DemoGoModule, Version: "v2.0.0", Files: []File{{Name: "v2.0.0.info", Data: []byte(`{"Version":"v2.0.0"}`)}}},
		{Format: "raw", Name: "notes", Version: "1", Files: []File{{Name: "notes.txt", ContentType: "text/plain", Data: []byte("notes")}}},
	}
	for _, p := range added {
		if err := c.AddPackage("acme", "demo", p); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AddPackage("acme", "demo", added[0]); err == nil {
		t.Error("adding an existing version again succeeded; want it refused")
	}
	if err := c.AddPackage("acme", "demo", Package{Format: "nope"}); err == nil {
		t.Error("a package of an unknown format was accepted")
	}
	auth := basicToken(s.token)
	cases := []struct {
		name, url, want string
	}{
		{"python page lists both versions", s.PythonIndexURL() + "hello-cloudsmith/", "hello_cloudsmith-2.0.0-py3-none-any.whl"},
		{"python page keeps the demo", s.PythonIndexURL() + "hello-cloudsmith/", "hello_cloudsmith-1.0.0-py3-none-any.whl"},
		{"python file", s.DownloadURL + "/basic/acme/demo/python/files/hello_cloudsmith-2.0.0-py3-none-any.whl", "wheel"},
		{"npm latest", s.NPMRegistryURL() + "hello-cloudsmith", `"latest":"2.0.0"`},
		{"npm tarball", s.NPMRegistryURL() + "hello-cloudsmith/-/hello-cloudsmith-2.0.0.tgz", "tgz"},
		{"go list", s.GoProxyURL() + DemoGoModule + "/@v/list", "v1.0.0\nv2.0.0\n"},
		{"go latest", s.GoProxyURL() + DemoGoModule + "/@latest", `"v2.0.0"`},
		{"raw", s.DownloadURL + "/basic/acme/demo/raw/files/notes.txt", "notes"},
	}
	for _, tc := range cases {
		resp, body := get(t, tc.url, auth)
		if resp.StatusCode != 200 || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %q; want 200 containing %q", tc.name, resp.StatusCode, body, tc.want)
		}
	}
	// The other repository of the same org holds none of it (and the
	// service may read it only once granted).
	if err := c.GrantPrivilege("acme", "other", "jenkins", PrivilegeRead); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{
		s.DownloadURL + "/basic/acme/other/raw/files/notes.txt",
		s.DownloadURL + "/basic/acme/other/python/simple/hello-cloudsmith/",
		s.URLs[HostNPM] + "/acme/other/hello-cloudsmith",
	} {
		if resp, body := get(t, u, auth); resp.StatusCode != 404 {
			t.Errorf("%s: %d %s; want 404", u, resp.StatusCode, body)
		}
	}
	if got, demo := len(c.Packages("acme", "demo")), len(New().Packages("acme", "demo")); got != demo+4 {
		t.Errorf("Packages: %d, want the %d demo packages and the 4 added", got, demo)
	}
}

// TestEveryHostGoesThroughTheGate pins the one authorisation gate: every
// format, on the download host and on its own host, challenges a request
// without credentials and refuses writes it has no upload for.
func TestEveryHostGoesThroughTheGate(t *testing.T) {
	s := startWithToken(t)
	for _, f := range formatTable() {
		var urls []string
		if f.download {
			urls = append(urls, s.DownloadURL+"/basic/acme/demo/"+f.name+"/x")
		}
		if f.host != "" && f.host != HostDocker {
			urls = append(urls, s.URLs[f.host]+"/acme/demo/x")
		}
		for _, u := range urls {
			resp, _ := get(t, u, nil)
			if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != realm {
				t.Errorf("%s: %d; want 401 with a Basic challenge", u, resp.StatusCode)
			}
		}
		if f.host == HostDocker {
			// The registry challenges for a bearer token instead.
			u := s.URLs[f.host] + "/v2/acme/demo/x/manifests/1"
			resp, _ := get(t, u, nil)
			if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer realm=") {
				t.Errorf("%s: %d; want 401 with a Bearer challenge", u, resp.StatusCode)
			}
		}
	}
	if len(s.URLs) != len(Hosts()) {
		t.Errorf("Start opened %d hosts, Hosts lists %d", len(s.URLs), len(Hosts()))
	}
}
