package cloudsmithtest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// skopeoEnv writes a Docker config.json with a login for the registry (as
// `docker login` would) and the emulator's CA into a cert dir.
func skopeoEnv(t *testing.T, s started, dir string) (env []string, certDir string) {
	t.Helper()
	cfg := filepath.Join(dir, "docker")
	certDir = filepath.Join(dir, "certs")
	for _, d := range []string{cfg, certDir, filepath.Join(dir, "run")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	auth := base64.StdEncoding.EncodeToString([]byte("token:" + s.token))
	doc := `{"auths":{"` + s.DockerRegistry() + `":{"auth":"` + auth + `"}}}`
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(certDir, "ca.crt"), s.CACertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"DOCKER_CONFIG=" + cfg, "XDG_RUNTIME_DIR=" + filepath.Join(dir, "run"), "REGISTRY_AUTH_FILE="}, certDir
}

// TestSkopeoInspect reads the demo image with Debian's skopeo through the
// registry token flow (401 with a Bearer challenge, token endpoint with
// the config.json login, then Bearer), over verified TLS.
func TestSkopeoInspect(t *testing.T) {
	t.Parallel()
	skopeo := needTool(t, "skopeo", "--version")
	s := startWithToken(t, WithTLS(HostDocker))
	dir := t.TempDir()
	env, certs := skopeoEnv(t, s, dir)
	ref := "docker://" + s.DockerRegistry() + "/acme/demo/" + DemoDockerImage + ":" + DemoDockerTag
	out := run(t, dir, env, skopeo, "inspect", "--cert-dir", certs, ref)
	var got struct {
		Digest string
		Layers []string
		Os     string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("skopeo inspect: %v\n%s", err, out)
	}
	if got.Os != "linux" || len(got.Layers) != 1 || !strings.HasPrefix(got.Digest, "sha256:") {
		t.Errorf("inspect: %+v", got)
	}
	var bearer, basic bool
	for _, r := range s.Cloudsmith.Requests() {
		t.Logf("%s %s %d %s", r.Method, r.Path, r.Status, r.Auth)
		bearer = bearer || r.Path == "/v2/token" && r.Status == 200
		basic = basic || r.Status == http.StatusUnauthorized
	}
	if !bearer || !basic {
		t.Errorf("skopeo did not go through the challenge and the token endpoint (token: %v, 401: %v)", bearer, basic)
	}
}

// TestSkopeoPushRoundTrip pulls the demo image into an OCI layout, pushes
// it under a new name and tag with skopeo copy (blob uploads, manifest
// PUT), and reads it back.
func TestSkopeoPushRoundTrip(t *testing.T) {
	t.Parallel()
	skopeo := needTool(t, "skopeo", "--version")
	s := startWithToken(t, WithTLS(HostDocker))
	dir := t.TempDir()
	env, certs := skopeoEnv(t, s, dir)
	reg := "docker://" + s.DockerRegistry() + "/acme/demo/"
	layout := "oci:" + filepath.Join(dir, "layout") + ":hello"
	run(t, dir, env, skopeo, "--insecure-policy", "copy", "--src-cert-dir", certs, reg+DemoDockerImage+":"+DemoDockerTag, layout)
	run(t, dir, env, skopeo, "--insecure-policy", "copy", "--dest-cert-dir", certs, layout, reg+"pushed:2.0.0")
	out := run(t, dir, env, skopeo, "inspect", "--cert-dir", certs, reg+"pushed:2.0.0")
	if !strings.Contains(out, `"Os": "linux"`) {
		t.Errorf("pushed image: %s", out)
	}
	var found bool
	for _, p := range s.Cloudsmith.Packages("acme", "demo") {
		found = found || p.Format == "docker" && p.Name == "pushed" && p.Version == "2.0.0"
	}
	if !found {
		t.Error("the pushed image is not in the repository")
	}
}

