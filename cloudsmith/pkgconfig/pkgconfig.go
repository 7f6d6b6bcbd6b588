// Package pkgconfig writes package-manager configuration that points pip
// (and uv), npm, Go, Maven, Docker, Cargo, NuGet, Helm and raw downloads at
// a Cloudsmith repository with a Cloudsmith token.
//
// One table (table.go) lists every format (name, aliases, hosts, how it is
// configured for installs and uploads) and every Cloudsmith host (key,
// default, environment variable); the spec, cloudsmith-oidc's flags, the
// rendered jobs and the vars/ steps derive their lists from it.
//
// The token is written only into files (0600, in a 0700 directory,
// replaced atomically) and never into the environment it returns, so the
// "export" lines a step prints can't leak it. Every value is escaped for
// its file's syntax (XML through encoding/xml, JSON through encoding/json,
// TOML and INI by quoting), and the token itself must look like a token
// (see ValidToken) so it can't break out of any of them.
package pkgconfig

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/securefile"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sendrule"
)

// Format is a package format, named as Cloudsmith names it.
type Format string

// The formats configure understands (the table is in table.go).
const (
	Python Format = "python"
	NPM    Format = "npm"
	Go     Format = "go"
	Maven  Format = "maven"
	Docker Format = "docker"
	Cargo  Format = "cargo"
	NuGet  Format = "nuget"
	Helm   Format = "helm"
	Raw    Format = "raw"
)

// Username is the basic-auth user name Cloudsmith's own tools send with a
// token as the password.
const Username = "token"

// RegistryName names the repository in files that need a name (Maven's
// server id, Cargo's registry, NuGet's source, Helm's repo).
const RegistryName = "cloudsmith"

