package cloudsmithtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/gitserve"
)

// HostCargo is cargo.cloudsmith.io: the sparse index ({org}/{repo}/config.json
// and index files) and the publish API ({org}/{repo}/api/v1/crates/new).
// The git index and the crate files are on the download host:
// /basic/{org}/{repo}/cargo/index.git and /basic/{org}/{repo}/cargo/{crate}-{version}.crate.
const HostCargo Host = "cargo"

// Demo crate coordinates.
const (
	DemoCargoCrate   = "hello-cloudsmith"
	DemoCargoVersion = "1.0.0"
)

// cargoState holds the git indexes built from the store (a bare
// repository per index state, served by git http-backend) and each
// repository's download key.
type cargoState struct {
	mu      sync.Mutex // serialises building git indexes; never held with Cloudsmith.mu
	root    string
	built   map[string]string // index content hash → bare repository name
	handler http.Handler
	keys    map[string]string // "org/repo" → download key; guarded by Cloudsmith.mu
}

func (c *Cloudsmith) cargoState() *cargoState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cargo == nil {
		c.cargo = &cargoState{built: map[string]string{}, keys: map[string]string{}}
	}
	return c.cargo
}

// cargoKey returns the repository's download key: the git index's
// config.json puts it in the crate download URL (Cloudsmith's
// /{entitlement-token}/{org}/{repo}/ form), because Cargo before 1.74 sends
// no credentials when it downloads a crate. Callers hold c.mu.
func (c *Cloudsmith) cargoKey(org, repo string) string {
	k, ok := c.cargo.keys[org+"/"+repo]
	if !ok {
		k = randomString(16, alnum)
		c.cargo.keys[org+"/"+repo] = k
	}
	return k
}

// demoCargo builds the crate hello-cloudsmith 1.0.0 as `cargo package`
// does: a gzipped tar of {name}-{version}/ with a normalised Cargo.toml.
func demoCargo() ([]Package, error) {
	crate, err := buildCrate(DemoCargoCrate, DemoCargoVersion, map[string]string{
		"Cargo.toml": "[package]\nedition = \"2018\"\nname = \"" + DemoCargoCrate + "\"\nversion = \"" + DemoCargoVersion +
			"\"\ndescription = \"Demo crate served by the Cloudsmith emulator\"\nlicense = \"Apache-2.0\"\n",
		"src/lib.rs": "//! Demo crate served by the Cloudsmith emulator.\n\n/// Greets.\npub fn hello() -> &'static str {\n    \"Hello from Cloudsmith!\"\n}\n",
	})
	if err != nil {
		return nil, err
	}
	return []Package{{
		Format: "cargo", Name: DemoCargoCrate, Version: DemoCargoVersion,
		Files:    []File{{Name: DemoCargoCrate + "-" + DemoCargoVersion + ".crate", ContentType: "application/x-tar", Data: crate}},
		Metadata: map[string]any{"deps": []any{}, "features": map[string]any{}},
	}}, nil
}

func buildCrate(name, version string, files map[string]string) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	entries := make([]struct{ name, body string }, len(names))
	for i, n := range names {
		entries[i].name, entries[i].body = name+"-"+version+"/"+n, files[n]
	}
	return tarGz(buildTime, entries)
}

// cargoIndexPath is where a crate's index file lives (Cargo's layout:
// 1/a, 2/ab, 3/a/abc, ab/cd/abcd...), always lower-case.
func cargoIndexPath(name string) string {
	n := strings.ToLower(name)
	switch len(n) {
	case 1:
		return "1/" + n
	case 2:
		return "2/" + n
	case 3:
		return "3/" + n[:1] + "/" + n
	}
	return n[:2] + "/" + n[2:4] + "/" + n
}

// cargoIndexFile is a crate's index file: one JSON line per version, in
// upload order; nil when the crate has none.
func cargoIndexFile(packages []*Package, lowerName string) []byte {
	var b bytes.Buffer
	for _, p := range packages {
		if strings.ToLower(p.Name) != lowerName || len(p.Files) == 0 {
			continue
		}
		sum := sha256.Sum256(p.Files[0].Data)
		line := map[string]any{
			"name": p.Name, "vers": p.Version, "deps": p.Metadata["deps"], "cksum": hex.EncodeToString(sum[:]),
			"features": p.Metadata["features"], "yanked": false, "links": p.Metadata["links"],
		}
		if line["deps"] == nil {
			line["deps"] = []any{}
		}
		if line["features"] == nil {
			line["features"] = map[string]any{}
		}
		data, _ := json.Marshal(line)
		b.Write(append(data, '\n'))
	}
	if b.Len() == 0 {
		return nil
	}
	return b.Bytes()
}

