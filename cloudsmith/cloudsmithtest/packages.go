package cloudsmithtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
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

var pep503Junk = regexp.MustCompile(`[-_.]+`)

// normalizeProject is PEP 503 name normalisation.
func normalizeProject(name string) string {
	return strings.ToLower(pep503Junk.ReplaceAllString(name, "-"))
}

const simpleHead = "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.0\">\n"

// servePython serves the PEP 503 simple index under python/simple/ and the
// files under python/files/.
func servePython(_ *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError {
	sub := q.rest
	switch {
	case sub == "simple":
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	case sub == "simple/":
		var links strings.Builder
		seen := map[string]bool{}
		for _, p := range q.packages {
			n := normalizeProject(p.Name)
			if !seen[n] {
				seen[n] = true
				fmt.Fprintf(&links, "    <a href=\"%s/\">%s</a>\n", html.EscapeString(n), html.EscapeString(n))
			}
		}
		writeHTML(w, simpleHead+"    <title>Simple index</title>\n  </head>\n  <body>\n"+links.String()+"  </body>\n</html>\n")
	case strings.HasPrefix(sub, "simple/"):
		name := strings.Trim(strings.TrimPrefix(sub, "simple/"), "/")
		if strings.Contains(name, "/") {
			return errNotFound
		}
		norm := normalizeProject(name)
		var links strings.Builder
		for _, p := range q.packages {
			if normalizeProject(p.Name) != norm {
				continue
			}
			req := ""
			if rp, ok := p.Metadata["requires_python"].(string); ok && rp != "" {
				req = " data-requires-python=\"" + html.EscapeString(rp) + "\""
			}
			for _, f := range p.Files {
				sum := sha256.Sum256(f.Data)
				fmt.Fprintf(&links, "    <a href=\"../../files/%s#sha256=%s\"%s>%s</a><br/>\n",
					html.EscapeString(f.Name), hex.EncodeToString(sum[:]), req, html.EscapeString(f.Name))
			}
		}
		if links.Len() == 0 {
			return errNotFound
		}
		if name != norm || !strings.HasSuffix(sub, "/") {
			// PyPI redirects to the normalised, slash-terminated URL.
			base := strings.TrimSuffix(r.URL.Path, sub)
			http.Redirect(w, r, base+"simple/"+norm+"/", http.StatusMovedPermanently)
			return nil
		}
		writeHTML(w, fmt.Sprintf(simpleHead+"    <title>Links for %s</title>\n  </head>\n  <body>\n    <h1>Links for %s</h1>\n%s  </body>\n</html>\n",
			html.EscapeString(norm), html.EscapeString(norm), links.String()))
	case strings.HasPrefix(sub, "files/"):
		return serveFile(w, q.packages, strings.TrimPrefix(sub, "files/"))
	default:
		return errNotFound
	}
	return nil
}

// serveFile serves the file called name of any of packages.
func serveFile(w http.ResponseWriter, packages []*Package, name string) *httpError {
	for _, p := range packages {
		if f := p.file(name); f != nil {
			writeBlob(w, f.ContentType, f.Data)
			return nil
		}
	}
	return errNotFound
}

// serveRaw serves Cloudsmith's four raw URL shapes (raw-repository.mdx):
// files/{file}, versions/{version}/{file}, names/{name}/files/{file} and
// names/{name}/versions/{version}/{file}; "latest" as a version is the
// newest upload. Where several packages match, the newest upload wins.
func serveRaw(_ *Cloudsmith, w http.ResponseWriter, _ *http.Request, q *pkgRequest) *httpError {
	parts := strings.Split(q.rest, "/")
	name, version := "", ""
	if len(parts) >= 3 && parts[0] == "names" {
		name, parts = parts[1], parts[2:]
	}
	switch {
	case len(parts) == 2 && parts[0] == "files":
	case len(parts) == 3 && parts[0] == "versions":
		version = parts[1]
	default:
		return errNotFound
	}
	file := parts[len(parts)-1]
	for i := len(q.packages) - 1; i >= 0; i-- {
		p := q.packages[i]
		if name != "" && p.Name != name || version != "" && version != "latest" && p.Version != version {
			continue
		}
		if f := p.file(file); f != nil {
			writeBlob(w, f.ContentType, f.Data)
			return nil
		}
	}
	return errNotFound
}

// serveNPM serves packuments, version documents and tarballs under the
// registry path q.base.
func serveNPM(_ *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError {
	name, rest := q.rest, ""
	if strings.HasPrefix(name, "@") {
		// Scoped: @scope/name (npm sends the slash encoded, Go decodes it).
		scope, after, _ := strings.Cut(name, "/")
		n, tail, _ := strings.Cut(after, "/")
		name, rest = scope+"/"+n, tail
	} else {
		name, rest, _ = strings.Cut(name, "/")
	}
	var versions []*Package
	for _, p := range q.packages {
		if p.Name == name {
			versions = append(versions, p)
		}
	}
	if len(versions) == 0 {
		return errNotFound
	}
	tags := npmDistTags(versions)
	latest := versions[len(versions)-1]
	for _, p := range versions {
		if v, ok := tags["latest"]; ok && p.Version == v {
			latest = p
		}
	}
	doc := func(p *Package) map[string]any {
		return npmVersionDoc(baseURL(r)+q.base, p)
	}
	switch {
	case rest == "":
		docs := map[string]any{}
		times := map[string]string{}
		created, modified := versions[0].UploadedAt, versions[len(versions)-1].UploadedAt
		for _, p := range versions {
			docs[p.Version] = doc(p)
			times[p.Version] = p.UploadedAt.UTC().Format(time.RFC3339)
		}
		times["created"] = created.UTC().Format(time.RFC3339)
		times["modified"] = modified.UTC().Format(time.RFC3339)
		writeJSON(w, http.StatusOK, map[string]any{
			"_id":       name,
			"name":      name,
			"dist-tags": tags,
			"versions":  docs,
			"time":      times,
			"modified":  modified.UTC().Format(time.RFC3339),
		})
	case rest == "latest":
		writeJSON(w, http.StatusOK, doc(latest))
	case strings.HasPrefix(rest, "-/"):
		return serveFile(w, versions, strings.TrimPrefix(rest, "-/"))
	default:
		for _, p := range versions {
			if p.Version == rest {
				writeJSON(w, http.StatusOK, doc(p))
				return nil
			}
		}
		return errNotFound
	}
	return nil
}

// npmVersionDoc is a version document: the package's package.json fields
// and dist with the tarball's URL, sha1 shasum and sha512 integrity.
func npmVersionDoc(registry string, p *Package) map[string]any {
	v := map[string]any{}
	for k, val := range p.Metadata {
		if k != npmTagsKey {
			v[k] = val
		}
	}
	v["name"], v["version"], v["_id"] = p.Name, p.Version, p.Name+"@"+p.Version
	if len(p.Files) > 0 {
		tgz := p.Files[0]
		s1 := sha1.Sum(tgz.Data)
		s512 := sha512.Sum512(tgz.Data)
		v["dist"] = map[string]any{
			"tarball":   registry + p.Name + "/-/" + tgz.Name,
			"shasum":    hex.EncodeToString(s1[:]),
			"integrity": "sha512-" + base64.StdEncoding.EncodeToString(s512[:]),
		}
	}
	return v
}

// serveGoProxy implements the GOPROXY protocol.
func serveGoProxy(_ *Cloudsmith, w http.ResponseWriter, _ *http.Request, q *pkgRequest) *httpError {
	escaped, rest, ok := strings.Cut(q.rest, "/@")
	mod, valid := unescapeGoPath(escaped)
	if !valid {
		return &httpError{Status: http.StatusBadRequest, Detail: "bad request: invalid escaped module path " + quote(escaped)}
	}
	if v, isFile := strings.CutPrefix(rest, "v/"); isFile && v != "list" {
		if v, valid = unescapeGoPath(v); !valid {
			return &httpError{Status: http.StatusBadRequest, Detail: "bad request: invalid escaped version"}
		}
		rest = "v/" + v
	}
	var versions []*Package
	for _, p := range q.packages {
		if p.Name == mod {
			versions = append(versions, p)
		}
	}
	if !ok || len(versions) == 0 {
		return &httpError{Status: http.StatusNotFound, Detail: "not found: " + q.rest}
	}
	latest := versions[len(versions)-1]
	switch {
	case rest == "v/list":
		var list strings.Builder
		for _, p := range versions {
			list.WriteString(p.Version + "\n")
		}
		writeBlob(w, "text/plain; charset=utf-8", []byte(list.String()))
		return nil
	case rest == "latest":
		return serveFile(w, []*Package{latest}, latest.Version+".info")
	case strings.HasPrefix(rest, "v/"):
		file := strings.TrimPrefix(rest, "v/")
		for _, p := range versions {
			if p.file(file) != nil {
				return serveFile(w, []*Package{p}, file)
			}
		}
	}
	return &httpError{Status: http.StatusNotFound, Detail: "not found: " + mod + "@" + rest + ": unknown revision"}
}

// unescapeGoPath undoes the GOPROXY protocol's case encoding ("!a" for
// "A"); a capital or a "!" not before a lower-case letter is invalid, as
// in golang.org/x/mod/module UnescapePath.
func unescapeGoPath(s string) (string, bool) {
	var b strings.Builder
	bang := false
	for _, r := range s {
		switch {
		case bang && 'a' <= r && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
			bang = false
		case bang || 'A' <= r && r <= 'Z':
			return "", false
		case r == '!':
			bang = true
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), !bang
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
