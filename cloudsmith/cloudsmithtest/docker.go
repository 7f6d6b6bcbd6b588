package cloudsmithtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HostDocker is docker.cloudsmith.io, a Docker Registry HTTP API v2 with
// the registry token flow.
const HostDocker Host = "docker"

// Demo image coordinates: {registry}/{org}/{repo}/hello-cloudsmith:1.0.0.
const (
	DemoDockerImage = "hello-cloudsmith"
	DemoDockerTag   = "1.0.0"
)

// Media types of the image manifests and blobs the registry accepts.
const (
	mediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mediaOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mediaDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mediaDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// registryTokenLifetime is how long a registry bearer token lasts
// (distribution's token server default is 5 minutes too).
const registryTokenLifetime = 5 * time.Minute

// registryState is what the registry keeps besides the package store:
// bearer tokens, blobs uploaded before their manifest, uploads in
// progress. Guarded by Cloudsmith.mu.
type registryState struct {
	tokens  map[string]*registryToken
	blobs   map[string][]byte // "org/repo" + "@" + digest
	uploads map[string]*blobUpload
}

type registryToken struct {
	who     *principal
	access  map[string][]string // repository name → granted actions
	expires time.Time
}

type blobUpload struct {
	name string
	data bytes.Buffer
}

func (c *Cloudsmith) registry() *registryState {
	if c.reg == nil {
		c.reg = &registryState{tokens: map[string]*registryToken{}, blobs: map[string][]byte{}, uploads: map[string]*blobUpload{}}
	}
	return c.reg
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// demoDocker builds hello-cloudsmith:1.0.0: one gzipped layer holding
// hello.txt, its image config and a schema 2 manifest. The blobs are files
// of the package, named by digest.
func demoDocker() ([]Package, error) {
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	body := "Hello from Cloudsmith!\n"
	if err := tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(body)), ModTime: buildTime, Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(tw, body); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	var layer bytes.Buffer
	gz := gzip.NewWriter(&layer)
	gz.ModTime = buildTime
	if _, err := gz.Write(tarBuf.Bytes()); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": buildTime.Format(time.RFC3339),
		"config": map[string]any{"Cmd": []string{"cat", "/hello.txt"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{digestOf(tarBuf.Bytes())}},
	})
	if err != nil {
		return nil, err
	}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": mediaDockerManifest,
		"config": map[string]any{"mediaType": mediaDockerConfig, "size": len(config), "digest": digestOf(config)},
		"layers": []any{map[string]any{"mediaType": mediaDockerLayer, "size": layer.Len(), "digest": digestOf(layer.Bytes())}},
	})
	if err != nil {
		return nil, err
	}
	return []Package{{
		Format: "docker", Name: DemoDockerImage, Version: DemoDockerTag,
		Files: []File{
			{Name: "manifest", ContentType: mediaDockerManifest, Data: manifest},
			{Name: digestOf(config), ContentType: mediaDockerConfig, Data: config},
			{Name: digestOf(layer.Bytes()), ContentType: mediaDockerLayer, Data: layer.Bytes()},
		},
		Metadata: map[string]any{"digest": digestOf(manifest)},
	}}, nil
}

// regError is an error in the registry's {"errors": [...]} shape.
type regError struct {
	status  int
	code    string
	message string
	// challenge is the scope a 401 asks for ("" for the /v2/ ping);
	// reason is the Bearer error parameter (insufficient_scope, invalid_token).
	challenge, reason string
	unauth            bool
}

func (c *Cloudsmith) writeRegError(w http.ResponseWriter, r *http.Request, e *regError) {
	if e.unauth {
		v := `Bearer realm="` + baseURL(r) + `/v2/token",service="` + r.Host + `"`
		if e.challenge != "" {
			v += `,scope="` + e.challenge + `"`
		}
		if e.reason != "" {
			v += `,error="` + e.reason + `"`
		}
		w.Header().Set("WWW-Authenticate", v)
	}
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if r.Method == http.MethodHead {
		w.WriteHeader(e.status)
		return
	}
	writeJSON(w, e.status, map[string]any{"errors": []any{map[string]any{"code": e.code, "message": e.message, "detail": nil}}})
}

