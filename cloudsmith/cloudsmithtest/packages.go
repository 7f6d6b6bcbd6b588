package cloudsmithtest

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// realm is sent in WWW-Authenticate on package hosts: pip, npm and go only
// send credentials (or ask for them) after a Basic challenge.
const realm = `Basic realm="Cloudsmith"`

// authorisePackages authorises a request for {org}/{repo} and reports
// whether it may proceed. Unauthenticated and bad credentials get 401 with a
// Basic challenge; a missing org or repo gets 404 only after
// authentication, so anonymous callers learn nothing.
func (c *Cloudsmith) authorisePackages(w http.ResponseWriter, r *http.Request, orgSlug, repo string) bool {
	p, present, reason := c.authenticate(r)
	if p != nil && !p.inOrg(orgSlug) {
		p, reason = nil, fmt.Sprintf("credential belongs to org %q, not %q", p.org, orgSlug)
	}
	if p == nil {
		noteFailure(r, reason)
		w.Header().Set("WWW-Authenticate", realm)
		detail := msgInvalidToken
		if !present {
			detail = msgNoCredentials
		}
		writeDetail(w, http.StatusUnauthorized, detail)
		return false
	}
	noteAuth(r, p.kind)
	c.mu.Lock()
	o, ok := c.orgs[orgSlug]
	ok = ok && o.hasRepo(repo)
	c.mu.Unlock()
	if !ok {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return false
	}
	return true
}

// serveDownload routes dl.cloudsmith.io's /basic/{org}/{repo}/{format}/...
// (Python, raw, and the legacy npm and go paths).
func (c *Cloudsmith) serveDownload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, http.MethodGet, http.MethodHead)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/basic/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 3 {
		http.NotFound(w, r)
		return
	}
	orgSlug, repo, format := parts[0], parts[1], parts[2]
	sub := ""
	if len(parts) == 4 {
		sub = parts[3]
	}
	if !c.authorisePackages(w, r, orgSlug, repo) {
		return
	}
	switch format {
	case "python":
		c.servePython(w, r, sub)
	case "raw":
		c.serveRaw(w, r, sub)
	case "npm":
		c.serveNPM(w, r, "/basic/"+orgSlug+"/"+repo+"/npm/", sub)
	case "go":
		c.serveGoProxy(w, r, sub)
	default:
		http.NotFound(w, r)
	}
}

// serveNPMHost serves npm.cloudsmith.io/{org}/{repo}/...
func (c *Cloudsmith) serveNPMHost(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, http.MethodGet, http.MethodHead)
		return
	}
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) < 2 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
		return
	}
	if !c.authorisePackages(w, r, parts[0], parts[1]) {
		return
	}
	sub := ""
	if len(parts) == 3 {
		sub = parts[2]
	}
	c.serveNPM(w, r, "/"+parts[0]+"/"+parts[1]+"/", sub)
}

// serveGoHost serves golang.cloudsmith.io/{org}/{repo}/... (Cloudsmith's
// documented GOPROXY), also accepting a /basic/ prefix.
func (c *Cloudsmith) serveGoHost(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, http.MethodGet, http.MethodHead)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	p = strings.TrimPrefix(p, "basic/")
	parts := strings.SplitN(p, "/", 3)
	if len(parts) < 3 {
		http.NotFound(w, r)
		return
	}
	if !c.authorisePackages(w, r, parts[0], parts[1]) {
		return
	}
	c.serveGoProxy(w, r, parts[2])
}

var pep503Junk = regexp.MustCompile(`[-_.]+`)

// normalizeProject is PEP 503 name normalisation.
func normalizeProject(name string) string {
	return strings.ToLower(pep503Junk.ReplaceAllString(name, "-"))
}

