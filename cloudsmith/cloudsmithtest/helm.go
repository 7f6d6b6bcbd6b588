package cloudsmithtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Helm charts are served from the download host as a classic chart
// repository, {dl}/basic/{org}/{repo}/helm/charts/ with index.yaml and the
// chart archives (Cloudsmith's Helm page; Helm's chart repository guide:
// index.yaml lists every version with its digest and URLs). Charts are
// uploaded through the API (`cloudsmith push helm`, see apiupload.go).

// helmChartMeta is what a chart's Chart.yaml says, as index.yaml repeats it.
type helmChartMeta struct {
	APIVersion  string `yaml:"apiVersion"`
	Name        string `yaml:"name"`
	Version     string `yaml:"version"`
	AppVersion  string `yaml:"appVersion,omitempty"`
	Description string `yaml:"description,omitempty"`
	Type        string `yaml:"type,omitempty"`
}

// demoHelm builds the demo chart hello-cloudsmith 1.0.0.
func demoHelm() ([]Package, error) {
	chart := "apiVersion: v2\nname: " + DemoHelmChart + "\nversion: " + DemoHelmVersion +
		"\nappVersion: \"1.0.0\"\ndescription: Demo chart served by the Cloudsmith emulator\ntype: application\n"
	tgz, err := tarGz(buildTime, []struct{ name, body string }{
		{DemoHelmChart + "/Chart.yaml", chart},
		{DemoHelmChart + "/values.yaml", "greeting: Hello from Cloudsmith!\n"},
		{DemoHelmChart + "/templates/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hello\ndata:\n  greeting: {{ .Values.greeting | quote }}\n"},
	})
	if err != nil {
		return nil, err
	}
	p, err := helmPackage(tgz)
	if err != nil {
		return nil, err
	}
	return []Package{p}, nil
}

// helmPackage reads a chart archive's Chart.yaml and makes the package
// that stores it.
func helmPackage(tgz []byte) (Package, error) {
	meta, err := helmChartOf(tgz)
	if err != nil {
		return Package{}, err
	}
	return Package{
		Format: "helm", Name: meta.Name, Version: meta.Version,
		Files:    []File{{Name: meta.Name + "-" + meta.Version + ".tgz", ContentType: "application/gzip", Data: tgz}},
		Metadata: map[string]any{"chart": meta},
	}, nil
}

// helmChartOf reads <chart>/Chart.yaml from a chart archive.
func helmChartOf(tgz []byte) (helmChartMeta, error) {
	var meta helmChartMeta
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return meta, fmt.Errorf("not a gzip chart archive: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return meta, errors.New("the archive has no <chart>/Chart.yaml")
		}
		dir, rest, ok := strings.Cut(h.Name, "/")
		if !ok || dir == "" || rest != "Chart.yaml" {
			continue
		}
		if err := yaml.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&meta); err != nil {
			return meta, fmt.Errorf("reading Chart.yaml: %w", err)
		}
		if meta.Name == "" || meta.Version == "" || meta.APIVersion == "" {
			return meta, errors.New("the chart's Chart.yaml lacks apiVersion, name or version")
		}
		return meta, nil
	}
}

// serveHelm serves charts/index.yaml and charts/{name}-{version}.tgz.
func serveHelm(_ *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError {
	sub, ok := strings.CutPrefix(q.rest, "charts/")
	if !ok {
		return errNotFound
	}
	if sub != "index.yaml" {
		if strings.Contains(sub, "/") {
			return errNotFound
		}
		return serveFile(w, q.packages, sub)
	}
	type entry struct {
		helmChartMeta `yaml:",inline"`
		Created       string   `yaml:"created"`
		Digest        string   `yaml:"digest"`
		URLs          []string `yaml:"urls"`
	}
	index := struct {
		APIVersion string             `yaml:"apiVersion"`
		Entries    map[string][]entry `yaml:"entries"`
		Generated  string             `yaml:"generated"`
	}{APIVersion: "v1", Entries: map[string][]entry{}, Generated: buildTime.Format(time.RFC3339)}
	charts := baseURL(r) + q.base + "charts/"
	// Newest first, as Helm writes an index.
	for i := len(q.packages) - 1; i >= 0; i-- {
		p := q.packages[i]
		meta, _ := p.Metadata["chart"].(helmChartMeta)
		if len(p.Files) == 0 {
			continue
		}
		sum := sha256.Sum256(p.Files[0].Data)
		index.Entries[p.Name] = append(index.Entries[p.Name], entry{
			helmChartMeta: meta, Created: p.UploadedAt.UTC().Format(time.RFC3339),
			Digest: hex.EncodeToString(sum[:]), URLs: []string{charts + p.Files[0].Name},
		})
		if p.UploadedAt.After(buildTime) {
			index.Generated = p.UploadedAt.UTC().Format(time.RFC3339)
		}
	}
	body, err := yaml.Marshal(index)
	if err != nil {
		return &httpError{Status: http.StatusInternalServerError, Detail: err.Error()}
	}
	writeBlob(w, "application/x-yaml", body)
	return nil
}

// tarGz builds a gzipped tar of files, every entry stamped with mtime.
func tarGz(mtime time.Time, files []struct{ name, body string }) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.ModTime = mtime
	tw := tar.NewWriter(gz)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