// dockerHandler serves the registry host: the token endpoint, the /v2/
// ping and the repository endpoints, which accept only bearer tokens from
// the token endpoint, for the actions the token grants.
func dockerHandler(c *Cloudsmith) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/token" {
			c.serveRegistryToken(w, r)
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
		if !ok {
			c.writeRegError(w, r, &regError{status: http.StatusNotFound, code: "NOT_FOUND", message: "not found"})
			return
		}
		tok, reason := c.bearer(r)
		if rest == "" {
			if tok == nil {
				c.writeRegError(w, r, &regError{status: http.StatusUnauthorized, code: "UNAUTHORIZED", message: "authentication required", unauth: true, reason: reason})
				return
			}
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			writeJSON(w, http.StatusOK, map[string]any{})
			return
		}
		name, kind, ref, ok := splitRegistryPath(rest)
		if !ok {
			c.writeRegError(w, r, &regError{status: http.StatusNotFound, code: "NOT_FOUND", message: "not found"})
			return
		}
		if !validImageName(name) {
			c.writeRegError(w, r, &regError{status: http.StatusBadRequest, code: "NAME_INVALID", message: "invalid repository name"})
			return
		}
		action := "pull"
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			action = "push"
		}
		scope := "repository:" + name + ":" + action
		if action == "push" {
			scope = "repository:" + name + ":pull,push"
		}
		if tok == nil || !slices.Contains(tok.access[name], action) {
			if tok != nil {
				reason = "insufficient_scope"
			}
			c.writeRegError(w, r, &regError{status: http.StatusUnauthorized, code: "UNAUTHORIZED", message: "authentication required", unauth: true, challenge: scope, reason: reason})
			return
		}
		noteAuth(r, "registry-token")
		org, repo, image, _ := splitImageName(name)
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		var e *regError
		switch kind {
		case "manifests":
			e = c.serveManifest(w, r, org, repo, image, ref)
		case "blobs":
			e = c.serveBlob(w, r, org, repo, ref)
		case "uploads":
			e = c.serveUpload(w, r, org, repo, name, ref)
		case "tags":
			e = c.serveTags(w, r, org, repo, image)
		}
		if e != nil {
			c.writeRegError(w, r, e)
		}
	}
}

// splitRegistryPath splits "{name}/manifests/{ref}", "{name}/blobs/{digest}",
// "{name}/blobs/uploads/[{uuid}]" and "{name}/tags/list".
func splitRegistryPath(rest string) (name, kind, ref string, ok bool) {
	if n, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		return n, "tags", "", n != ""
	}
	if i := strings.LastIndex(rest, "/blobs/uploads/"); i > 0 {
		return rest[:i], "uploads", rest[i+len("/blobs/uploads/"):], true
	}
	if strings.HasSuffix(rest, "/blobs/uploads") {
		return strings.TrimSuffix(rest, "/blobs/uploads"), "uploads", "", true
	}
	for _, k := range []string{"manifests", "blobs"} {
		if i := strings.LastIndex(rest, "/"+k+"/"); i > 0 {
			ref := rest[i+len(k)+2:]
			return rest[:i], k, ref, ref != "" && !strings.Contains(ref, "/")
		}
	}
	return "", "", "", false
}

// Reference grammar of distribution/reference (regexp.go): a tag, and a
// repository name's path components (lower-case only).
var (
	tagRE           = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	nameComponentRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
)

// validImageName reports whether every path component of a repository
// name follows distribution's grammar (255 characters at most).
func validImageName(name string) bool {
	if len(name) > 255 {
		return false
	}
	for _, c := range strings.Split(name, "/") {
		if !nameComponentRE.MatchString(c) {
			return false
		}
	}
	return true
}

