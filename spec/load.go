package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds what Load reads: a spec is a few kilobytes; anything
// near this is a mistake (or an attack) and is refused before parsing.
const MaxFileSize = 8 << 20

// Options tune Load and Parse.
type Options struct {
	// Offline checks ${VAR} references' syntax without reading the
	// environment: secrets come back with an empty Value. For validate
	// --offline and offline rendering; never use the result to connect.
	Offline bool

	// files makes the checker look for the local files the spec names
	// (CA bundles, templates_dir) relative to the spec file; only Load
	// sets it, since Parse has no file to be relative to.
	files bool
}

// Load reads, parses and validates the spec at path. On a spec problem the
// error is Errors (every problem, each with file:line:col and a fix); on an
// unreadable file it is the wrapped I/O error. getenv resolves ${VAR}
// secrets (os.Getenv in production).
func Load(path string, getenv func(string) string) (*Spec, error) {
	return LoadWith(path, getenv, Options{})
}

// LoadWith is Load with options.
func LoadWith(path string, getenv func(string) string, opts Options) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the spec file: %w (pass its path with -f)", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read spec %s: %w", path, err)
	}
	opts.files = true
	return ParseWith(path, data, getenv, opts)
}

// Parse is Load on bytes already read; name is used in messages.
func Parse(name string, data []byte, getenv func(string) string) (*Spec, error) {
	return ParseWith(name, data, getenv, Options{})
}

// ParseWith is Parse with options.
func ParseWith(name string, data []byte, getenv func(string) string, opts Options) (*Spec, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	errs := &errList{file: name}
	root := parseYAML(errs, data)
	if root == nil {
		return nil, errs.result()
	}
	s := &Spec{File: name}
	d := &decoder{errs: errs, getenv: getenv, offline: opts.Offline, pos: map[string]Pos{}, keys: map[string]Pos{}, refs: map[string]string{}, typed: map[string]json.RawMessage{}}
	d.pos[""] = nodePos(root)
	if !d.structure(root, "", reflect.ValueOf(s).Elem()) {
		return nil, errs.result()
	}
	s.Jenkins.UserRef = d.refs["jenkins.user"]
	s.Cloudsmith.Provider.ClaimJSON = d.typedUnder("cloudsmith.provider.claims.")
	c := &checker{errs: errs, pos: d.pos, keys: d.keys}
	c.spec(s)
	if opts.files {
		c.localFiles(s)
	}
	if err := errs.result(); err != nil {
		return nil, err
	}
	s.Warnings = c.warnings
	applyDefaults(s)
	return s, nil
}

// applyDefaults fills what the file may leave out, after validation so
// messages point at what the user wrote.
func applyDefaults(s *Spec) {
	if s.OIDC.Kind == "" {
		s.OIDC.Kind = KindString
	}
	if s.Binary.Path == "" && s.Binary.URL == "" && len(s.Binary.Platforms) == 0 {
		s.Binary.Path = DefaultBinaryPath
	}
	for i := range s.Jobs {
		j := &s.Jobs[i]
		if j.Repo == "" {
			j.Repo = s.Defaults.Repo
		}
		if len(j.Formats) == 0 {
			j.Formats = append([]string(nil), s.Defaults.Formats...)
		}
	}
}

