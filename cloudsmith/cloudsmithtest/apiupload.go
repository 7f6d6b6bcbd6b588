package cloudsmithtest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// Uploads through the API, as `cloudsmith push FORMAT OWNER/REPO FILE`
// does them (cloudsmith-cli core/api/files.py and packages.py; OpenAPI
// files_create, packages_upload_*):
//
//  1. POST /files/{owner}/{repo}/ {"filename", "md5_checksum"} → 202
//     {identifier, upload_url, upload_fields, upload_headers};
//  2. the file goes to upload_url, a pre-signed storage URL needing no
//     Cloudsmith credential: a multipart POST with upload_fields and
//     "file" (method "post", the default), or a PUT of the bytes
//     (method "put"); the emulator serves it on the API host under
//     /_upload/{identifier}/;
//  3. POST /packages/{owner}/{repo}/upload/{format}/ {"package_file":
//     identifier, ...} → 201 with the package, which the format's host
//     then serves.
//
// Steps 1 and 3 need Write on the repository. An identifier is used once.

// pendingUpload is a requested file upload.
type pendingUpload struct {
	org, repo, filename string
	md5, sha256         string
	method              string
	data                []byte
	received            bool
}

// apiUploadFormats are the formats the emulator accepts through
// packages/upload/{format}/, with how a file becomes a package.
var apiUploadFormats = map[string]func(up *pendingUpload, obj map[string]json.RawMessage) (Package, *httpError){
	"raw":  rawFromUpload,
	"helm": helmFromUpload,
}

// serveFilesCreate answers POST /files/{owner}/{repo}/.
func (c *Cloudsmith) serveFilesCreate(w http.ResponseWriter, r *http.Request, org, repo string) {
	obj, ok := c.uploadCall(w, r, org, repo)
	if !ok {
		return
	}
	fe := fieldErrors{}
	name, _, _ := stringField(obj, fe, "filename", true, false, 255)
	if strings.ContainsAny(name, "/\\") {
		fe.add("filename", "Enter a file name, not a path.")
	}
	sum, _, _ := stringField(obj, fe, "md5_checksum", false, false, 32)
	s256, _, _ := stringField(obj, fe, "sha256_checksum", false, false, 64)
	method, present, _ := stringField(obj, fe, "method", false, false, 0)
	if !present {
		method = "post"
	}
	if method != "post" && method != "put" {
		fe.add("method", quote(method)+" is not a method the emulator offers (post, put).")
	}
	if len(fe) > 0 {
		writeFieldErrors(w, fe)
		return
	}
	id := randomHex(16)
	c.mu.Lock()
	if c.uploads == nil {
		c.uploads = map[string]*pendingUpload{}
	}
	c.uploads[id] = &pendingUpload{org: org, repo: repo, filename: name, md5: strings.ToLower(sum), sha256: strings.ToLower(s256), method: method}
	c.mu.Unlock()
	resp := map[string]any{"identifier": id, "upload_url": baseURL(r) + "/_upload/" + id + "/", "upload_querystring": nil}
	if method == "post" {
		resp["upload_fields"] = map[string]string{"key": id}
		resp["upload_headers"] = nil
	} else {
		resp["upload_fields"] = nil
		resp["upload_headers"] = map[string]string{"Content-Type": "application/octet-stream"}
	}
	writeJSON(w, http.StatusAccepted, resp)
}