// splitImageName splits a repository name "{org}/{repo}/{image}": each
// Cloudsmith repository is a registry of its own.
func splitImageName(name string) (org, repo, image string, ok bool) {
	parts := strings.SplitN(name, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// bearer resolves a registry bearer token; reason is "invalid_token" for
// one that is unknown or expired.
func (c *Cloudsmith) bearer(r *http.Request) (*registryToken, string) {
	scheme, v, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || v == "" {
		return nil, ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.registry().tokens[strings.TrimSpace(v)]
	if t == nil || !c.now().Before(t.expires) {
		return nil, "invalid_token"
	}
	return t, ""
}

// serveRegistryToken is the token endpoint (GET {realm}?service=&scope=):
// it authenticates Basic credentials as every package host does and
// grants, per requested repository scope, pull with Read and push with
// Write privilege; what the caller may not do is left out of the token,
// as distribution's token servers do.
func (c *Cloudsmith) serveRegistryToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, apiErrors, errMethodNotAllowed(r, http.MethodGet))
		return
	}
	p, present, reason := c.authenticate(r)
	if p == nil {
		noteFailure(r, reason)
		e := &httpError{Status: http.StatusUnauthorized, Detail: msgInvalidToken, Challenge: true}
		if !present {
			e.Detail = msgNoCredentials
		}
		writeError(w, apiErrors, e)
		return
	}
	noteAuth(r, p.kind)
	access := map[string][]string{}
	f := formatByName("docker")
	for _, s := range r.URL.Query()["scope"] {
		for _, one := range strings.Fields(s) {
			parts := strings.Split(one, ":")
			if len(parts) != 3 || parts[0] != "repository" {
				continue
			}
			org, repo, _, ok := splitImageName(parts[1])
			if !ok {
				continue
			}
			var actions []string
			for _, a := range strings.Split(parts[2], ",") {
				need := PrivilegeRead
				if a == "push" {
					need = PrivilegeWrite
				} else if a != "pull" {
					continue
				}
				if _, herr := c.authorize(r, org, repo, need, f); herr == nil && !slices.Contains(actions, a) {
					actions = append(actions, a)
				}
			}
			access[parts[1]] = append(access[parts[1]], actions...)
		}
	}
	tok := randomString(48, alnum)
	now := c.now()
	c.mu.Lock()
	st := c.registry()
	for k, t := range st.tokens {
		if !now.Before(t.expires) {
			delete(st.tokens, k)
		}
	}
	st.tokens[tok] = &registryToken{who: p, access: access, expires: now.Add(registryTokenLifetime)}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"token": tok, "access_token": tok,
		"expires_in": int(registryTokenLifetime.Seconds()),
		"issued_at":  now.UTC().Format(time.RFC3339),
	})
}

// findManifest returns the stored image whose tag or digest is ref.
func findManifest(packages []*Package, image, ref string) *Package {
	for i := len(packages) - 1; i >= 0; i-- {
		p := packages[i]
		if p.Name == image && (p.Version == ref || p.Metadata["digest"] == ref) {
			return p
		}
	}
	return nil
}

func (c *Cloudsmith) serveManifest(w http.ResponseWriter, r *http.Request, org, repo, image, ref string) *regError {
	if r.Method == http.MethodPut {
		return c.putManifest(w, r, org, repo, image, ref)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return &regError{status: http.StatusMethodNotAllowed, code: "UNSUPPORTED", message: "The operation is unsupported."}
	}
	c.mu.Lock()
	p := findManifest(c.repoPackages(org, repo, "docker"), image, ref)
	c.mu.Unlock()
	if p == nil {
		return &regError{status: http.StatusNotFound, code: "MANIFEST_UNKNOWN", message: "manifest unknown"}
	}
	m := p.file("manifest")
	if (m.ContentType == mediaOCIManifest || m.ContentType == mediaOCIIndex) && !accepts(r, m.ContentType) {
		// distribution's manifest handler: an OCI manifest or index only
		// to a client that says it reads them.
		return &regError{status: http.StatusNotFound, code: "MANIFEST_UNKNOWN", message: "OCI manifest found, but accept header does not support OCI manifests"}
	}
	w.Header().Set("Docker-Content-Digest", digestOf(m.Data))
	w.Header().Set("Etag", `"`+digestOf(m.Data)+`"`)
	writeBlob(w, m.ContentType, m.Data)
	return nil
}

// accepts reports whether the request's Accept headers name mediaType.
func accepts(r *http.Request, mediaType string) bool {
	for _, h := range r.Header.Values("Accept") {
		for _, one := range strings.Split(h, ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(one)); err == nil && mt == mediaType {
				return true
			}
		}
	}
	return false
}

