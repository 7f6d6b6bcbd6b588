package cloudsmithtest

import (
	"archive/zip"
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// started is a running emulator with an exchanged token for service
// "jenkins" of org "acme".
type started struct {
	*Server
	token string
}

func startWithToken(t *testing.T, opts ...Option) started {
	t.Helper()
	iss := newTestIssuer(t, "/oidc")
	key := testKeys()[0]
	iss.publish(map[string]*rsa.PrivateKey{"k": key})
	s, err := Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	trust(t, s.Cloudsmith, iss.URL, map[string]any{"aud": "cloudsmith"})
	now := s.Cloudsmith.now()
	oidc := mint(t, key, "k", map[string]any{"iss": iss.URL, "aud": "cloudsmith", "sub": "job", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	status, body := post(t, s.APIURL+"/openid/acme/", "application/json", exchangeBody(oidc, "jenkins"))
	if status != 201 {
		t.Fatalf("exchange: %d %v (%s)", status, body, s.Cloudsmith.LastExchangeFailure())
	}
	return started{Server: s, token: body["token"].(string)}
}

// basicToken is how Cloudsmith's tools send a token to a package host.
func basicToken(tok string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("token:"+tok))}}
}

func get(t *testing.T, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestPackageEndpointsAuth(t *testing.T) {
	s := startWithToken(t)
	other := New(WithOrg("other"))
	foreign, err := other.AddService(Service{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	basic := func(user, pass string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}
	}
	// A service key of an org this emulator's acme does not own.
	s.Cloudsmith.AddOrg("other", "repo")
	if _, err := s.Cloudsmith.AddServiceTo("other", Service{Name: "x", Key: foreign.Key}); err != nil {
		t.Fatal(err)
	}

	urls := map[string]string{
		"python index": s.PythonIndexURL(),
		"python page":  s.PythonIndexURL() + "hello-cloudsmith/",
		"raw":          s.RawURL(),
		"npm":          s.NPMRegistryURL() + "hello-cloudsmith",
		"go":           s.GoProxyURL() + DemoGoModule + "/@v/list",
		"go basic":     s.GoURL + "/basic/acme/demo/" + DemoGoModule + "/@v/list",
		"legacy go":    s.DownloadURL + "/basic/acme/demo/go/" + DemoGoModule + "/@v/list",
		"legacy npm":   s.DownloadURL + "/basic/acme/demo/npm/hello-cloudsmith",
		"helm index":   s.HelmRepoURL() + "index.yaml",
	}
	// Bearer is npm's (_authToken); the Go proxy protocol "only supports
	// authentication via HTTP Basic", and the download host documents
	// nothing else.
	npmOnly := func(url string) bool { return strings.Contains(url, "npm") }
	always := func(string) bool { return true }
	never := func(string) bool { return false }
	creds := []struct {
		name   string
		header http.Header
		ok     func(name string) bool
	}{
		{"none", http.Header{}, never},
		{"basic token:<token>", basic("token", s.token), always},
		{"basic service slug", basic("jenkins", s.token), always},
		{"basic another user", basic("someone", s.token), never},
		{"bearer", http.Header{"Authorization": {"Bearer " + s.token}}, npmOnly},
		{"x-api-key token", http.Header{"X-Api-Key": {s.token}}, always},
		{"x-api-key bearer token", http.Header{"X-Api-Key": {"Bearer " + s.token}}, always},
		{"api key", http.Header{"X-Api-Key": {s.APIKey}}, always},
		{"basic api key", basic("token", s.APIKey), always},
		{"wrong password", basic("token", "nope"), never},
		{"tampered token", basic("token", s.token+"x"), never},
		{"key of another org", http.Header{"X-Api-Key": {foreign.Key}}, never},
	}
	for name, url := range urls {
		for _, c := range creds {
			resp, body := get(t, url, c.header)
			ok := c.ok(name)
			if ok && resp.StatusCode != 200 {
				t.Errorf("%s with %s: %d %s", name, c.name, resp.StatusCode, body)
			}
			if !ok {
				if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != realm {
					t.Errorf("%s with %s: %d, WWW-Authenticate %q; want 401 with a Basic challenge", name, c.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
				}
				if strings.Contains(string(body), s.token) {
					t.Errorf("%s: body echoes the token", name)
				}
			}
		}
	}
	// Authenticated, but no such repository.
	if resp, _ := get(t, s.DownloadURL+"/basic/acme/nope/raw/files/hello.txt", basic("token", s.token)); resp.StatusCode != 404 {
		t.Errorf("unknown repo: %d", resp.StatusCode)
	}
	// Unauthenticated callers learn nothing about which repos exist.
	if resp, _ := get(t, s.DownloadURL+"/basic/acme/nope/raw/files/hello.txt", nil); resp.StatusCode != 401 {
		t.Errorf("unknown repo without credentials: %d", resp.StatusCode)
	}
	// An entitlement-token style URL (not served) still keeps the token out of the log.
	get(t, s.DownloadURL+"/"+s.token+"/acme/demo/raw/files/hello.txt", nil)
	for _, r := range s.Cloudsmith.Requests() {
		if strings.Contains(r.Path, s.token) || strings.Contains(r.Failure, s.token) {
			t.Fatalf("request log holds the token: %+v", r)
		}
	}
}

func TestTokenExpiresForPackages(t *testing.T) {
	now := time.Now()
	var skew atomic.Int64
	s := startWithToken(t, WithClock(func() time.Time { return now.Add(time.Duration(skew.Load())) }), WithTokenLifetime(time.Minute))
	h := basicToken(s.token)
	if resp, _ := get(t, s.RawURL(), h); resp.StatusCode != 200 {
		t.Fatalf("fresh token: %d", resp.StatusCode)
	}
	skew.Store(int64(2 * time.Minute))
	if resp, _ := get(t, s.RawURL(), h); resp.StatusCode != 401 {
		t.Fatalf("expired token: %d", resp.StatusCode)
	}
	reqs := s.Cloudsmith.Requests()
	if last := reqs[len(reqs)-1]; !strings.Contains(last.Failure, "expired") {
		t.Errorf("log does not say expired: %+v", last)
	}
}

func TestDemoArtifacts(t *testing.T) {
	a, err := buildArtifacts()
	if err != nil {
		t.Fatal(err)
	}
	// The wheel's RECORD lists every other file with its real hash and size.
	zr, err := zip.NewReader(bytes.NewReader(a.wheel), int64(len(a.wheel)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	record := string(files["hello_cloudsmith-1.0.0.dist-info/RECORD"])
	for name, body := range files {
		if strings.HasSuffix(name, "/RECORD") {
			continue
		}
		sum := sha256.Sum256(body)
		line := name + ",sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]) + "," + itoa(int64(len(body)))
		if !strings.Contains(record, line+"\n") {
			t.Errorf("RECORD lacks %q:\n%s", line, record)
		}
	}
	if !strings.Contains(string(files["hello_cloudsmith-1.0.0.dist-info/METADATA"]), "Name: hello-cloudsmith\nVersion: 1.0.0\n") {
		t.Error("METADATA")
	}
	// Building twice gives identical bytes, so hashes are stable across runs.
	b, _ := buildArtifacts()
	if !bytes.Equal(a.wheel, b.wheel) || !bytes.Equal(a.npmTarball, b.npmTarball) || !bytes.Equal(a.goZip, b.goZip) {
		t.Error("artifacts are not reproducible")
	}
	if !strings.HasPrefix(a.npmIntegrity, "sha512-") || len(a.npmShasum) != 40 {
		t.Errorf("npm digests %q %q", a.npmIntegrity, a.npmShasum)
	}
}

func TestNPMPackument(t *testing.T) {
	s := startWithToken(t)
	resp, body := get(t, s.NPMRegistryURL()+"hello-cloudsmith", http.Header{"Authorization": {"Bearer " + s.token}})
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	var doc struct {
		DistTags map[string]string `json:"dist-tags"`
		Versions map[string]struct {
			Dist struct{ Tarball, Shasum, Integrity string }
		}
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	dist := doc.Versions["1.0.0"].Dist
	if doc.DistTags["latest"] != "1.0.0" || !strings.HasPrefix(dist.Tarball, s.NPMRegistryURL()) {
		t.Fatalf("packument %s", body)
	}
	tresp, tgz := get(t, dist.Tarball, http.Header{"Authorization": {"Bearer " + s.token}})
	if tresp.StatusCode != 200 || !bytes.Equal(tgz, s.Cloudsmith.art.npmTarball) {
		t.Fatalf("tarball %d", tresp.StatusCode)
	}
}

func TestMintToken(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Cloudsmith.MintToken("acme", "ghost"); err == nil {
		t.Error("minted a token for a service that does not exist")
	}
	if _, err := s.Cloudsmith.AddService(Service{Name: "ci", Slug: "ci"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Cloudsmith.GrantPrivilege("acme", "demo", "ci", PrivilegeRead); err != nil {
		t.Fatal(err)
	}
	tok, err := s.Cloudsmith.MintToken("acme", "ci")
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, s.RawURL(), basicToken(tok)); resp.StatusCode != 200 {
		t.Errorf("minted token refused: %d", resp.StatusCode)
	}
}

// TestHelmRepositoryAsHelmReadsIt does what Helm's repo client does with
// a repository added with --username token --password TOKEN (helm
// pkg/repo ChartRepository.DownloadIndexFile, pkg/downloader): fetch
// index.yaml with Basic credentials, find the version, download its first
// URL (credentials go only to the repository's own host unless
// pass_credentials_all) and check the digest and the archive's Chart.yaml.
func TestHelmRepositoryAsHelmReadsIt(t *testing.T) {
	s := startWithToken(t)
	if resp, _ := get(t, s.HelmRepoURL()+"index.yaml", nil); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != realm {
		t.Fatalf("anonymous index.yaml: %d", resp.StatusCode)
	}
	resp, body := get(t, s.HelmRepoURL()+"index.yaml", basicToken(s.token))
	if resp.StatusCode != 200 {
		t.Fatalf("index.yaml: %d %s", resp.StatusCode, body)
	}
	var index struct {
		APIVersion string `yaml:"apiVersion"`
		Entries    map[string][]struct {
			APIVersion string   `yaml:"apiVersion"`
			Name       string   `yaml:"name"`
			Version    string   `yaml:"version"`
			Digest     string   `yaml:"digest"`
			URLs       []string `yaml:"urls"`
		} `yaml:"entries"`
	}
	if err := yaml.Unmarshal(body, &index); err != nil || index.APIVersion != "v1" {
		t.Fatalf("index.yaml: %v\n%s", err, body)
	}
	versions := index.Entries[DemoHelmChart]
	if len(versions) != 1 || versions[0].Version != DemoHelmVersion || versions[0].APIVersion != "v2" || len(versions[0].URLs) != 1 {
		t.Fatalf("entries: %+v", index.Entries)
	}
	u := versions[0].URLs[0]
	if !strings.HasPrefix(u, s.DownloadURL+"/") {
		t.Errorf("chart URL %s is not on the repository's host: Helm would not send the credentials", u)
	}
	cresp, tgz := get(t, u, basicToken(s.token))
	sum := sha256.Sum256(tgz)
	if cresp.StatusCode != 200 || hex.EncodeToString(sum[:]) != versions[0].Digest {
		t.Fatalf("chart %d, digest %x vs index %s", cresp.StatusCode, sum, versions[0].Digest)
	}
	meta, err := helmChartOf(tgz)
	if err != nil || meta.Name != DemoHelmChart || meta.Version != DemoHelmVersion {
		t.Errorf("Chart.yaml %+v: %v", meta, err)
	}
}

// TestGoProxyCaseEncoding: the GOPROXY protocol spells each capital in a
// module path as "!" and the lower-case letter (golang.org/x/mod/module
// EscapePath), so a module with capitals is served only at its escaped
// path and an unescaped capital in a request is a bad request.
func TestGoProxyCaseEncoding(t *testing.T) {
	s := startWithToken(t)
	info := []byte(`{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}`)
	if err := s.Cloudsmith.AddPackage("acme", "demo", Package{Format: "go", Name: "github.com/Acme/Hello", Version: "v1.0.0",
		Files: []File{{Name: "v1.0.0.info", ContentType: "application/json", Data: info}}}); err != nil {
		t.Fatal(err)
	}
	auth := basicToken(s.token)
	for _, c := range []struct {
		path   string
		status int
	}{
		{"github.com/!acme/!hello/@v/list", 200},
		{"github.com/!acme/!hello/@v/v1.0.0.info", 200},
		{"github.com/Acme/Hello/@v/list", 400},
		{"github.com/acme/hello/@v/list", 404},
		{"github.com/!acme/!hello!/@v/list", 400},
	} {
		if resp, body := get(t, s.GoProxyURL()+c.path, auth); resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.path, resp.StatusCode, body, c.status)
		}
	}
}