// serveUploadTarget receives a file at its pre-signed upload URL.
func (c *Cloudsmith) serveUploadTarget(w http.ResponseWriter, r *http.Request, id string) {
	c.mu.Lock()
	up := c.uploads[id]
	c.mu.Unlock()
	if up == nil {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	want := http.MethodPost
	if up.method == "put" {
		want = http.MethodPut
	}
	if r.Method != want {
		methodNotAllowed(w, r, want)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	var data []byte
	if want == http.MethodPut {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			writeDetail(w, http.StatusBadRequest, "reading the upload: "+err.Error())
			return
		}
		data = b
	} else {
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			writeDetail(w, http.StatusBadRequest, "expected multipart/form-data with the upload fields and file")
			return
		}
		defer r.MultipartForm.RemoveAll()
		if r.FormValue("key") != id {
			writeDetail(w, http.StatusForbidden, "the upload fields do not match this upload")
			return
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			writeDetail(w, http.StatusBadRequest, "no file in the upload")
			return
		}
		defer f.Close()
		if data, err = io.ReadAll(f); err != nil {
			writeDetail(w, http.StatusBadRequest, "reading the upload: "+err.Error())
			return
		}
	}
	m5, s256 := md5.Sum(data), sha256.Sum256(data)
	if up.md5 != "" && up.md5 != hex.EncodeToString(m5[:]) || up.sha256 != "" && up.sha256 != hex.EncodeToString(s256[:]) {
		writeDetail(w, http.StatusBadRequest, "the file does not match the checksum given when the upload was requested")
		return
	}
	c.mu.Lock()
	up.data, up.received = data, true
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// servePackageUpload answers POST /packages/{owner}/{repo}/upload/{format}/.
func (c *Cloudsmith) servePackageUpload(w http.ResponseWriter, r *http.Request, org, repo, format string) {
	build, ok := apiUploadFormats[format]
	if !ok {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	obj, ok := c.uploadCall(w, r, org, repo)
	if !ok {
		return
	}
	fe := fieldErrors{}
	id, _, _ := stringField(obj, fe, "package_file", true, false, 0)
	var republish bool
	if raw, present := obj["republish"]; present && json.Unmarshal(raw, &republish) != nil {
		fe.add("republish", "Must be a valid boolean.")
	}
	c.mu.Lock()
	up := c.uploads[id]
	c.mu.Unlock()
	if id != "" && (up == nil || up.org != org || up.repo != repo || !up.received) {
		fe.add("package_file", "No uploaded file with this identifier.")
	}
	if len(fe) > 0 {
		writeFieldErrors(w, fe)
		return
	}
	p, herr := build(up, obj)
	if herr != nil {
		writeError(w, apiErrors, herr)
		return
	}
	mode := uploadNew
	if republish {
		mode = uploadReplace
	}
	if herr := c.storeUpload(org, repo, p, mode); herr != nil {
		if herr.Status == http.StatusConflict {
			// The API answers a duplicate as a bad request (its OpenAPI
			// lists 400, not 409).
			herr = &httpError{Status: http.StatusBadRequest, Detail: herr.Detail + "; set republish to replace it"}
		}
		writeError(w, apiErrors, herr)
		return
	}
	c.mu.Lock()
	delete(c.uploads, id)
	c.mu.Unlock()
	slug := randomString(12, lowerAlnum)
	writeJSON(w, http.StatusCreated, map[string]any{
		"slug": slug, "slug_perm": slug, "format": p.Format, "name": p.Name, "version": p.Version,
		"filename": p.Files[0].Name, "namespace": org, "repository": repo,
		"status_str": "Completed", "stage_str": "Fully Synchronised", "is_sync_completed": true, "is_sync_failed": false,
		"self_url": baseURL(r) + "/v1/packages/" + org + "/" + repo + "/" + slug + "/",
	})
}

// uploadCall checks an upload call is a POST by a caller who may write
// to the repository, and reads its JSON body, answering as the API does
// when not (ok false).
func (c *Cloudsmith) uploadCall(w http.ResponseWriter, r *http.Request, org, repo string) (obj map[string]json.RawMessage, ok bool) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return nil, false
	}
	p := c.requireAuth(w, r)
	if p == nil {
		return nil, false
	}
	if !p.inOrg(org) {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return nil, false
	}
	if _, herr := c.repoRequest(r, p, org, repo, PrivilegeWrite, nil); herr != nil {
		writeError(w, apiErrors, herr)
		return nil, false
	}
	return decodeObject(w, r)
}

// rawFromUpload makes a raw package: name and version as given (the
// file name and none when absent), the file as uploaded.
func rawFromUpload(up *pendingUpload, obj map[string]json.RawMessage) (Package, *httpError) {
	fe := fieldErrors{}
	name, _, _ := stringField(obj, fe, "name", false, true, 200)
	version, _, _ := stringField(obj, fe, "version", false, true, 255)
	ctype, _, _ := stringField(obj, fe, "content_type", false, true, 64)
	if len(fe) > 0 {
		return Package{}, &httpError{Status: http.StatusUnprocessableEntity, Detail: msgInvalidInput, Fields: fe}
	}
	if name == "" {
		name = up.filename
	}
	if ctype == "" {
		ctype = "application/octet-stream"
		if strings.HasSuffix(up.filename, ".txt") {
			ctype = "text/plain; charset=utf-8"
		}
	}
	return Package{Format: "raw", Name: name, Version: version, Files: []File{{Name: up.filename, ContentType: ctype, Data: up.data}}}, nil
}

// helmFromUpload makes a Helm package from the chart's own Chart.yaml.
func helmFromUpload(up *pendingUpload, _ map[string]json.RawMessage) (Package, *httpError) {
	p, err := helmPackage(up.data)
	if err != nil {
		return Package{}, &httpError{Status: http.StatusBadRequest, Detail: "not a Helm chart: " + err.Error()}
	}
	return p, nil
}