// putManifest stores an image: every blob (or, for an index, every
// manifest) it references must have been pushed first. A tag pushed again
// moves to the new manifest, as registries' tags do.
func (c *Cloudsmith) putManifest(w http.ResponseWriter, r *http.Request, org, repo, image, ref string) *regError {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
	if err != nil {
		return &regError{status: http.StatusBadRequest, code: "MANIFEST_INVALID", message: "manifest invalid"}
	}
	var m struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			Digest string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return &regError{status: http.StatusBadRequest, code: "MANIFEST_INVALID", message: "manifest invalid"}
	}
	// distribution picks the manifest type by Content-Type alone and
	// refuses a body whose mediaType says otherwise (Docker's types must
	// carry it; OCI's may leave it out).
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !slices.Contains([]string{mediaDockerManifest, mediaDockerList, mediaOCIManifest, mediaOCIIndex}, ctype) {
		return &regError{status: http.StatusBadRequest, code: "MANIFEST_INVALID", message: "manifest invalid: unsupported manifest media type " + strconv.Quote(ctype)}
	}
	if m.MediaType != ctype && (m.MediaType != "" || ctype == mediaDockerManifest || ctype == mediaDockerList) {
		return &regError{status: http.StatusBadRequest, code: "MANIFEST_INVALID", message: "manifest invalid: mediaType in manifest should be " + strconv.Quote(ctype) + " not " + strconv.Quote(m.MediaType)}
	}
	if !strings.HasPrefix(ref, "sha256:") && !tagRE.MatchString(ref) {
		return &regError{status: http.StatusBadRequest, code: "TAG_INVALID", message: "manifest tag did not match URI"}
	}
	digest := digestOf(data)
	if strings.HasPrefix(ref, "sha256:") && ref != digest {
		return &regError{status: http.StatusBadRequest, code: "DIGEST_INVALID", message: "provided digest did not match uploaded content"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rp, err := c.lookupRepo(org, repo)
	if err != nil {
		return &regError{status: http.StatusNotFound, code: "NAME_UNKNOWN", message: "repository name not known to registry"}
	}
	files := []File{{Name: "manifest", ContentType: ctype, Data: data}}
	refs := []string{m.Config.Digest}
	for _, l := range m.Layers {
		refs = append(refs, l.Digest)
	}
	for _, d := range refs {
		b := c.blob(org, repo, d)
		if b == nil {
			return &regError{status: http.StatusBadRequest, code: "MANIFEST_BLOB_UNKNOWN", message: "blob unknown to registry: " + d}
		}
		files = append(files, File{Name: d, ContentType: "application/octet-stream", Data: b})
	}
	for _, mm := range m.Manifests {
		if findManifest(rp.ofFormat("docker"), image, mm.Digest) == nil {
			return &regError{status: http.StatusBadRequest, code: "MANIFEST_BLOB_UNKNOWN", message: "manifest unknown to registry: " + mm.Digest}
		}
	}
	rp.packages = slices.DeleteFunc(rp.packages, func(p *Package) bool {
		return p.Format == "docker" && p.Name == image && p.Version == ref
	})
	if err := rp.add(Package{Format: "docker", Name: image, Version: ref, Files: files, Metadata: map[string]any{"digest": digest}, UploadedAt: c.now().UTC()}); err != nil {
		return &regError{status: http.StatusConflict, code: "DENIED", message: err.Error()}
	}
	w.Header().Set("Docker-Content-Digest", digest)
	w.Header().Set("Location", "/v2/"+org+"/"+repo+"/"+image+"/manifests/"+digest)
	w.WriteHeader(http.StatusCreated)
	return nil
}

// blob returns a blob of a repository: uploaded, or part of a stored
// image. Callers hold c.mu.
func (c *Cloudsmith) blob(org, repo, digest string) []byte {
	if b, ok := c.registry().blobs[org+"/"+repo+"@"+digest]; ok {
		return b
	}
	for _, p := range c.repoPackages(org, repo, "docker") {
		if f := p.file(digest); f != nil {
			return f.Data
		}
	}
	return nil
}

func (c *Cloudsmith) serveBlob(w http.ResponseWriter, r *http.Request, org, repo, digest string) *regError {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return &regError{status: http.StatusMethodNotAllowed, code: "UNSUPPORTED", message: "The operation is unsupported."}
	}
	c.mu.Lock()
	b := c.blob(org, repo, digest)
	c.mu.Unlock()
	if b == nil {
		return &regError{status: http.StatusNotFound, code: "BLOB_UNKNOWN", message: "blob unknown to registry"}
	}
	w.Header().Set("Docker-Content-Digest", digest)
	writeBlob(w, "application/octet-stream", b)
	return nil
}

