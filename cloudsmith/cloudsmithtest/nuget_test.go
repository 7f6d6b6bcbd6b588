package cloudsmithtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// No NuGet client that speaks v3 can be had from Debian or npm (Debian's
// nuget is NuGet.exe 2.8.7 on Mono, from before the v3 protocol; dotnet is
// not packaged), so this test walks the protocol as NuGet's v3 client does:
// service index → PackageBaseAddress → versions → .nupkg, the
// registration, then a push to PackagePublish and the pushed version back.
func TestNuGetProtocolRoundTrip(t *testing.T) {
	s := startWithToken(t)
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("token:"+s.token))}}
	getJSON := func(url string, v any) {
		t.Helper()
		resp, body := get(t, url, basic)
		if resp.StatusCode != 200 || json.Unmarshal(body, v) != nil {
			t.Fatalf("%s: %d %s", url, resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, s.NuGetSourceURL(), nil); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != realm {
		t.Fatalf("service index without credentials: %d; want a 401 Basic challenge", resp.StatusCode)
	}
	var index struct {
		Version   string
		Resources []struct {
			ID   string `json:"@id"`
			Type string `json:"@type"`
		}
	}
	getJSON(s.NuGetSourceURL(), &index)
	res := map[string]string{}
	for _, r := range index.Resources {
		res[r.Type] = r.ID
	}
	flat, reg, push := res["PackageBaseAddress/3.0.0"], res["RegistrationsBaseUrl/3.6.0"], res["PackagePublish/2.0.0"]
	if index.Version != "3.0.0" || flat == "" || reg == "" || push == "" || res["SearchQueryService/3.5.0"] == "" {
		t.Fatalf("service index: %+v", index)
	}
	fetch := func(id, version string) []byte {
		t.Helper()
		lower, v := strings.ToLower(id), strings.ToLower(version)
		var versions struct{ Versions []string }
		getJSON(flat+lower+"/index.json", &versions)
		if !strings.Contains(strings.Join(versions.Versions, ","), v) {
			t.Fatalf("flat container versions of %s: %v", id, versions.Versions)
		}
		resp, nupkg := get(t, flat+lower+"/"+v+"/"+lower+"."+v+".nupkg", basic)
		if resp.StatusCode != 200 {
			t.Fatalf(".nupkg: %d", resp.StatusCode)
		}
		spec, err := readNuspec(nupkg)
		if err != nil || !strings.Contains(string(spec), "<id>"+id+"</id>") {
			t.Fatalf("the .nupkg's nuspec: %v %s", err, spec)
		}
		var registration struct {
			Items []struct {
				Items []struct {
					CatalogEntry   struct{ ID, Version string }
					PackageContent string
				}
			}
		}
		getJSON(reg+lower+"/index.json", &registration)
		if len(registration.Items) != 1 || len(registration.Items[0].Items) == 0 || registration.Items[0].Items[0].CatalogEntry.ID != id {
			t.Fatalf("registration: %+v", registration)
		}
		return nupkg
	}
	fetch(DemoNuGetID, DemoNuGetVersion)

	nupkg, err := buildNupkg("Published.Package", "2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	send := func(h http.Header) int {
		t.Helper()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("package", "package.nupkg")
		fw.Write(nupkg)
		mw.Close()
		req, _ := http.NewRequest(http.MethodPut, push, &body)
		req.Header = h
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send(http.Header{}); code != 401 {
		t.Errorf("push without a key: %d, want 401", code)
	}
	if code := send(http.Header{"X-Nuget-Apikey": {s.token}}); code != 201 {
		t.Fatalf("push: %d, want 201", code)
	}
	if code := send(http.Header{"X-Nuget-Apikey": {s.token}}); code != 409 {
		t.Errorf("second push of the same version: %d, want 409", code)
	}
	if got := fetch("Published.Package", "2.0.0"); !bytes.Equal(got, nupkg) {
		t.Error("the pushed .nupkg came back different")
	}
	// Versions are normalised (NuGet's rules: x.y → x.y.0, a zero fourth
	// part and build metadata dropped): 2.0 is 2.0.0 again, and 3.1.0.0+b5
	// is served as 3.1.0.
	if nupkg, err = buildNupkg("Published.Package", "2.0"); err != nil {
		t.Fatal(err)
	}
	if code := send(http.Header{"X-Nuget-Apikey": {s.token}}); code != 409 {
		t.Errorf("push of 2.0 after 2.0.0: %d, want 409", code)
	}
	if nupkg, err = buildNupkg("Other.Package", "3.1.0.0+b5"); err != nil {
		t.Fatal(err)
	}
	if code := send(http.Header{"X-Nuget-Apikey": {s.token}}); code != 201 {
		t.Fatalf("push of 3.1.0.0+b5: %d, want 201", code)
	}
	fetch("Other.Package", "3.1.0")
}

// TestUploadsNeedWrite: a service with Read on the repository reads every
// format but uploads none (403; the registry leaves push out of its token).
func TestUploadsNeedWrite(t *testing.T) {
	s := startWithToken(t)
	reader, err := s.Cloudsmith.AddService(Service{Name: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Cloudsmith.GrantPrivilege("acme", "demo", reader.Slug, PrivilegeRead); err != nil {
		t.Fatal(err)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("token:"+reader.Key))
	do := func(method, url string, h http.Header, body []byte) int {
		t.Helper()
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	reads := map[string]string{
		"maven":  s.MavenURL() + "com/example/hello-cloudsmith/maven-metadata.xml",
		"cargo":  s.URLs[HostCargo] + "/acme/demo/he/ll/hello-cloudsmith",
		"nuget":  s.NuGetSourceURL(),
		"docker": s.URLs[HostDocker] + "/v2/token?service=x&scope=repository:acme/demo/hello-cloudsmith:pull",
	}
	for name, u := range reads {
		if code := do(http.MethodGet, u, http.Header{"Authorization": {basic}}, nil); code != 200 {
			t.Errorf("%s read with Read: %d", name, code)
		}
	}
	uploads := []struct {
		name, url string
		h         http.Header
	}{
		{"maven", s.MavenUploadURL() + "com/example/x/1.0/x-1.0.jar", http.Header{"Authorization": {basic}}},
		{"cargo", s.URLs[HostCargo] + "/acme/demo/api/v1/crates/new", http.Header{"Authorization": {"Token " + reader.Key}}},
		{"nuget", s.URLs[HostNuGet] + "/acme/demo/api/v2/package", http.Header{"X-Nuget-Apikey": {reader.Key}, "Content-Type": {"multipart/form-data; boundary=x"}}},
	}
	for _, u := range uploads {
		if code := do(http.MethodPut, u.url, u.h, []byte("x")); code != 403 {
			t.Errorf("%s upload with Read: %d, want 403", u.name, code)
		}
	}
	resp, body := get(t, s.URLs[HostDocker]+"/v2/token?service=x&scope=repository:acme/demo/hello-cloudsmith:pull,push", http.Header{"Authorization": {basic}})
	var tok struct{ Token string }
	if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	if code := do(http.MethodPost, s.URLs[HostDocker]+"/v2/acme/demo/hello-cloudsmith/blobs/uploads/", http.Header{"Authorization": {"Bearer " + tok.Token}}, nil); code != 401 {
		t.Errorf("docker push with Read: %d, want 401 (push not in the token)", code)
	}
}
