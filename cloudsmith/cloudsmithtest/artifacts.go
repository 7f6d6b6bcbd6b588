package cloudsmithtest

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// artifacts are the demo packages, built in memory at start-up so that
// real clients install real, verifiable files.
type artifacts struct {
	wheelName   string
	wheel       []byte
	wheelSHA256 string

	npmTarball   []byte
	npmShasum    string // hex sha1, npm's legacy "shasum"
	npmIntegrity string // SRI sha512

	goMod  []byte
	goZip  []byte
	goInfo []byte
	// goSum holds the two go.sum lines of the demo module.
	goSum string

	raw []byte
}

// buildTime stamps every archive entry so the bytes (and hashes) are the
// same on every run.
var buildTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func buildArtifacts() (*artifacts, error) {
	a := &artifacts{raw: []byte("Hello from Cloudsmith!\n")}
	var err error
	if a.wheelName, a.wheel, err = Wheel(DemoPythonProject, DemoPythonVersion); err != nil {
		return nil, fmt.Errorf("wheel: %w", err)
	}
	sum := sha256.Sum256(a.wheel)
	a.wheelSHA256 = hex.EncodeToString(sum[:])

	if a.npmTarball, err = buildNPMTarball(); err != nil {
		return nil, fmt.Errorf("npm tarball: %w", err)
	}
	s1 := sha1.Sum(a.npmTarball)
	a.npmShasum = hex.EncodeToString(s1[:])
	s512 := sha512.Sum512(a.npmTarball)
	a.npmIntegrity = "sha512-" + base64.StdEncoding.EncodeToString(s512[:])

	if err := a.buildGoModule(); err != nil {
		return nil, fmt.Errorf("go module: %w", err)
	}
	return a, nil
}

// Wheel builds {module}-{version}-py3-none-any.whl (PEP 427) of a pure
// Python project whose module (the project name with '-' as '_') has
// hello(): the package, METADATA, WHEEL and a RECORD with urlsafe-base64
// sha256 hashes. It is the demo package, and what publishing tests upload.
func Wheel(project, version string) (string, []byte, error) {
	module := strings.ReplaceAll(normalizeProject(project), "-", "_")
	dist := module + "-" + version
	info := dist + ".dist-info/"
	files := []struct{ name, body string }{
		{module + "/__init__.py", `"""Demo package served by the Cloudsmith emulator."""

__version__ = "` + version + `"


def hello():
    return "Hello from Cloudsmith!"
`},
		{info + "METADATA", "Metadata-Version: 2.1\nName: " + project + "\nVersion: " + version +
			"\nSummary: Demo package served by the Cloudsmith emulator\nLicense: Apache-2.0\nRequires-Python: >=3.7\n\n"},
		{info + "WHEEL", "Wheel-Version: 1.0\nGenerator: cloudsmithtest\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n"},
		{info + "top_level.txt", module + "\n"},
	}
	var record strings.Builder
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, body string) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: buildTime})
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, body)
		return err
	}
	for _, f := range files {
		if err := add(f.name, f.body); err != nil {
			return "", nil, err
		}
		sum := sha256.Sum256([]byte(f.body))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.body))
	}
	record.WriteString(info + "RECORD,,\n")
	if err := add(info+"RECORD", record.String()); err != nil {
		return "", nil, err
	}
	if err := zw.Close(); err != nil {
		return "", nil, err
	}
	return dist + "-py3-none-any.whl", buf.Bytes(), nil
}

// buildNPMTarball builds hello-cloudsmith-1.0.0.tgz with the package/
// prefix npm expects.
func buildNPMTarball() ([]byte, error) {
	files := []struct{ name, body string }{
		{"package/package.json", `{
  "name": "` + DemoNPMPackage + `",
  "version": "` + DemoNPMVersion + `",
  "description": "Demo package served by the Cloudsmith emulator",
  "main": "index.js",
  "license": "Apache-2.0"
}
`},
		{"package/index.js", "module.exports = function hello() {\n  return \"Hello from Cloudsmith!\";\n};\n"},
		{"package/README.md", "# hello-cloudsmith\n\nDemo package served by the Cloudsmith emulator.\n"},
	}
	return tarGz(buildTime, files)
}

// buildGoModule builds the module zip by the rules of golang.org/x/mod/zip
// (every file under "module@version/", no directories, go.mod at the root)
// and computes the go.sum "h1:" hashes (dirhash.Hash1) the go command checks.
func (a *artifacts) buildGoModule() error {
	prefix := DemoGoModule + "@" + DemoGoVersion + "/"
	a.goMod = []byte("module " + DemoGoModule + "\n\ngo 1.21\n")
	files := map[string]string{
		"go.mod":   string(a.goMod),
		"hello.go": "// Package hello is a demo module served by the Cloudsmith emulator.\npackage hello\n\n// Hello greets.\nfunc Hello() string { return \"Hello from Cloudsmith!\" }\n",
		"LICENSE":  "Apache License 2.0 (demo module)\n",
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var zipHashes []string
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: prefix + n, Method: zip.Deflate, Modified: buildTime})
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, files[n]); err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(files[n]))
		zipHashes = append(zipHashes, fmt.Sprintf("%x  %s\n", sum, prefix+n))
	}
	if err := zw.Close(); err != nil {
		return err
	}
	a.goZip = buf.Bytes()
	a.goInfo = []byte(`{"Version":"` + DemoGoVersion + `","Time":"` + buildTime.Format(time.RFC3339) + `"}`)
	modSum := sha256.Sum256(a.goMod)
	a.goSum = fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n",
		DemoGoModule, DemoGoVersion, hash1(zipHashes),
		DemoGoModule, DemoGoVersion, hash1([]string{fmt.Sprintf("%x  go.mod\n", modSum)}))
	return nil
}

// hash1 is dirhash.Hash1 over "sha256hex  name\n" lines already in file
// name order.
func hash1(lines []string) string {
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l)
	}
	return "h1:" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// GoSum returns the go.sum lines of the demo Go module, so a test can check
// the downloaded module against them (GOFLAGS=-mod=mod with GONOSUMDB).
func (c *Cloudsmith) GoSum() string { return c.art.goSum }