// ParseFormats reads format names from arguments that may each hold a
// comma-separated list ("python,npm"), dropping duplicates.
func ParseFormats(args ...string) ([]Format, error) {
	var out []Format
	for _, a := range args {
		for _, name := range strings.Split(a, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			d, ok := Lookup(name)
			if !ok {
				return nil, fmt.Errorf("unknown format %q (known: %s)", name, Usage())
			}
			f := d.Format
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("name at least one format (%s)", formatList())
	}
	return out, nil
}

// Settings say which repository to use and where Cloudsmith's hosts are.
// Empty URLs mean Cloudsmith's public hosts; overrides serve custom
// domains and emulators.
type Settings struct {
	Org, Repo string

	// URLs overrides hosts by Endpoint key (DownloadURL, NPMURL, ...; the
	// Docker registry is a host[:port]); a missing or empty one is
	// Cloudsmith's public host.
	URLs map[string]string

	// Getenv reads the environment the tools will run in, for the user's
	// own configuration that is merged rather than hidden (HOME's
	// ~/.m2/settings.xml, DOCKER_CONFIG, PATH, GIT_CONFIG_COUNT); nil is
	// os.Getenv.
	Getenv func(string) string

	// CargoIndex is "sparse" (Cargo 1.74+), "git" (older Cargo, e.g.
	// Debian bookworm's 0.66) or "" to choose from `cargo -V`.
	CargoIndex string

	// GoNoSumDB lists module path patterns (GONOSUMDB syntax) that the
	// public checksum database can't know, i.e. private modules. It is
	// deliberately not GOPRIVATE, which would also bypass the proxy.
	GoNoSumDB string
}

// Env is one environment change: set Name to Value, or unset it.
type Env struct {
	Name  string
	Value string
	Unset bool
}

// Result says what Write produced.
type Result struct {
	Dir   string
	Files []string
	// Env points the tools at Dir. It never contains the token.
	Env []Env
	// ExecEnv is what only a child process started by exec gets on top of
	// Env, because a tool reads it from nowhere but its environment (twine
	// 4 reads a password from .pypirc only with --config-file). It may
	// hold the token: never print it.
	ExecEnv []Env
	// Secrets are every form of the token written (the token, base64 of
	// "token:<token>", URL-escaped forms): mask all of them.
	Secrets []string
}

var slugRE = regexp.MustCompile(`^[-a-zA-Z0-9_.]+$`)

// tokenRE is what a Cloudsmith token (a JWT or an API key) is made of. A
// token outside it is refused rather than escaped, because netrc has no
// quoting and npm expands ${...} in .npmrc.
var tokenRE = regexp.MustCompile(`^[A-Za-z0-9._~+/=-]+$`)

// ValidToken reports whether tok can be written safely into every format.
// The error never contains the token.
func ValidToken(tok string) error {
	if tok == "" {
		return fmt.Errorf("the Cloudsmith token is empty")
	}
	if len(tok) > 16<<10 {
		return fmt.Errorf("the Cloudsmith token is implausibly long (%d bytes)", len(tok))
	}
	if !tokenRE.MatchString(tok) {
		return fmt.Errorf("the Cloudsmith token has characters a token never has (whitespace, quotes or control characters); refusing to write it into configuration files")
	}
	return nil
}

// SecretForms returns the encodings of tok that configuration files and
// HTTP requests carry, for masking.
func SecretForms(tok string) []string {
	forms := []string{
		tok,
		base64.StdEncoding.EncodeToString([]byte(Username + ":" + tok)),
		base64.StdEncoding.EncodeToString([]byte(tok)),
		url.QueryEscape(tok),
		url.PathEscape(tok),
		strings.TrimPrefix(url.UserPassword(Username, tok).String(), Username+":"),
	}
	// base64(1) wraps at 76 columns and openssl at 64: each whole line of
	// a wrapped encoding is masked too, so `base64 <<<"$TOKEN"` in a build
	// step does not print it in pieces.
	for _, width := range []int{76, 64} {
		forms = append(forms, wrappedLines(base64.StdEncoding.EncodeToString([]byte(tok)), width)...)
	}
	var out []string
	for _, f := range forms {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// wrappedLines returns enc cut into lines of width, leaving out a last line
// too short to mask without masking ordinary text.
func wrappedLines(enc string, width int) []string {
	if len(enc) <= width {
		return nil
	}
	var out []string
	for len(enc) > 0 {
		n := min(width, len(enc))
		if n >= 16 {
			out = append(out, enc[:n])
		}
		enc = enc[n:]
	}
	return out
}

// endpoint is a parsed, validated host URL.
type endpoint struct{ u *url.URL }

// endpoint returns the host with key, validated.
func (p *plan) endpoint(key string) (endpoint, error) {
	e, ok := EndpointOf(key)
	if !ok {
		return endpoint{}, fmt.Errorf("pkgconfig: no host %q in the table", key)
	}
	return parseEndpoint(e.Key+" ("+e.Env()+")", p.hostValue(e))
}

// hostValue is the Settings' value for e, else its default.
func (p *plan) hostValue(e Endpoint) string {
	if v := strings.TrimSpace(p.s.URLs[e.Key]); v != "" {
		return v
	}
	return e.Default
}

func parseEndpoint(what, raw string) (endpoint, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return endpoint{}, fmt.Errorf("%s %q is not a URL: %w", what, raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return endpoint{}, fmt.Errorf("%s %q must be an absolute https:// URL", what, raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return endpoint{}, fmt.Errorf("%s must be a plain base URL without credentials, query or fragment", what)
	}
	if err := sendrule.Check(u, what, "token"); err != nil {
		return endpoint{}, err
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return endpoint{u}, nil
}

// join returns the URL with path segments appended and a trailing slash.
func (e endpoint) join(segments ...string) string {
	u := *e.u
	u.Path = u.Path + "/" + strings.Join(segments, "/") + "/"
	return u.String()
}

// withUser returns the URL with token basic-auth userinfo.
func withUser(raw, tok string) string {
	u, _ := url.Parse(raw)
	u.User = url.UserPassword(Username, tok)
	return u.String()
}

// plan holds everything resolved before any file is written.
type plan struct {
	s     Settings
	tok   string
	dir   string
	files map[string][]byte // relative path → content
	order []string
	execs map[string]bool   // files written executable (0700)
	links map[string]string // relative path → symlink target
	env   []Env
	exec  []Env    // Result.ExecEnv
	netrc []string // hosts ("host" and "host:port") to list in netrc
}

func (p *plan) file(rel string, data []byte) string {
	if _, ok := p.files[rel]; !ok {
		p.order = append(p.order, rel)
	}
	p.files[rel] = data
	return filepath.Join(p.dir, filepath.FromSlash(rel))
}

// executable is file for a script the tools run.
func (p *plan) executable(rel string, data []byte) string {
	if p.execs == nil {
		p.execs = map[string]bool{}
	}
	p.execs[rel] = true
	return p.file(rel, data)
}

// link makes rel a symbolic link to target (the user's own directory).
func (p *plan) link(rel, target string) {
	if p.links == nil {
		p.links = map[string]string{}
	}
	p.links[rel] = target
}

func (p *plan) getenv(name string) string {
	if p.s.Getenv != nil {
		return p.s.Getenv(name)
	}
	return os.Getenv(name)
}

func (p *plan) set(name, value string) {
	for i, e := range p.env {
		if e.Name == name {
			p.env[i] = Env{Name: name, Value: value}
			return
		}
	}
	p.env = append(p.env, Env{Name: name, Value: value})
}

// prependPath puts dir first on PATH (the PATH this plan sets already, or
// the caller's), for the wrappers and helpers the tools run.
func (p *plan) prependPath(dir string) {
	prev := p.getenv("PATH")
	for _, e := range p.env {
		if e.Name == "PATH" {
			prev = e.Value
		}
	}
	if prev != "" {
		dir += string(os.PathListSeparator) + prev
	}
	p.set("PATH", dir)
}

// setExec adds a variable only exec's child gets (see Result.ExecEnv).
func (p *plan) setExec(name, value string) {
	p.exec = append(p.exec, Env{Name: name, Value: value})
}

func (p *plan) unset(names ...string) {
	for _, n := range names {
		if !slices.ContainsFunc(p.env, func(e Env) bool { return e.Name == n }) {
			p.env = append(p.env, Env{Name: n, Unset: true})
		}
	}
}

// addNetrc lists u's host, with and without its port: curl, pip and uv
// match the bare host name, while the go command (1.24+) matches
// "host:port" when the URL has a port.
func (p *plan) addNetrc(u *url.URL) {
	for _, h := range []string{u.Host, u.Hostname()} {
		if !slices.Contains(p.netrc, h) {
			p.netrc = append(p.netrc, h)
		}
	}
}

// netrcFile is the netrc NETRC names: the go command and Python's
// requests (pip, twine) then read it instead of the user's ($NETRC or
// ~/.netrc), so the user's entries are kept, between two copies of ours:
// the first entry for a host wins in the go command and curl, the last in
// Python's netrc module. A blank line ends any macdef the user's file
// leaves open.
func (p *plan) netrcFile(dir string) ([]byte, error) {
	var ours strings.Builder
	for _, h := range p.netrc {
		fmt.Fprintf(&ours, "machine %s login %s password %s\n", h, Username, p.tok)
	}
	user := p.getenv("NETRC")
	if user == "" {
		if home := p.getenv("HOME"); home != "" {
			user = filepath.Join(home, ".netrc")
		}
	}
	if user == "" || filepath.Clean(user) == filepath.Join(dir, "netrc") {
		return []byte(ours.String()), nil
	}
	data, err := os.ReadFile(user)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(bytes.TrimSpace(data)) == 0 {
		return []byte(ours.String()), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading your netrc %s: %w", user, err)
	}
	// No comment line: the go command's netrc parser has no comments.
	out := append(append([]byte(ours.String()), '\n'), data...)
	if !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	return append(append(out, '\n'), ours.String()...), nil
}

// Write writes the configuration for formats into dir (created 0700; files
// 0600, each replaced atomically) and returns the environment that points
// the tools at it. Nothing is written unless every input is valid.
func Write(dir, tok string, s Settings, formats []Format) (*Result, error) {
	if err := ValidToken(tok); err != nil {
		return nil, err
	}
	if !slugRE.MatchString(s.Org) {
		return nil, fmt.Errorf("org %q is not a Cloudsmith slug (letters, digits, - and _): set --org or CLOUDSMITH_ORG", s.Org)
	}
	if !slugRE.MatchString(s.Repo) {
		return nil, fmt.Errorf("repository %q is not a Cloudsmith slug (letters, digits, - and _): set --repo or CLOUDSMITH_REPO", s.Repo)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p := &plan{s: s, tok: tok, dir: abs, files: map[string][]byte{}}
	p.set("CLOUDSMITH_CONFIG_DIR", abs)
	for key := range s.URLs {
		if _, ok := EndpointOf(key); !ok {
			return nil, fmt.Errorf("unknown Cloudsmith host %q (known: %s)", key, endpointList())
		}
	}
	for _, f := range formats {
		d, ok := Lookup(string(f))
		if !ok {
			return nil, fmt.Errorf("unknown format %q (known: %s)", f, formatList())
		}
		err := d.configure(p)
		if err == nil && d.publish != nil {
			err = d.publish(p)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	if len(p.netrc) > 0 {
		data, err := p.netrcFile(abs)
		if err != nil {
			return nil, err
		}
		p.set("NETRC", p.file("netrc", data))
	}

	if err := securefile.MkdirPrivate(abs); err != nil {
		return nil, err
	}
	res := &Result{Dir: abs, Env: p.env, ExecEnv: p.exec, Secrets: SecretForms(tok)}
	for _, rel := range p.order {
		path := filepath.Join(abs, filepath.FromSlash(rel))
		if sub := filepath.Dir(path); sub != abs {
			if err := securefile.MkdirPrivate(sub); err != nil {
				return nil, err
			}
		}
		if err := securefile.WriteFile(path, p.files[rel]); err != nil {
			return nil, err
		}
		if p.execs[rel] {
			// A script the tools run: still private to the user.
			if err := os.Chmod(path, 0o700); err != nil {
				return nil, err
			}
		}
		res.Files = append(res.Files, path)
	}
	for _, rel := range slices.Sorted(maps.Keys(p.links)) {
		path := filepath.Join(abs, filepath.FromSlash(rel))
		if err := securefile.MkdirPrivate(filepath.Dir(path)); err != nil {
			return nil, err
		}
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink == 0 {
			return nil, fmt.Errorf("%s exists and is not a link", path)
		}
		_ = os.Remove(path)
		if err := os.Symlink(p.links[rel], path); err != nil {
			return nil, fmt.Errorf("linking %s to your %s: %w", path, p.links[rel], err)
		}
	}
	return res, nil
}
