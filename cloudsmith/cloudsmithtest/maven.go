package cloudsmithtest

import (
	"archive/zip"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/xml"
	"hash"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// HostMaven is maven.cloudsmith.io, where Maven deploys (and reads back the
// maven-metadata.xml it merges); builds resolve from the download host's
// /basic/{org}/{repo}/maven/.
const HostMaven Host = "maven"

// Demo Maven coordinates.
const (
	DemoMavenGroup    = "com.example"
	DemoMavenArtifact = "hello-cloudsmith"
	DemoMavenVersion  = "1.0.0"
)

// mavenChecksums are the checksum files Maven 3.8/3.9 fetch and deploy,
// computed for every stored file.
var mavenChecksums = map[string]func() hash.Hash{".sha1": sha1.New, ".md5": md5.New, ".sha256": sha256.New, ".sha512": sha512.New}

// demoMaven builds com.example:hello-cloudsmith:1.0.0: a jar with a
// manifest and a resource, and its pom.
func demoMaven() ([]Package, error) {
	jar, err := zipFiles([]struct{ name, body string }{
		{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: cloudsmithtest\r\n\r\n"},
		{"com/example/hello/hello.txt", "Hello from Cloudsmith!\n"},
	})
	if err != nil {
		return nil, err
	}
	base := DemoMavenArtifact + "-" + DemoMavenVersion
	return []Package{{
		Format: "maven", Name: DemoMavenGroup + ":" + DemoMavenArtifact, Version: DemoMavenVersion,
		Files: []File{
			{Name: base + ".pom", ContentType: "text/xml", Data: []byte(mavenPOM(DemoMavenGroup, DemoMavenArtifact, DemoMavenVersion, "jar"))},
			{Name: base + ".jar", ContentType: "application/java-archive", Data: jar},
		},
	}}, nil
}

// zipFiles builds a zip of files (a jar, a .nupkg), every entry stamped
// with buildTime so the bytes are the same on every run.
func zipFiles(files []struct{ name, body string }) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: buildTime})
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(w, f.body); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func mavenPOM(group, artifact, version, packaging string) string {
	return xml.Header + `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>` + group + `</groupId>
  <artifactId>` + artifact + `</artifactId>
  <version>` + version + `</version>
  <packaging>` + packaging + `</packaging>
  <description>Demo package served by the Cloudsmith emulator</description>
</project>
`
}

// mavenPath splits a repository path into group, artifact, version and
// file ("com/example/a/1.0/a-1.0.jar"), or group and artifact for the
// artifact's maven-metadata.xml (version "").
func mavenPath(rest string) (group, artifact, version, file string, ok bool) {
	segs := strings.Split(rest, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return "", "", "", "", false
		}
	}
	n := len(segs)
	meta := strings.HasPrefix(segs[n-1], "maven-metadata.xml")
	if meta && n >= 4 && strings.HasSuffix(segs[n-2], "-SNAPSHOT") {
		// A SNAPSHOT version's own metadata (its timestamped builds).
		return strings.Join(segs[:n-3], "."), segs[n-3], segs[n-2], segs[n-1], true
	}
	if meta && n >= 3 {
		return strings.Join(segs[:n-2], "."), segs[n-2], "", segs[n-1], true
	}
	if n < 4 {
		return "", "", "", "", false
	}
	artifact, version = segs[n-3], segs[n-2]
	ok = strings.HasPrefix(segs[n-1], artifact+"-"+version)
	if base, snap := strings.CutSuffix(version, "-SNAPSHOT"); snap && !ok {
		// Deployed SNAPSHOT files carry a timestamp and build number
		// in place of "SNAPSHOT" (a-1.0-20240101.120000-1.jar).
		ok = snapshotFileRE.MatchString(strings.TrimPrefix(segs[n-1], artifact+"-"+base+"-")) && strings.HasPrefix(segs[n-1], artifact+"-"+base+"-")
	}
	if !ok {
		return "", "", "", "", false
	}
	return strings.Join(segs[:n-3], "."), artifact, version, segs[n-1], true
}

