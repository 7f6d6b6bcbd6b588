package cloudsmithtest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
)

// HostPython is python.cloudsmith.io, Cloudsmith's native Python upload
// endpoint (https://python.cloudsmith.io/OWNER/REPOSITORY/, what twine
// and uv publish to). Installs come from the download host.
const HostPython Host = "python"

// maxUpload bounds an upload's body, as Cloudsmith's native endpoints
// limit a package file (npm: 100 MiB).
const maxUpload = 100 << 20

// uploadPython takes the legacy PyPI upload API twine speaks: a
// multipart/form-data POST to the repository root with ":action" =
// "file_upload", the metadata fields and the file in "content"
// (warehouse's legacy upload, which twine's repository.py posts). As
// warehouse does, it wants protocol_version 1 (or none), a
// metadata_version, at least one digest (those it can compute are
// checked) and a filetype of sdist or bdist_wheel that the extension
// agrees with; the file name must belong to the named project and
// version, and a file that exists already is refused (409, twine's
// --skip-existing recognises it).
func uploadPython(c *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError {
	if r.Method != http.MethodPost {
		return errMethodNotAllowed(r, http.MethodPost)
	}
	if q.rest != "" {
		return errNotFound
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		return &httpError{Status: http.StatusBadRequest, Detail: "Invalid upload: expected multipart/form-data (" + err.Error() + ")"}
	}
	defer r.MultipartForm.RemoveAll()
	form := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
	if a := form(":action"); a != "file_upload" {
		return &httpError{Status: http.StatusBadRequest, Detail: "Invalid upload: unknown :action " + quote(a)}
	}
	if pv := r.FormValue("protocol_version"); pv != "" && pv != "1" {
		return &httpError{Status: http.StatusBadRequest, Detail: "Unknown protocol version."}
	}
	name, version := form("name"), form("version")
	if name == "" || version == "" {
		return &httpError{Status: http.StatusBadRequest, Detail: "Invalid upload: name and version are required"}
	}
	if form("metadata_version") == "" {
		return &httpError{Status: http.StatusBadRequest, Detail: "Invalid upload: metadata_version is required"}
	}
	if form("md5_digest") == "" && form("sha256_digest") == "" && form("blake2_256_digest") == "" {
		return &httpError{Status: http.StatusBadRequest, Detail: "Include at least one message digest."}
	}
	filetype := form("filetype")
	if filetype != "sdist" && filetype != "bdist_wheel" {
		return &httpError{Status: http.StatusBadRequest, Detail: "Invalid value for filetype. Error: Use a known file type."}
	}
	fh, hdr, err := r.FormFile("content")
	if err != nil {
		return &httpError{Status: http.StatusBadRequest, Detail: "Invalid upload: no file in content"}
	}
	defer fh.Close()
	data, err := io.ReadAll(fh)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &httpError{Status: http.StatusRequestEntityTooLarge, Detail: "The package file is too large."}
		}
		return &httpError{Status: http.StatusBadRequest, Detail: "reading the upload: " + err.Error()}
	}
	file := hdr.Filename
	if strings.HasSuffix(file, ".whl") != (filetype == "bdist_wheel") {
		return &httpError{Status: http.StatusBadRequest, Detail: "Invalid file extension: " + quote(file) + " is not a " + filetype}
	}
	if !pythonFileOf(file, name, version) {
		return &httpError{Status: http.StatusBadRequest, Detail: "Invalid upload: " + quote(file) + " is not a distribution of " + name + " " + version}
	}
	s256, m5 := sha256.Sum256(data), md5.Sum(data)
	if d := form("sha256_digest"); d != "" && !strings.EqualFold(d, hex.EncodeToString(s256[:])) {
		return &httpError{Status: http.StatusBadRequest, Detail: "Invalid upload: sha256_digest does not match the file"}
	}
	if d := form("md5_digest"); d != "" && !strings.EqualFold(d, hex.EncodeToString(m5[:])) {
		return &httpError{Status: http.StatusBadRequest, Detail: "Invalid upload: md5_digest does not match the file"}
	}
	f := File{Name: file, ContentType: "application/octet-stream", Data: data}
	if strings.HasSuffix(file, ".whl") {
		f.ContentType = "application/zip"
	}
	p := Package{Format: "python", Name: name, Version: version, Files: []File{f}}
	if rp := form("requires_python"); rp != "" {
		p.Metadata = map[string]any{"requires_python": rp}
	}
	if herr := c.storeUpload(q.org, q.repo, p, uploadAddFiles); herr != nil {
		return herr
	}
	writeHTML(w, "OK\n")
	return nil
}

// pythonFileOf reports whether file is a wheel or sdist of the project
// and version (names compared PEP 503-normalised; wheels spell '-' as '_').
func pythonFileOf(file, name, version string) bool {
	norm := normalizeProject(name)
	for _, ext := range []string{".tar.gz", ".zip"} {
		if base, ok := strings.CutSuffix(file, ext); ok {
			return normalizeProject(strings.TrimSuffix(base, "-"+version)) == norm && strings.HasSuffix(base, "-"+version)
		}
	}
	base, ok := strings.CutSuffix(file, ".whl")
	parts := strings.Split(base, "-")
	return ok && len(parts) >= 5 && normalizeProject(parts[0]) == norm && parts[1] == version
}