// servePython serves the PEP 503 simple index under python/simple/ and the
// files under python/files/.
func (c *Cloudsmith) servePython(w http.ResponseWriter, r *http.Request, sub string) {
	switch {
	case sub == "simple":
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	case sub == "simple/":
		writeHTML(w, fmt.Sprintf("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.0\">\n    <title>Simple index</title>\n  </head>\n  <body>\n    <a href=\"%s/\">%s</a>\n  </body>\n</html>\n",
			DemoPythonProject, DemoPythonProject))
	case strings.HasPrefix(sub, "simple/"):
		name := strings.Trim(strings.TrimPrefix(sub, "simple/"), "/")
		if strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		norm := normalizeProject(name)
		if norm != DemoPythonProject {
			http.NotFound(w, r)
			return
		}
		if name != norm || !strings.HasSuffix(sub, "/") {
			// PyPI redirects to the normalised, slash-terminated URL.
			base := strings.TrimSuffix(r.URL.Path, sub)
			http.Redirect(w, r, base+"simple/"+norm+"/", http.StatusMovedPermanently)
			return
		}
		a := c.art
		writeHTML(w, fmt.Sprintf("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.0\">\n    <title>Links for %s</title>\n  </head>\n  <body>\n    <h1>Links for %s</h1>\n    <a href=\"../../files/%s#sha256=%s\" data-requires-python=\"%s\">%s</a><br/>\n  </body>\n</html>\n",
			DemoPythonProject, DemoPythonProject, a.wheelName, a.wheelSHA256, html.EscapeString(">=3.7"), a.wheelName))
	case sub == "files/"+c.art.wheelName:
		writeBlob(w, "application/zip", c.art.wheel)
	default:
		http.NotFound(w, r)
	}
}

// serveRaw serves raw/files/{file} and raw/names/{name}/versions/{version}/{file}.
func (c *Cloudsmith) serveRaw(w http.ResponseWriter, r *http.Request, sub string) {
	switch sub {
	case "files/" + DemoRawFile, "names/hello/versions/1.0.0/" + DemoRawFile:
		writeBlob(w, "text/plain; charset=utf-8", c.art.raw)
	default:
		http.NotFound(w, r)
	}
}

// serveNPM serves the packument, version documents and the tarball of the
// demo package; base is the registry path the client configured.
func (c *Cloudsmith) serveNPM(w http.ResponseWriter, r *http.Request, base, sub string) {
	a := c.art
	tarName := DemoNPMPackage + "-" + DemoNPMVersion + ".tgz"
	tarball := baseURL(r) + base + DemoNPMPackage + "/-/" + tarName
	version := map[string]any{
		"name":        DemoNPMPackage,
		"version":     DemoNPMVersion,
		"description": "Demo package served by the Cloudsmith emulator",
		"main":        "index.js",
		"license":     "Apache-2.0",
		"_id":         DemoNPMPackage + "@" + DemoNPMVersion,
		"dist": map[string]any{
			"tarball":   tarball,
			"shasum":    a.npmShasum,
			"integrity": a.npmIntegrity,
		},
	}
	switch sub {
	case DemoNPMPackage:
		stamp := buildTime.Format(time.RFC3339)
		writeJSON(w, http.StatusOK, map[string]any{
			"_id":       DemoNPMPackage,
			"name":      DemoNPMPackage,
			"dist-tags": map[string]string{"latest": DemoNPMVersion},
			"versions":  map[string]any{DemoNPMVersion: version},
			"time":      map[string]string{"created": stamp, "modified": stamp, DemoNPMVersion: stamp},
			"modified":  stamp,
		})
	case DemoNPMPackage + "/" + DemoNPMVersion, DemoNPMPackage + "/latest":
		writeJSON(w, http.StatusOK, version)
	case DemoNPMPackage + "/-/" + tarName:
		writeBlob(w, "application/octet-stream", a.npmTarball)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
	}
}

// serveGoProxy implements the GOPROXY protocol for the demo module.
func (c *Cloudsmith) serveGoProxy(w http.ResponseWriter, r *http.Request, sub string) {
	a := c.art
	mod, rest, ok := strings.Cut(sub, "/@")
	if !ok || mod != DemoGoModule {
		http.Error(w, "not found: "+sub, http.StatusNotFound)
		return
	}
	switch "@" + rest {
	case "@v/list":
		writeBlob(w, "text/plain; charset=utf-8", []byte(DemoGoVersion+"\n"))
	case "@latest", "@v/" + DemoGoVersion + ".info":
		writeBlob(w, "application/json", a.goInfo)
	case "@v/" + DemoGoVersion + ".mod":
		writeBlob(w, "text/plain; charset=utf-8", a.goMod)
	case "@v/" + DemoGoVersion + ".zip":
		writeBlob(w, "application/zip", a.goZip)
	default:
		http.Error(w, "not found: "+DemoGoModule+"@"+rest+": unknown revision", http.StatusNotFound)
	}
}

func writeHTML(w http.ResponseWriter, body string) {
	writeBlob(w, "text/html; charset=utf-8", []byte(body))
}

func writeBlob(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = bytes.NewReader(body).WriteTo(w)
}