// snapshotFileRE is what follows "{artifact}-{base version}-" in a
// deployed SNAPSHOT file: yyyyMMdd.HHmmss-buildNumber, then the
// classifier and extension.
var snapshotFileRE = regexp.MustCompile(`^\d{8}\.\d{6}-\d+[.-]`)

// serveMaven serves a Maven 2 repository layout: the stored files, the
// maven-metadata.xml of each artifact generated from its versions, and a
// .sha1/.md5/.sha256/.sha512 of every file.
func serveMaven(_ *Cloudsmith, w http.ResponseWriter, _ *http.Request, q *pkgRequest) *httpError {
	group, artifact, version, file, ok := mavenPath(q.rest)
	if !ok {
		return errNotFound
	}
	data, ctype := mavenFile(q.packages, group, artifact, version, file)
	if data == nil {
		return errNotFound
	}
	writeBlob(w, ctype, data)
	return nil
}

// mavenFile returns a file of the repository (checksums computed), or nil.
func mavenFile(packages []*Package, group, artifact, version, file string) ([]byte, string) {
	for ext, h := range mavenChecksums {
		if base, ok := strings.CutSuffix(file, ext); ok {
			data, _ := mavenFile(packages, group, artifact, version, base)
			if data == nil {
				return nil, ""
			}
			sum := h()
			sum.Write(data)
			return []byte(hex.EncodeToString(sum.Sum(nil))), "text/plain"
		}
	}
	name := group + ":" + artifact
	if version == "" {
		if file != "maven-metadata.xml" {
			return nil, ""
		}
		return mavenMetadata(packages, group, artifact), "text/xml"
	}
	for _, p := range packages {
		if p.Name == name && p.Version == version {
			if f := p.file(file); f != nil {
				return f.Data, f.ContentType
			}
		}
	}
	return nil, ""
}

// mavenMetadata is an artifact's maven-metadata.xml listing its versions
// in upload order, or nil when it has none. lastUpdated is the newest
// upload's time, so the file and its checksums agree between requests.
func mavenMetadata(packages []*Package, group, artifact string) []byte {
	type versioning struct {
		Latest      string   `xml:"latest"`
		Release     string   `xml:"release"`
		Versions    []string `xml:"versions>version"`
		LastUpdated string   `xml:"lastUpdated"`
	}
	type metadata struct {
		XMLName    xml.Name   `xml:"metadata"`
		GroupID    string     `xml:"groupId"`
		ArtifactID string     `xml:"artifactId"`
		Versioning versioning `xml:"versioning"`
	}
	m := metadata{GroupID: group, ArtifactID: artifact}
	for _, p := range packages {
		if p.Name != group+":"+artifact {
			continue
		}
		m.Versioning.Versions = append(m.Versioning.Versions, p.Version)
		m.Versioning.Latest = p.Version
		if !strings.HasSuffix(p.Version, "-SNAPSHOT") {
			m.Versioning.Release = p.Version
		}
		m.Versioning.LastUpdated = p.UploadedAt.UTC().Format("20060102150405")
	}
	if len(m.Versioning.Versions) == 0 {
		return nil
	}
	out, _ := xml.MarshalIndent(m, "", "  ")
	return append([]byte(xml.Header), append(out, '\n')...)
}