// TestRegistryAuthRules pins the registry's strict rules: repository
// endpoints take only bearer tokens from the token endpoint (not the
// Basic credentials that other hosts take), the token endpoint needs
// credentials, and a token carries only the actions asked for.
func TestRegistryAuthRules(t *testing.T) {
	s := startWithToken(t)
	base := s.URLs[HostDocker]
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("token:"+s.token))}}
	manifest := base + "/v2/acme/demo/" + DemoDockerImage + "/manifests/" + DemoDockerTag

	resp, body := get(t, manifest, basic)
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="repository:acme/demo/hello-cloudsmith:pull"`) ||
		!strings.Contains(string(body), `"code":"UNAUTHORIZED"`) {
		t.Errorf("Basic on a manifest: %d %q %s; want 401 with a Bearer challenge naming the scope", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	if resp, _ := get(t, base+"/v2/token?service=x&scope=repository:acme/demo/hello-cloudsmith:pull", nil); resp.StatusCode != 401 {
		t.Errorf("token endpoint without credentials: %d, want 401", resp.StatusCode)
	}
	token := func(scope string) string {
		resp, body := get(t, base+"/v2/token?service=x&scope="+scope, basic)
		var tok struct{ Token string }
		if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil || tok.Token == "" {
			t.Fatalf("token: %d %s", resp.StatusCode, body)
		}
		return tok.Token
	}
	pull := token("repository:acme/demo/hello-cloudsmith:pull")
	bearer := http.Header{"Authorization": {"Bearer " + pull}}
	if resp, body := get(t, manifest, bearer); resp.StatusCode != 200 || resp.Header.Get("Docker-Content-Digest") != digestOf(body) {
		t.Errorf("manifest with a pull token: %d, digest %q", resp.StatusCode, resp.Header.Get("Docker-Content-Digest"))
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/v2/acme/demo/hello-cloudsmith/blobs/uploads/", nil)
	req.Header = bearer
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("upload with a pull-only token: %d %q; want 401 insufficient_scope", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	other := token("repository:acme/demo/other:pull")
	if resp, _ := get(t, manifest, http.Header{"Authorization": {"Bearer " + other}}); resp.StatusCode != 401 {
		t.Errorf("manifest with another image's token: %d, want 401", resp.StatusCode)
	}
	if resp, _ := get(t, base+"/v2/acme/demo/"+DemoDockerImage+"/manifests/9.9.9", bearer); resp.StatusCode != 404 {
		t.Errorf("unknown tag: %d, want 404", resp.StatusCode)
	}
}

// TestRegistryManifestRules pins what distribution refuses on a manifest
// PUT: a Content-Type that names no manifest type, a body whose mediaType
// differs from it, an invalid tag, and a repository name with capitals.
func TestRegistryManifestRules(t *testing.T) {
	s := startWithToken(t)
	base := s.URLs[HostDocker]
	var manifest []byte
	for _, p := range s.Cloudsmith.Packages("acme", "demo") {
		if p.Format == "docker" && p.Name == DemoDockerImage {
			manifest = p.file("manifest").Data
		}
	}
	bearer := func(name string) string {
		return "Bearer " + pushPullToken(t, s, "repository:acme/demo/"+name+":pull,push")
	}
	cases := []struct {
		name, image, tag, ctype string
		body                    string
		status                  int
		code                    string
	}{
		{"content type not a manifest's", "copy", "1.0.0", "application/json", string(manifest), 400, "MANIFEST_INVALID"},
		{"no content type", "copy", "1.0.0", "", string(manifest), 400, "MANIFEST_INVALID"},
		{"mediaType differs from the content type", "copy", "1.0.0", mediaOCIManifest, string(manifest), 400, "MANIFEST_INVALID"},
		{"tag starting with a dot", "copy", ".hidden", mediaDockerManifest, string(manifest), 400, "TAG_INVALID"},
		{"tag too long", "copy", strings.Repeat("a", 129), mediaDockerManifest, string(manifest), 400, "TAG_INVALID"},
		{"capitals in the image name", "Copy", "1.0.0", mediaDockerManifest, string(manifest), 400, "NAME_INVALID"},
		{"valid", "copy", "1.0.0", mediaDockerManifest, string(manifest), 201, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPut, base+"/v2/acme/demo/"+c.image+"/manifests/"+c.tag, strings.NewReader(c.body))
			req.Header.Set("Authorization", bearer(c.image))
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct{ Errors []struct{ Code string } }
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != c.status || c.code != "" && (len(e.Errors) != 1 || e.Errors[0].Code != c.code) {
				t.Errorf("PUT: %d %+v; want %d %s", resp.StatusCode, e, c.status, c.code)
			}
		})
	}
}

// TestRegistryManifestAccept: like distribution, the registry serves an
// OCI manifest only to a client whose Accept names OCI manifests (404
// MANIFEST_UNKNOWN otherwise), and a Docker one whatever it accepts.
func TestRegistryManifestAccept(t *testing.T) {
	s := startWithToken(t)
	base := s.URLs[HostDocker]
	bearer := "Bearer " + pushPullToken(t, s, "repository:acme/demo/oci:pull,push", "repository:acme/demo/hello-cloudsmith:pull")
	var config, layer string
	for _, p := range s.Cloudsmith.Packages("acme", "demo") {
		if p.Format == "docker" && p.Name == DemoDockerImage {
			config, layer = p.Files[1].Name, p.Files[2].Name
		}
	}
	// The demo's blobs are in the repository, so an OCI manifest naming
	// them can be pushed under another image.
	oci := `{"schemaVersion":2,"mediaType":"` + mediaOCIManifest + `","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + config + `","size":1},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + layer + `","size":1}]}`
	req, _ := http.NewRequest(http.MethodPut, base+"/v2/acme/demo/oci/manifests/1.0.0", strings.NewReader(oci))
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Content-Type", mediaOCIManifest)
	presp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	presp.Body.Close()
	if presp.StatusCode != 201 {
		t.Fatalf("OCI manifest PUT: %d", presp.StatusCode)
	}
	for _, c := range []struct {
		image, accept string
		status        int
	}{
		{"oci", "", 404},
		{"oci", mediaDockerManifest, 404},
		{"oci", mediaDockerManifest + ", " + mediaOCIManifest, 200},
		{"oci", "application/vnd.oci.image.manifest.v1+json;q=0.5", 200},
		{DemoDockerImage, "", 200},
	} {
		h := http.Header{"Authorization": {bearer}}
		if c.accept != "" {
			h.Set("Accept", c.accept)
		}
		resp, body := get(t, base+"/v2/acme/demo/"+c.image+"/manifests/1.0.0", h)
		if resp.StatusCode != c.status || c.status == 404 && !strings.Contains(string(body), "MANIFEST_UNKNOWN") {
			t.Errorf("%s with Accept %q: %d %s, want %d", c.image, c.accept, resp.StatusCode, body, c.status)
		}
	}
}