// DefaultBinaryPath is used when the spec has no binary: section: the step
// binary is expected on the agents' PATH.
const DefaultBinaryPath = "cloudsmith-oidc"

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML checks the raw bytes, parses exactly one document and returns
// its root node, or nil after recording why not.
func parseYAML(errs *errList, data []byte) *yaml.Node {
	first := Pos{Line: 1, Column: 1}
	if len(data) > MaxFileSize {
		errs.add(first, "", "split the file or remove generated content; a spec is normally a few kilobytes",
			"file is larger than %d bytes", MaxFileSize)
		return nil
	}
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		errs.add(first, "", "save the file as UTF-8", "file is UTF-16 encoded")
		return nil
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")) // a UTF-8 BOM is harmless
	if !scanRaw(errs, data) {
		return nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		errs.add(first, "", "start from `version: 1` with jenkins:, cloudsmith:, oidc: and jobs: (see `jenkins-cloudsmith schema`)",
			"file is empty")
		return nil
	}
	docs, err := decodeDocs(data)
	if err != nil {
		syntaxError(errs, data, err)
		return nil
	}
	switch {
	case len(docs) == 0 || docs[0].Kind != yaml.DocumentNode || len(docs[0].Content) == 0:
		errs.add(first, "", "start from `version: 1` with jenkins:, cloudsmith:, oidc: and jobs:", "file has no content (only comments)")
		return nil
	case len(docs) > 1:
		errs.add(nodePos(docs[1]), "", "keep one spec per file; remove the second '---' document", "file has more than one YAML document")
		return nil
	}
	root := docs[0].Content[0]
	if root.Kind != yaml.MappingNode {
		if root.Kind == yaml.AliasNode {
			errs.add(nodePos(root), "", "write the spec out", "YAML aliases are not supported")
			return nil
		}
		errs.add(nodePos(root), "", "the top level is keys: version:, jenkins:, cloudsmith:, oidc:, jobs:",
			"expected a mapping of keys at the top level, got %s", kindName(root))
		return nil
	}
	return root
}

// decodeDocs parses every document. yaml.v3 is third-party code fed
// hostile input; a panic in it becomes an error instead of a crash.
func decodeDocs(data []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for len(docs) < 2 {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, err
		}
		docs = append(docs, &n)
	}
	return docs, nil
}

// scanRaw reports, with exact positions, the byte-level problems the YAML
// parser would only describe vaguely: invalid UTF-8 and control characters.
func scanRaw(errs *errList, data []byte) bool {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		at := Pos{Line: line, Column: col}
		switch {
		case r == utf8.RuneError && size <= 1:
			errs.add(at, "", "save the file as UTF-8", "invalid UTF-8 byte 0x%02X", data[i])
			return false
		case r == '\n':
			line, col = line+1, 0
		case r == '\t' || r == '\r':
		case r < 0x20 || r == 0x7f:
			errs.add(at, "", "remove it; write \"\\u00XX\" inside double quotes if the value really needs it",
				"control character %U in the file", r)
			return false
		}
		i += size
		col++
	}
	return true
}

// syntaxError turns a yaml.v3 parse error into a positioned Error, with a
// precise position for the common case of tab indentation.
func syntaxError(errs *errList, data []byte, err error) {
	for i, l := range strings.Split(string(data), "\n") {
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if j := strings.IndexByte(indent, '\t'); j >= 0 && strings.TrimSpace(l) != "" {
			errs.add(Pos{Line: i + 1, Column: j + 1}, "", "indent with spaces; YAML does not allow tabs for indentation",
				"tab character used for indentation")
			return
		}
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	at := Pos{Line: 1, Column: 1}
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	// yaml.v3 reports some flow-collection errors a line early (or with no
	// line at all); the first prefix of the file that no longer parses ends
	// on the culprit, so take the later of the two.
	if n := firstFailingLine(data); n > line {
		line = n
	}
	if line > 0 {
		at = Pos{Line: line, Column: firstNonSpace(data, line)}
	}
	errs.add(at, "", "check indentation and quoting on this line and the one before; quote values containing ': ', ' #' or starting with one of [ ] { } & * ! | > ' \" % @ `, and ${...} inside { } or [ ]",
		"YAML syntax error: %s", msg)
}

func firstNonSpace(data []byte, line int) int {
	lines := strings.Split(string(data), "\n")
	if line > len(lines) {
		return 1
	}
	l := lines[line-1]
	return utf8.RuneCountInString(l[:len(l)-len(strings.TrimLeft(l, " \t"))]) + 1
}

// maxScanLines bounds firstFailingLine's work on the error path.
const maxScanLines = 2000

// firstFailingLine returns the 1-based number of the first line whose
// prefix of the file fails to parse, or 0 when none does within
// maxScanLines. A multi-line flow collection left open makes every prefix
// inside it fail, so this names the line where it starts: still the place
// to look.
func firstFailingLine(data []byte) int {
	lines := strings.SplitAfter(string(data), "\n")
	var prefix strings.Builder
	for i, l := range lines {
		if i >= maxScanLines {
			return 0
		}
		prefix.WriteString(l)
		var n yaml.Node
		if yaml.Unmarshal([]byte(prefix.String()), &n) != nil {
			return i + 1
		}
	}
	return 0
}