func (c *Cloudsmith) hostURL(r *http.Request, h Host) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.hostURLs[h]; ok {
		return u
	}
	return baseURL(r)
}

// serveCargo serves, on the Cargo host, the sparse index (config.json
// with auth-required, so Cargo 1.74+ sends its token everywhere, and the
// index files), and on the download host the git index and crate files.
func serveCargo(c *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError {
	if q.host == HostDownload {
		if q.rest == "index.git" || strings.HasPrefix(q.rest, "index.git/") {
			return c.serveCargoGit(w, r, q)
		}
		return serveFile(w, q.packages, q.rest)
	}
	if q.rest == "config.json" {
		writeJSON(w, http.StatusOK, map[string]any{
			"dl":            c.hostURL(r, HostDownload) + "/basic/" + q.org + "/" + q.repo + "/cargo/{crate}-{version}.crate",
			"api":           baseURL(r) + "/" + q.org + "/" + q.repo,
			"auth-required": true,
		})
		return nil
	}
	name := q.rest[strings.LastIndex(q.rest, "/")+1:]
	if name == "" || cargoIndexPath(name) != q.rest {
		return errNotFound
	}
	data := cargoIndexFile(q.packages, name)
	if data == nil {
		return errNotFound
	}
	writeBlob(w, "text/plain; charset=utf-8", data)
	return nil
}

// serveCargoGit serves the git index of the repository as it is now: a
// bare repository is built for each state of the index and served with
// git http-backend.
func (c *Cloudsmith) serveCargoGit(w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError {
	st := c.cargoState()
	c.mu.Lock()
	key := c.cargoKey(q.org, q.repo)
	c.mu.Unlock()
	files := fstest.MapFS{}
	cfg, _ := json.Marshal(map[string]any{
		"dl":  c.hostURL(r, HostDownload) + "/" + key + "/" + q.org + "/" + q.repo + "/cargo/{crate}-{version}.crate",
		"api": c.hostURL(r, HostCargo) + "/" + q.org + "/" + q.repo,
	})
	files["config.json"] = &fstest.MapFile{Data: append(cfg, '\n'), Mode: 0o644}
	for _, p := range q.packages {
		n := strings.ToLower(p.Name)
		files[cargoIndexPath(n)] = &fstest.MapFile{Data: cargoIndexFile(q.packages, n), Mode: 0o644}
	}
	h := sha256.New()
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(h, "%s\x00%s\x00", p, files[p].Data)
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]

	st.mu.Lock()
	name, ok := st.built[q.org+"/"+q.repo+"@"+sum]
	if !ok {
		var err error
		if st.root == "" {
			if st.root, err = os.MkdirTemp("", "cloudsmithtest-cargo-"); err == nil {
				st.handler, err = gitserve.Handler(st.root)
			}
		}
		if err == nil {
			name = q.org + "-" + q.repo + "-" + sum
			ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
			_, err = gitserve.Publish(ctx, st.root, name, "master", "Cargo index", files)
			cancel()
		}
		if err != nil {
			st.mu.Unlock()
			return &httpError{Status: http.StatusInternalServerError, Detail: "building the git index: " + err.Error()}
		}
		st.built[q.org+"/"+q.repo+"@"+sum] = name
	}
	handler := st.handler
	st.mu.Unlock()
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + name + ".git" + strings.TrimPrefix(q.rest, "index.git")
	handler.ServeHTTP(w, r2)
	return nil
}

// serveEntitled serves a crate file at /{key}/{org}/{repo}/cargo/{file}
// on the download host, for the repository whose download key it names.
// It reports whether the path had that shape.
func (c *Cloudsmith) serveEntitled(w http.ResponseWriter, r *http.Request) bool {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 5 || parts[0] == "basic" || parts[3] != "cargo" || !isRead(r) {
		return false
	}
	c.mu.Lock()
	var packages []*Package
	if c.cargo != nil {
		if k, ok := c.cargo.keys[parts[1]+"/"+parts[2]]; ok && k == parts[0] {
			packages = c.repoPackages(parts[1], parts[2], "cargo")
		}
	}
	c.mu.Unlock()
	if herr := serveFile(w, packages, parts[4]); herr != nil {
		writeError(w, plainErrors, herr)
	}
	return true
}

var crateNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

// uploadCargo is the publish API, PUT {api}/api/v1/crates/new: a 32-bit
// little-endian length and the JSON metadata, then a length and the
// .crate. Cloudsmith answers errors in the registry API's
// {"errors": [{"detail"}]} shape.
func uploadCargo(c *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError {
	if q.host != HostCargo || q.rest != "api/v1/crates/new" {
		return errNotFound
	}
	if r.Method != http.MethodPut {
		return errMethodNotAllowed(r, http.MethodPut)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		return &httpError{Status: http.StatusBadRequest, Detail: "reading the upload: " + err.Error()}
	}
	meta, crate, err := splitPublish(body)
	if err != nil {
		return &httpError{Status: http.StatusBadRequest, Detail: err.Error()}
	}
	var m struct {
		Name     string                     `json:"name"`
		Vers     string                     `json:"vers"`
		Deps     []map[string]any           `json:"deps"`
		Features map[string]json.RawMessage `json:"features"`
		Links    *string                    `json:"links"`
	}
	if err := json.Unmarshal(meta, &m); err != nil || !crateNameRE.MatchString(m.Name) || m.Vers == "" {
		return &httpError{Status: http.StatusBadRequest, Detail: "invalid crate metadata"}
	}
	if err := checkCrate(crate, m.Name, m.Vers); err != nil {
		return &httpError{Status: http.StatusBadRequest, Detail: err.Error()}
	}
	// Publish metadata names dependencies as written in Cargo.toml; the
	// index wants the package name in "name" and the alias in "package".
	deps := []any{}
	for _, d := range m.Deps {
		dep := map[string]any{
			"name": d["name"], "req": d["version_req"], "features": d["features"], "optional": d["optional"],
			"default_features": d["default_features"], "target": d["target"], "kind": d["kind"], "registry": d["registry"],
		}
		if alias, ok := d["explicit_name_in_toml"].(string); ok && alias != "" {
			dep["name"], dep["package"] = alias, d["name"]
		}
		deps = append(deps, dep)
	}
	features := map[string]any{}
	for k, v := range m.Features {
		var list []string
		_ = json.Unmarshal(v, &list)
		features[k] = list
	}
	p := Package{
		Format: "cargo", Name: m.Name, Version: m.Vers,
		Files:    []File{{Name: m.Name + "-" + m.Vers + ".crate", ContentType: "application/x-tar", Data: crate}},
		Metadata: map[string]any{"deps": deps, "features": features},
	}
	if m.Links != nil {
		p.Metadata["links"] = *m.Links
	}
	c.mu.Lock()
	rp, err := c.lookupRepo(q.org, q.repo)
	if err == nil {
		for _, old := range rp.ofFormat("cargo") {
			if strings.EqualFold(old.Name, m.Name) && old.Version == m.Vers {
				err = fmt.Errorf("crate version `%s` is already uploaded", m.Vers)
			}
		}
		if err == nil {
			p.UploadedAt = c.now().UTC()
			err = rp.add(p)
		}
	}
	c.mu.Unlock()
	if err != nil {
		return &httpError{Status: http.StatusConflict, Detail: err.Error()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"warnings": map[string]any{"invalid_categories": []string{}, "invalid_badges": []string{}, "other": []string{}}})
	return nil
}

func splitPublish(body []byte) (meta, crate []byte, err error) {
	next := func() ([]byte, error) {
		if len(body) < 4 {
			return nil, errors.New("truncated publish request")
		}
		n := binary.LittleEndian.Uint32(body)
		if uint64(len(body)-4) < uint64(n) {
			return nil, errors.New("truncated publish request")
		}
		part := body[4 : 4+n]
		body = body[4+n:]
		return part, nil
	}
	if meta, err = next(); err != nil {
		return nil, nil, err
	}
	if crate, err = next(); err != nil {
		return nil, nil, err
	}
	return meta, crate, nil
}

// checkCrate checks a .crate is a gzipped tar with {name}-{version}/Cargo.toml.
func checkCrate(crate []byte, name, version string) error {
	gz, err := gzip.NewReader(bytes.NewReader(crate))
	if err != nil {
		return fmt.Errorf("the .crate is not gzip: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return fmt.Errorf("the .crate has no %s-%s/Cargo.toml", name, version)
		}
		if h.Name == name+"-"+version+"/Cargo.toml" {
			return nil
		}
	}
}

// cargoAuthorization adapts Cargo's Authorization header: Cargo sends its
// token as the whole header, and Cloudsmith documents both
// `token = "Token KEY"` and a bare `token = KEY`, so a bare value is read
// as "Token KEY".
func cargoAuthorization(r *http.Request) {
	if v := strings.TrimSpace(r.Header.Get("Authorization")); v != "" && !strings.Contains(v, " ") {
		r.Header.Set("Authorization", "Token "+v)
	}
}

// CargoSparseIndex is the sparse index URL of the seeded repository, with
// Cargo's "sparse+" prefix.
func (s *Server) CargoSparseIndex() string {
	return "sparse+" + s.URLs[HostCargo] + "/" + s.Org + "/" + s.Repo + "/"
}

// CargoGitIndex is the git index URL of the seeded repository.
func (s *Server) CargoGitIndex() string {
	return s.DownloadURL + "/basic/" + s.Org + "/" + s.Repo + "/cargo/index.git"
}