// TestRegistryChunkedUpload: PATCH chunks must follow on from what the
// upload holds (Content-Range start = its size, end matching the body),
// else 416 RANGE_INVALID, as distribution's blob upload handler answers.
func TestRegistryChunkedUpload(t *testing.T) {
	s := startWithToken(t)
	base := s.URLs[HostDocker]
	bearer := "Bearer " + pushPullToken(t, s, "repository:acme/demo/chunks:pull,push")
	do := func(method, url, rng, data string) *http.Response {
		t.Helper()
		if strings.HasPrefix(url, "/") {
			url = base + url
		}
		req, _ := http.NewRequest(method, url, strings.NewReader(data))
		req.Header.Set("Authorization", bearer)
		if rng != "" {
			req.Header.Set("Content-Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	start := do(http.MethodPost, "/v2/acme/demo/chunks/blobs/uploads/", "", "")
	loc := start.Header.Get("Location")
	if start.StatusCode != 202 || loc == "" {
		t.Fatalf("start: %d %q", start.StatusCode, loc)
	}
	if r := do(http.MethodPatch, loc, "0-4", "hello"); r.StatusCode != 202 || r.Header.Get("Range") != "0-4" {
		t.Fatalf("first chunk: %d %q", r.StatusCode, r.Header.Get("Range"))
	}
	for _, c := range []struct{ rng, data string }{{"0-5", "world!"}, {"7-12", "world!"}, {"5-7", "world!"}} {
		if r := do(http.MethodPatch, loc, c.rng, c.data); r.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("chunk %s: %d, want 416", c.rng, r.StatusCode)
		}
	}
	if r := do(http.MethodPatch, loc, "5-10", "world!"); r.StatusCode != 202 || r.Header.Get("Range") != "0-10" {
		t.Errorf("second chunk: %d %q", r.StatusCode, r.Header.Get("Range"))
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	if r := do(http.MethodPut, loc+sep+"digest="+digestOf([]byte("helloworld!")), "", ""); r.StatusCode != 201 {
		t.Errorf("complete: %d", r.StatusCode)
	}
}

// pushPullToken gets a bearer token for scopes from the registry's token
// endpoint with the started server's token as Basic credentials.
func pushPullToken(t *testing.T, s started, scopes ...string) string {
	t.Helper()
	q := url.Values{"service": {"x"}, "scope": scopes}
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("token:"+s.token))}}
	resp, body := get(t, s.URLs[HostDocker]+"/v2/token?"+q.Encode(), basic)
	var tok struct{ Token string }
	if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil || tok.Token == "" {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	return tok.Token
}