// uploadMaven stores what `mvn deploy` PUTs on the Maven host: artifact
// files (a version collects the files of several PUTs), checksums (checked
// against the stored file) and maven-metadata.xml (accepted and dropped:
// Cloudsmith generates its own). A file that exists already is refused
// with 409, as Cloudsmith refuses to overwrite a package version.
func uploadMaven(c *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError {
	if r.Method != http.MethodPut {
		return errMethodNotAllowed(r, http.MethodGet, http.MethodHead, http.MethodPut)
	}
	group, artifact, version, file, ok := mavenPath(q.rest)
	if !ok || group == "" {
		return &httpError{Status: http.StatusBadRequest, Detail: "not a Maven repository path: " + q.rest}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		return &httpError{Status: http.StatusBadRequest, Detail: "reading the upload: " + err.Error()}
	}
	if version != "" && file == "maven-metadata.xml" {
		// A SNAPSHOT's own metadata names its newest build: kept as
		// deployed (each deploy replaces it), as resolvers read it.
		if herr := c.storeFile(q.org, q.repo, "maven", group+":"+artifact, version, File{Name: file, ContentType: "text/xml", Data: data}, true); herr != nil {
			return herr
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	}
	if version == "" || strings.Contains(file, "maven-metadata.xml") {
		w.WriteHeader(http.StatusCreated)
		return nil
	}
	for ext, h := range mavenChecksums {
		if base, ok := strings.CutSuffix(file, ext); ok {
			c.mu.Lock()
			stored, _ := mavenFile(c.repoPackages(q.org, q.repo, "maven"), group, artifact, version, base)
			c.mu.Unlock()
			sum := h()
			sum.Write(stored)
			if got := strings.Fields(string(data)); stored == nil || len(got) == 0 || !strings.EqualFold(got[0], hex.EncodeToString(sum.Sum(nil))) {
				return &httpError{Status: http.StatusBadRequest, Detail: "checksum " + file + " does not match the uploaded file"}
			}
			w.WriteHeader(http.StatusCreated)
			return nil
		}
	}
	ctype := "application/octet-stream"
	switch {
	case strings.HasSuffix(file, ".pom"):
		ctype = "text/xml"
	case strings.HasSuffix(file, ".jar"):
		ctype = "application/java-archive"
	}
	if herr := c.storeFile(q.org, q.repo, "maven", group+":"+artifact, version, File{Name: file, ContentType: ctype, Data: data}, false); herr != nil {
		return herr
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// storeFile adds a file to a package version, creating the version on its
// first file; a file name the version holds already is a 409 unless
// replace.
func (c *Cloudsmith) storeFile(org, repo, format, name, version string, f File, replace bool) *httpError {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.lookupRepo(org, repo)
	if err != nil {
		return errNotFound
	}
	p := r.find(format, name, version)
	if p == nil {
		if err := r.add(Package{Format: format, Name: name, Version: version, Files: []File{f}, UploadedAt: c.now().UTC()}); err != nil {
			return &httpError{Status: http.StatusConflict, Detail: err.Error()}
		}
		return nil
	}
	if p.file(f.Name) != nil && !replace {
		return &httpError{Status: http.StatusConflict, Detail: "the file " + f.Name + " of " + name + " " + version + " exists already and is not overwritten"}
	}
	// Stored packages are never changed (handlers read them without the
	// lock): the version is replaced by a copy with the new file.
	cp := clonePackage(*p)
	cp.Files = append(slices.DeleteFunc(cp.Files, func(old File) bool { return old.Name == f.Name }), f)
	for i := range r.packages {
		if r.packages[i] == p {
			r.packages[i] = &cp
		}
	}
	return nil
}

// repoPackages returns a repository's packages of a format; callers hold c.mu.
func (c *Cloudsmith) repoPackages(org, repo, format string) []*Package {
	r, err := c.lookupRepo(org, repo)
	if err != nil {
		return nil
	}
	return r.ofFormat(format)
}

// MavenURL is the Maven download URL of the seeded repository (without
// credentials), ending in "/".
func (s *Server) MavenURL() string {
	return s.DownloadURL + "/basic/" + s.Org + "/" + s.Repo + "/maven/"
}

// MavenUploadURL is the Maven deploy URL of the seeded repository.
func (s *Server) MavenUploadURL() string { return s.URLs[HostMaven] + "/" + s.Org + "/" + s.Repo + "/" }
