package cloudsmithtest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// apiCall sends a JSON request with the token as X-Api-Key (the CLI's way).
func apiCall(t *testing.T, method, url, tok string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("X-Api-Key", tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// pushAPI uploads a file as `cloudsmith push FORMAT` does and returns the
// final status and body.
func pushAPI(t *testing.T, s started, format, file string, data []byte, extra map[string]any) (int, map[string]any) {
	t.Helper()
	sum := md5.Sum(data)
	status, up := apiCall(t, http.MethodPost, s.APIURL+"/v1/files/acme/demo/", s.token, map[string]any{"filename": file, "md5_checksum": hex.EncodeToString(sum[:])})
	if status != http.StatusAccepted {
		t.Fatalf("files create: %d %v", status, up)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range up["upload_fields"].(map[string]any) {
		_ = mw.WriteField(k, v.(string))
	}
	fw, _ := mw.CreateFormFile("file", file)
	_, _ = fw.Write(data)
	_ = mw.Close()
	resp, err := http.Post(up["upload_url"].(string), mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	req := map[string]any{"package_file": up["identifier"]}
	for k, v := range extra {
		req[k] = v
	}
	return apiCall(t, http.MethodPost, s.APIURL+"/v1/packages/acme/demo/upload/"+format+"/", s.token, req)
}

func TestAPIUploadRawAndHelm(t *testing.T) {
	s := startWithToken(t)
	if status, body := pushAPI(t, s, "raw", "notes.txt", []byte("v2 notes\n"), map[string]any{"name": "notes", "version": "2.0.0"}); status != http.StatusCreated || body["version"] != "2.0.0" {
		t.Fatalf("raw upload: %d %v", status, body)
	}
	base := s.DownloadURL + "/basic/acme/demo/raw/"
	for _, path := range []string{"files/notes.txt", "versions/2.0.0/notes.txt", "versions/latest/notes.txt", "names/notes/files/notes.txt", "names/notes/versions/2.0.0/notes.txt"} {
		resp, body := get(t, base+path, basicToken(s.token))
		if resp.StatusCode != 200 || string(body) != "v2 notes\n" {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
	// The same version again is refused unless republished.
	if status, _ := pushAPI(t, s, "raw", "notes.txt", []byte("again\n"), map[string]any{"name": "notes", "version": "2.0.0"}); status != http.StatusBadRequest {
		t.Errorf("duplicate raw upload: %d, want 400", status)
	}
	if status, _ := pushAPI(t, s, "raw", "notes.txt", []byte("again\n"), map[string]any{"name": "notes", "version": "2.0.0", "republish": true}); status != http.StatusCreated {
		t.Errorf("republish: %d", status)
	}

	chart, err := tarGz(buildTime, []struct{ name, body string }{{"pushed/Chart.yaml", "apiVersion: v2\nname: pushed\nversion: 0.2.0\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := pushAPI(t, s, "helm", "pushed-0.2.0.tgz", chart, nil); status != http.StatusCreated || body["name"] != "pushed" {
		t.Fatalf("helm upload: %d %v", status, body)
	}
	resp, index := get(t, s.HelmRepoURL()+"index.yaml", basicToken(s.token))
	if resp.StatusCode != 200 || !strings.Contains(string(index), "pushed-0.2.0.tgz") || !strings.Contains(string(index), "hello-cloudsmith-1.0.0.tgz") {
		t.Fatalf("index.yaml %d:\n%s", resp.StatusCode, index)
	}
	if status, _ := pushAPI(t, s, "helm", "junk.tgz", []byte("not a chart"), nil); status != http.StatusBadRequest {
		t.Errorf("a non-chart was accepted: %d", status)
	}
}

func TestAPIUploadRefusals(t *testing.T) {
	s := startWithToken(t)
	cases := []struct {
		name   string
		url    string
		tok    string
		body   any
		status int
	}{
		{"no credentials", s.APIURL + "/v1/files/acme/demo/", "", map[string]any{"filename": "x"}, 401},
		{"no such repository", s.APIURL + "/v1/files/acme/nope/", s.token, map[string]any{"filename": "x"}, 404},
		{"path as file name", s.APIURL + "/v1/files/acme/demo/", s.token, map[string]any{"filename": "../x"}, 422},
		{"unknown identifier", s.APIURL + "/v1/packages/acme/demo/upload/raw/", s.token, map[string]any{"package_file": "nope"}, 422},
		{"unsupported format", s.APIURL + "/v1/packages/acme/demo/upload/nope/", s.token, map[string]any{"package_file": "x"}, 404},
	}
	for _, c := range cases {
		if status, body := apiCall(t, http.MethodPost, c.url, c.tok, c.body); status != c.status {
			t.Errorf("%s: %d %v, want %d", c.name, status, body, c.status)
		}
	}
	// An identifier requested but never uploaded is no package file.
	status, up := apiCall(t, http.MethodPost, s.APIURL+"/v1/files/acme/demo/", s.token, map[string]any{"filename": "x.txt"})
	if status != http.StatusAccepted {
		t.Fatal(status)
	}
	if status, _ := apiCall(t, http.MethodPost, s.APIURL+"/v1/packages/acme/demo/upload/raw/", s.token, map[string]any{"package_file": up["identifier"]}); status != 422 {
		t.Errorf("package from a file never uploaded: %d", status)
	}
}

func TestNativeUploadsRefuseReaders(t *testing.T) {
	s := startWithToken(t)
	// The python upload host serves no reads.
	if resp, _ := get(t, s.PythonUploadURL(), basicToken(s.token)); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on the python upload host: %d", resp.StatusCode)
	}
	if resp, _ := get(t, s.PythonUploadURL(), nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous GET on the python upload host: %d, want 401 first", resp.StatusCode)
	}
	// A twine upload with a user name that is neither token nor the owner.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField(":action", "file_upload")
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.PythonUploadURL(), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetBasicAuth("__token__", s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("PyPI's __token__ user: %d, want 401", resp.StatusCode)
	}
}

// TestNativeAndAPIUploadsNeedWrite: with Read on the repository, a service installs
// but every upload path (twine's, npm publish, the API's files and
// packages endpoints) answers 403 and stores nothing.
func TestNativeAndAPIUploadsNeedWrite(t *testing.T) {
	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := srv.Cloudsmith
	if _, err := c.AddService(Service{Name: "reader", Slug: "reader"}); err != nil {
		t.Fatal(err)
	}
	if err := c.GrantPrivilege("acme", "demo", "reader", PrivilegeRead); err != nil {
		t.Fatal(err)
	}
	tok, err := c.MintToken("acme", "reader")
	if err != nil {
		t.Fatal(err)
	}
	before := len(c.Packages("acme", "demo"))
	if resp, _ := get(t, srv.PythonIndexURL()+"hello-cloudsmith/", basicToken(tok)); resp.StatusCode != 200 {
		t.Fatalf("Read does not read: %d", resp.StatusCode)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField(":action", "file_upload")
	_ = mw.Close()
	send := func(method, url, ctype string, body io.Reader, h http.Header) int {
		req, _ := http.NewRequest(method, url, body)
		req.Header = h
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	bearer := http.Header{"Authorization": {"Bearer " + tok}}
	apiKey := http.Header{"X-Api-Key": {tok}}
	checks := []struct {
		name string
		got  int
	}{
		{"twine upload", send(http.MethodPost, srv.PythonUploadURL(), mw.FormDataContentType(), &form, basicToken(tok))},
		{"npm publish", send(http.MethodPut, srv.NPMRegistryURL()+"x", "application/json", strings.NewReader(`{}`), bearer)},
		{"files create", send(http.MethodPost, srv.APIURL+"/v1/files/acme/demo/", "application/json", strings.NewReader(`{"filename":"x"}`), apiKey)},
		{"raw package", send(http.MethodPost, srv.APIURL+"/v1/packages/acme/demo/upload/raw/", "application/json", strings.NewReader(`{"package_file":"x"}`), apiKey)},
	}
	for _, ch := range checks {
		if ch.got != http.StatusForbidden {
			t.Errorf("%s with Read: %d, want 403", ch.name, ch.got)
		}
	}
	if after := len(c.Packages("acme", "demo")); after != before {
		t.Errorf("%d packages stored without Write", after-before)
	}
}