// serveUpload implements blob uploads: POST starts one (or, with ?digest=,
// is a monolithic upload; with ?mount=&from= mounts a blob the caller can
// read), PATCH appends a chunk, PUT ?digest= completes it after checking
// the digest.
func (c *Cloudsmith) serveUpload(w http.ResponseWriter, r *http.Request, org, repo, name, id string) *regError {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 256<<20))
	if err != nil {
		return &regError{status: http.StatusBadRequest, code: "BLOB_UPLOAD_INVALID", message: "blob upload invalid"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.lookupRepo(org, repo); err != nil {
		return &regError{status: http.StatusNotFound, code: "NAME_UNKNOWN", message: "repository name not known to registry"}
	}
	st := c.registry()
	q := r.URL.Query()
	finish := func(body []byte, digest string) *regError {
		if digest != digestOf(body) {
			return &regError{status: http.StatusBadRequest, code: "DIGEST_INVALID", message: "provided digest did not match uploaded content"}
		}
		st.blobs[org+"/"+repo+"@"+digest] = body
		w.Header().Set("Docker-Content-Digest", digest)
		w.Header().Set("Location", "/v2/"+name+"/blobs/"+digest)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusCreated)
		return nil
	}
	location := func(id string, n int) {
		w.Header().Set("Location", "/v2/"+name+"/blobs/uploads/"+id)
		w.Header().Set("Docker-Upload-UUID", id)
		w.Header().Set("Range", "0-"+strconv.Itoa(max(n-1, 0)))
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
	}
	switch {
	case r.Method == http.MethodPost && id == "":
		if d := q.Get("digest"); d != "" {
			return finish(data, d)
		}
		if mount := q.Get("mount"); mount != "" {
			if b := c.blob(org, repo, mount); b != nil {
				return finish(b, mount)
			}
			// Cross-repository mounts fall back to an upload, as the spec allows.
		}
		id = randomString(32, lowerAlnum)
		st.uploads[id] = &blobUpload{name: name}
		location(id, 0)
		return nil
	case id == "" || st.uploads[id] == nil || st.uploads[id].name != name:
		return &regError{status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN", message: "blob upload unknown to registry"}
	case r.Method == http.MethodPatch:
		u := st.uploads[id]
		if cr := r.Header.Get("Content-Range"); cr != "" && !chunkFollows(cr, u.data.Len(), len(data)) {
			w.Header().Set("Location", "/v2/"+name+"/blobs/uploads/"+id)
			w.Header().Set("Range", "0-"+strconv.Itoa(max(u.data.Len()-1, 0)))
			return &regError{status: http.StatusRequestedRangeNotSatisfiable, code: "RANGE_INVALID", message: "invalid content range"}
		}
		u.data.Write(data)
		location(id, u.data.Len())
		return nil
	case r.Method == http.MethodPut:
		u := st.uploads[id]
		u.data.Write(data)
		delete(st.uploads, id)
		return finish(u.data.Bytes(), q.Get("digest"))
	case r.Method == http.MethodGet:
		w.Header().Set("Range", "0-"+strconv.Itoa(max(st.uploads[id].data.Len()-1, 0)))
		w.Header().Set("Docker-Upload-UUID", id)
		w.WriteHeader(http.StatusNoContent)
		return nil
	case r.Method == http.MethodDelete:
		delete(st.uploads, id)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return &regError{status: http.StatusMethodNotAllowed, code: "UNSUPPORTED", message: "The operation is unsupported."}
}

// chunkFollows reports whether a PATCH's Content-Range ("start-end",
// inclusive; a "bytes" prefix tolerated) starts where the upload ends and
// covers exactly the n bytes sent.
func chunkFollows(contentRange string, size, n int) bool {
	v := strings.TrimLeft(strings.TrimPrefix(strings.TrimSpace(contentRange), "bytes"), " =")
	a, b, ok := strings.Cut(v, "-")
	start, err1 := strconv.Atoi(a)
	end, err2 := strconv.Atoi(b)
	return ok && err1 == nil && err2 == nil && start == size && end-start+1 == n
}

func (c *Cloudsmith) serveTags(w http.ResponseWriter, r *http.Request, org, repo, image string) *regError {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return &regError{status: http.StatusMethodNotAllowed, code: "UNSUPPORTED", message: "The operation is unsupported."}
	}
	c.mu.Lock()
	var tags []string
	for _, p := range c.repoPackages(org, repo, "docker") {
		if p.Name == image && !strings.HasPrefix(p.Version, "sha256:") {
			tags = append(tags, p.Version)
		}
	}
	c.mu.Unlock()
	if tags == nil {
		return &regError{status: http.StatusNotFound, code: "NAME_UNKNOWN", message: "repository name not known to registry"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": org + "/" + repo + "/" + image, "tags": tags})
	return nil
}

// DockerRegistry is the registry's host:port (what docker login and image
// references name).
func (s *Server) DockerRegistry() string {
	u, _ := url.Parse(s.URLs[HostDocker])
	return u.Host
}
