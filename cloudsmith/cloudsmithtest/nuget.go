package cloudsmithtest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

// HostNuGet is nuget.cloudsmith.io: the NuGet v3 service index at
// {org}/{repo}/v3/index.json, the flat container and registration
// resources it lists, and the push endpoint (PackagePublish/2.0.0).
const HostNuGet Host = "nuget"

// Demo NuGet package coordinates.
const (
	DemoNuGetID      = "Hello.Cloudsmith"
	DemoNuGetVersion = "1.0.0"
)

// demoNuGet builds Hello.Cloudsmith 1.0.0: a .nupkg (OPC zip) with the
// nuspec at the root and a content file.
func demoNuGet() ([]Package, error) {
	nupkg, err := buildNupkg(DemoNuGetID, DemoNuGetVersion)
	if err != nil {
		return nil, err
	}
	return []Package{nugetPackage(DemoNuGetID, DemoNuGetVersion, nupkg)}, nil
}

func nuspec(id, version string) string {
	return xml.Header + `<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>` + id + `</id>
    <version>` + version + `</version>
    <authors>cloudsmithtest</authors>
    <description>Demo package served by the Cloudsmith emulator</description>
  </metadata>
</package>
`
}

func buildNupkg(id, version string) ([]byte, error) {
	return zipFiles([]struct{ name, body string }{
		{id + ".nuspec", nuspec(id, version)},
		{"content/hello.txt", "Hello from Cloudsmith!\n"},
		{"[Content_Types].xml", xml.Header + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="nuspec" ContentType="application/octet" /><Default Extension="txt" ContentType="application/octet" /></Types>`},
	})
}

// nugetPackage stores a .nupkg under its id and normalised version, with
// the nuspec beside it as the flat container serves both.
func nugetPackage(id, version string, nupkg []byte) Package {
	lower := strings.ToLower(id) + "." + strings.ToLower(version)
	spec, _ := readNuspec(nupkg)
	return Package{
		Format: "nuget", Name: id, Version: version,
		Files: []File{
			{Name: lower + ".nupkg", ContentType: "application/octet-stream", Data: nupkg},
			{Name: strings.ToLower(id) + ".nuspec", ContentType: "application/xml", Data: spec},
		},
	}
}

// readNuspec returns the .nuspec at the root of a .nupkg.
func readNuspec(nupkg []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(nupkg), int64(len(nupkg)))
	if err != nil {
		return nil, fmt.Errorf("the package is not a zip: %w", err)
	}
	for _, f := range zr.File {
		if !strings.Contains(f.Name, "/") && strings.HasSuffix(strings.ToLower(f.Name), ".nuspec") {
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			return io.ReadAll(io.LimitReader(rc, 1<<20))
		}
	}
	return nil, fmt.Errorf("the package has no .nuspec at its root")
}

// serveNuGet serves the v3 resources under {org}/{repo}/.
func serveNuGet(_ *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError {
	base := baseURL(r) + q.base
	switch {
	case q.rest == "v3/index.json":
		var res []any
		add := func(id string, types ...string) {
			for _, t := range types {
				res = append(res, map[string]string{"@id": base + id, "@type": t})
			}
		}
		add("v3/flatcontainer/", "PackageBaseAddress/3.0.0")
		add("v3/registration/", "RegistrationsBaseUrl", "RegistrationsBaseUrl/3.0.0-rc", "RegistrationsBaseUrl/3.0.0-beta", "RegistrationsBaseUrl/3.6.0")
		add("v3/query", "SearchQueryService", "SearchQueryService/3.0.0-rc", "SearchQueryService/3.0.0-beta", "SearchQueryService/3.5.0")
		add("api/v2/package", "PackagePublish/2.0.0")
		writeJSON(w, http.StatusOK, map[string]any{"version": "3.0.0", "resources": res})
		return nil
	case strings.HasPrefix(q.rest, "v3/flatcontainer/"):
		parts := strings.Split(strings.TrimPrefix(q.rest, "v3/flatcontainer/"), "/")
		versions := nugetVersions(q.packages, parts[0])
		if len(versions) == 0 {
			return errNotFound
		}
		if len(parts) == 2 && parts[1] == "index.json" {
			var vs []string
			for _, p := range versions {
				vs = append(vs, strings.ToLower(p.Version))
			}
			writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
			return nil
		}
		if len(parts) == 3 {
			for _, p := range versions {
				if strings.ToLower(p.Version) == parts[1] {
					return serveFile(w, []*Package{p}, parts[2])
				}
			}
		}
		return errNotFound
	case strings.HasPrefix(q.rest, "v3/registration/"):
		parts := strings.Split(strings.TrimPrefix(q.rest, "v3/registration/"), "/")
		versions := nugetVersions(q.packages, parts[0])
		if len(versions) == 0 || len(parts) != 2 || parts[1] != "index.json" {
			return errNotFound
		}
		reg := base + "v3/registration/" + parts[0] + "/"
		var items []any
		for _, p := range versions {
			v := strings.ToLower(p.Version)
			items = append(items, map[string]any{
				"@id": reg + v + ".json",
				"catalogEntry": map[string]any{
					"@id": reg + v + ".json", "id": p.Name, "version": p.Version, "listed": true,
					"description": "Demo package served by the Cloudsmith emulator", "dependencyGroups": []any{},
				},
				"packageContent": base + "v3/flatcontainer/" + parts[0] + "/" + v + "/" + parts[0] + "." + v + ".nupkg",
			})
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": 1, "items": []any{map[string]any{
			"@id": reg + "index.json#page", "count": len(items), "items": items,
			"lower": versions[0].Version, "upper": versions[len(versions)-1].Version,
		}}})
		return nil
	case q.rest == "v3/query":
		term := strings.ToLower(r.URL.Query().Get("q"))
		var data []any
		seen := map[string]bool{}
		for _, p := range q.packages {
			id := strings.ToLower(p.Name)
			if seen[id] || !strings.Contains(id, term) {
				continue
			}
			seen[id] = true
			var vs []any
			latest := ""
			for _, v := range nugetVersions(q.packages, id) {
				vs = append(vs, map[string]any{"version": v.Version, "downloads": 0, "@id": base + "v3/registration/" + id + "/" + strings.ToLower(v.Version) + ".json"})
				latest = v.Version
			}
			data = append(data, map[string]any{"@id": base + "v3/registration/" + id + "/index.json", "id": p.Name, "version": latest, "versions": vs, "registration": base + "v3/registration/" + id + "/index.json"})
		}
		writeJSON(w, http.StatusOK, map[string]any{"totalHits": len(data), "data": data})
		return nil
	}
	return errNotFound
}

func nugetVersions(packages []*Package, lowerID string) []*Package {
	var out []*Package
	for _, p := range packages {
		if strings.ToLower(p.Name) == lowerID {
			out = append(out, p)
		}
	}
	return out
}

// uploadNuGet is the push endpoint: PUT api/v2/package with the .nupkg as
// a multipart/form-data file, authenticated by X-NuGet-ApiKey (or the
// source's Basic credentials). 201 Created; 409 when the version exists.
func uploadNuGet(c *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError {
	if q.rest != "api/v2/package" {
		return errNotFound
	}
	if r.Method != http.MethodPut {
		return errMethodNotAllowed(r, http.MethodPut)
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return &httpError{Status: http.StatusBadRequest, Detail: "the package must be sent as multipart/form-data"}
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, 64<<20), params["boundary"])
	part, err := mr.NextPart()
	if err != nil {
		return &httpError{Status: http.StatusBadRequest, Detail: "no package in the request"}
	}
	nupkg, err := io.ReadAll(part)
	if err != nil {
		return &httpError{Status: http.StatusBadRequest, Detail: "reading the package: " + err.Error()}
	}
	spec, err := readNuspec(nupkg)
	if err != nil {
		return &httpError{Status: http.StatusBadRequest, Detail: err.Error()}
	}
	var m struct {
		ID      string `xml:"metadata>id"`
		Version string `xml:"metadata>version"`
	}
	if err := xml.Unmarshal(spec, &m); err != nil || m.ID == "" || m.Version == "" {
		return &httpError{Status: http.StatusBadRequest, Detail: "the .nuspec has no id or version"}
	}
	version, ok := normalizeNuGetVersion(m.Version)
	if !ok {
		return &httpError{Status: http.StatusBadRequest, Detail: "the .nuspec's version " + quote(m.Version) + " is not a valid NuGet version"}
	}
	m.Version = version
	c.mu.Lock()
	defer c.mu.Unlock()
	rp, err := c.lookupRepo(q.org, q.repo)
	if err != nil {
		return errNotFound
	}
	for _, p := range rp.ofFormat("nuget") {
		if strings.EqualFold(p.Name, m.ID) && strings.EqualFold(p.Version, m.Version) {
			return &httpError{Status: http.StatusConflict, Detail: "package " + m.ID + " " + m.Version + " already exists"}
		}
	}
	p := nugetPackage(m.ID, m.Version, nupkg)
	p.UploadedAt = c.now().UTC()
	if err := rp.add(p); err != nil {
		return &httpError{Status: http.StatusConflict, Detail: err.Error()}
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// normalizeNuGetVersion is NuGet's normalised version string, under which
// feeds store, compare and serve a version: build metadata dropped, at
// least three numeric parts without leading zeros, a fourth only when it
// is not zero, the prerelease label kept.
func normalizeNuGetVersion(v string) (string, bool) {
	v, _, _ = strings.Cut(strings.TrimSpace(v), "+")
	release, pre, hasPre := strings.Cut(v, "-")
	parts := strings.Split(release, ".")
	if len(parts) > 4 || hasPre && pre == "" {
		return "", false
	}
	nums := make([]string, 0, 4)
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 31)
		if err != nil {
			return "", false
		}
		nums = append(nums, strconv.FormatUint(n, 10))
	}
	for len(nums) < 3 {
		nums = append(nums, "0")
	}
	if len(nums) == 4 && nums[3] == "0" {
		nums = nums[:3]
	}
	out := strings.Join(nums, ".")
	if hasPre {
		out += "-" + pre
	}
	return out, true
}

// nugetAPIKey reads X-NuGet-ApiKey, where NuGet clients push the API
// key, as Cloudsmith's X-Api-Key.
func nugetAPIKey(r *http.Request) {
	if k := r.Header.Get("X-NuGet-ApiKey"); k != "" && r.Header.Get("X-Api-Key") == "" && r.Header.Get("Authorization") == "" {
		r.Header.Set("X-Api-Key", k)
	}
}

// NuGetSourceURL is the v3 service index of the seeded repository.
func (s *Server) NuGetSourceURL() string {
	return s.URLs[HostNuGet] + "/" + s.Org + "/" + s.Repo + "/v3/index.json"
}
