package cloudsmithtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
)

// npmPublish is the document `npm publish` PUTs to {registry}/{name}
// (npm's libnpmpublish): the package's manifest for one version and the
// tarball as a base64 attachment.
type npmPublish struct {
	Name        string                    `json:"name"`
	DistTags    map[string]string         `json:"dist-tags"`
	Versions    map[string]map[string]any `json:"versions"`
	Attachments map[string]npmAttachment  `json:"_attachments"`
}

type npmAttachment struct {
	ContentType string `json:"content_type"`
	Data        string `json:"data"`
	Length      int    `json:"length"`
}

// uploadNPM takes `npm publish`: one new version with its tarball. The
// name must match the URL, the tarball must match the shasum and
// integrity npm computed and hold the package.json it describes, and a
// version that exists already is refused (409; a registry never lets a
// version be published over).
func uploadNPM(c *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError {
	if r.Method != http.MethodPut {
		return errMethodNotAllowed(r, http.MethodGet, http.MethodHead, http.MethodPut)
	}
	name := q.rest
	if !npmNameRE.MatchString(name) {
		return &httpError{Status: http.StatusBadRequest, Detail: "publish to {registry}/{package name} (name or @scope/name)"}
	}
	var doc npmPublish
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpload*2))
	if err != nil {
		return &httpError{Status: http.StatusRequestEntityTooLarge, Detail: "the publish document is too large"}
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return &httpError{Status: http.StatusBadRequest, Detail: "invalid publish document: " + err.Error()}
	}
	if doc.Name != name {
		return &httpError{Status: http.StatusBadRequest, Detail: "the package name " + quote(doc.Name) + " does not match the URL's " + quote(name)}
	}
	if len(doc.Versions) != 1 || len(doc.Attachments) != 1 {
		return &httpError{Status: http.StatusBadRequest, Detail: "publish exactly one version with its tarball"}
	}
	var version string
	var manifest map[string]any
	for v, m := range doc.Versions {
		version, manifest = v, m
	}
	var att npmAttachment
	var attName string
	for n, a := range doc.Attachments {
		attName, att = n, a
	}
	tgz, err := base64.StdEncoding.DecodeString(att.Data)
	if err != nil || len(tgz) != att.Length {
		return &httpError{Status: http.StatusBadRequest, Detail: "the tarball attachment is not base64 of its length"}
	}
	dist, _ := manifest["dist"].(map[string]any)
	s1, s512 := sha1.Sum(tgz), sha512.Sum512(tgz)
	if sum, _ := dist["shasum"].(string); sum != hex.EncodeToString(s1[:]) {
		return &httpError{Status: http.StatusBadRequest, Detail: "dist.shasum does not match the tarball"}
	}
	if in, ok := dist["integrity"].(string); ok && in != "sha512-"+base64.StdEncoding.EncodeToString(s512[:]) {
		return &httpError{Status: http.StatusBadRequest, Detail: "dist.integrity does not match the tarball"}
	}
	if pn, pv, err := npmTarballIdentity(tgz); err != nil || pn != name || pv != version {
		return &httpError{Status: http.StatusBadRequest, Detail: "the tarball's package.json does not describe " + name + "@" + version}
	}
	meta := map[string]any{}
	for k, v := range manifest {
		switch k {
		case "dist", "_id", "name", "version", "_nodeVersion", "_npmVersion", "_npmUser", "readme":
		default:
			meta[k] = v
		}
	}
	// The tags npm publish moves to this version (latest, or --tag's).
	tags := []string{}
	for tag, v := range doc.DistTags {
		if v != version {
			return &httpError{Status: http.StatusBadRequest, Detail: "dist-tag " + quote(tag) + " names " + quote(v) + ", not the published " + version}
		}
		tags = append(tags, tag)
	}
	if len(tags) == 0 {
		tags = append(tags, "latest")
	}
	sort.Strings(tags)
	meta[npmTagsKey] = tags
	file := File{Name: path.Base(attName), ContentType: "application/octet-stream", Data: tgz}
	p := Package{Format: "npm", Name: name, Version: version, Files: []File{file}, Metadata: meta}
	if herr := c.storeUpload(q.org, q.repo, p, uploadNew); herr != nil {
		return herr
	}
	writeJSON(w, http.StatusCreated, map[string]any{"ok": "created new package", "success": true})
	return nil
}

// npmNameRE is a package name as a publish URL carries it: name or
// @scope/name, one path segment each.
var npmNameRE = regexp.MustCompile(`^(@[^/@]+/)?[^/@]+$`)

// npmTarballIdentity reads name and version from package/package.json in
// an npm tarball.
func npmTarballIdentity(tgz []byte) (name, version string, err error) {
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return "", "", err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return "", "", err
		}
		// npm pack prefixes every entry with "package/"; some tools use
		// another single directory.
		if _, rest, ok := strings.Cut(h.Name, "/"); !ok || rest != "package.json" {
			continue
		}
		var pj struct{ Name, Version string }
		if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&pj); err != nil {
			return "", "", err
		}
		if pj.Name == "" || pj.Version == "" {
			return "", "", errors.New("package.json lacks name or version")
		}
		return pj.Name, pj.Version, nil
	}
}

// npmTagsKey is the Metadata key of the dist-tags a published version
// took; it is not part of the version document.
const npmTagsKey = "_distTags"

// npmDistTags are a package's dist-tags: each tag names the last version
// published with it; a version stored without tags (seeded) takes latest.
func npmDistTags(versions []*Package) map[string]string {
	tags := map[string]string{}
	for _, p := range versions {
		list, ok := p.Metadata[npmTagsKey].([]string)
		if !ok {
			list = []string{"latest"}
		}
		for _, t := range list {
			tags[t] = p.Version
		}
	}
	return tags
}
