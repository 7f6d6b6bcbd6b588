package pkgconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// python writes pip.conf (pip reads PIP_CONFIG_FILE) with the token in the
// index URL, as Cloudsmith documents, and lists the host in netrc for uv,
// which is pointed at the same index without credentials.
func (p *plan) python() error {
	dl, err := p.endpoint(DownloadURL)
	if err != nil {
		return err
	}
	index := dl.join("basic", p.s.Org, p.s.Repo, "python", "simple")
	ours := [][2]string{{"index-url", withUser(index, p.tok)}}
	if dl.u.Scheme == "http" {
		// pip refuses plain-http indexes unless trusted; parseEndpoint
		// only lets http through for loopback hosts.
		ours = append(ours, [2]string{"trusted-host", dl.u.Host})
	}
	// PIP_CONFIG_FILE makes pip skip the user's own files: their settings
	// (proxy, cert, timeout, ...) are merged in, their indexes dropped.
	users, err := p.pipUserConfigs()
	if err != nil {
		return fmt.Errorf("reading your pip configuration: %w", err)
	}
	p.set("PIP_CONFIG_FILE", p.file("pip.conf", []byte(mergePipConfig(users, ours))))
	// Environment beats the config file in pip and uv: drop inherited
	// index settings so the Cloudsmith index is the one used.
	p.unset("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX")
	p.set("UV_DEFAULT_INDEX", index)
	p.addNetrc(dl.u)
	return nil
}

// npm writes an npmrc (read through NPM_CONFIG_USERCONFIG) with the
// registry and a _authToken scoped to exactly that registry path.
func (p *plan) npm() error {
	e, err := p.endpoint(NPMURL)
	if err != nil {
		return err
	}
	reg := e.join(p.s.Org, p.s.Repo)
	nerf := strings.TrimPrefix(strings.TrimPrefix(reg, "https:"), "http:") // "//host/org/repo/"
	var b strings.Builder
	b.WriteString("; Written by cloudsmith-oidc: holds a short-lived Cloudsmith token.\n")
	fmt.Fprintf(&b, "registry=%s\n", reg)
	fmt.Fprintf(&b, "%s:_authToken=%s\n", nerf, p.tok)
	// Yarn classic sends the token for unscoped packages only with
	// always-auth (Cloudsmith's npm page, "Using Yarn with Cloudsmith").
	// It goes in Yarn's own variable: npm 9+ dropped the setting and
	// warns about it in an npmrc or npm_config_* on every command. Yarn
	// still sends the token only to the registry it is scoped to.
	p.set("YARN_ALWAYS_AUTH", "true")
	p.set("NPM_CONFIG_USERCONFIG", p.file("npmrc", []byte(b.String())))
	p.unset("NPM_CONFIG_REGISTRY", "npm_config_registry")
	return nil
}

// pythonUpload sets up twine (and uv) uploads to Cloudsmith's Python
// upload endpoint. The pypirc holds it as repository "cloudsmith" with the
// token, for `twine upload --config-file "$CLOUDSMITH_PYPIRC" -r cloudsmith`
// (twine has no variable naming a config file). Inside exec, plain
// `twine upload` and `uv publish` work: the child gets TWINE_* and
// UV_PUBLISH_* (twine 4 reads a password only from the environment, a
// config file or a keyring).
func (p *plan) pythonUpload() error {
	e, err := p.endpoint(PythonUploadURL)
	if err != nil {
		return err
	}
	repo := e.join(p.s.Org, p.s.Repo)
	var b strings.Builder
	b.WriteString("# Written by cloudsmith-oidc: holds a short-lived Cloudsmith token.\n")
	b.WriteString("[distutils]\nindex-servers =\n    " + RegistryName + "\n\n")
	fmt.Fprintf(&b, "[%s]\nrepository = %s\nusername = %s\npassword = %s\n", RegistryName, repo, Username, p.tok)
	p.set("CLOUDSMITH_PYPIRC", p.file("pypirc", []byte(b.String())))
	p.setExec("TWINE_REPOSITORY_URL", repo)
	p.setExec("TWINE_USERNAME", Username)
	p.setExec("TWINE_PASSWORD", p.tok)
	p.setExec("UV_PUBLISH_URL", repo)
	p.setExec("UV_PUBLISH_USERNAME", Username)
	p.setExec("UV_PUBLISH_PASSWORD", p.tok)
	return nil
}

// cloudsmithCLI sets up the Cloudsmith CLI, which uploads Helm charts and
// raw files (`cloudsmith push helm|raw OWNER/REPO FILE`): its
// credentials.ini (CLOUDSMITH_CREDENTIALS_FILE) holds the token and
// CLOUDSMITH_API_HOST names the API. Its config.ini (other settings) is
// left alone.
func (p *plan) cloudsmithCLI() error {
	api, err := p.endpoint(APIURL)
	if err != nil {
		return err
	}
	creds := "# Written by cloudsmith-oidc: holds a short-lived Cloudsmith token.\n[default]\napi_key = " + p.tok + "\n"
	p.set("CLOUDSMITH_CREDENTIALS_FILE", p.file("cloudsmith/credentials.ini", []byte(creds)))
	p.set("CLOUDSMITH_API_HOST", strings.TrimSuffix(api.u.String(), "/"))
	return nil
}

// golang points GOPROXY at the repository (without credentials) and puts
// the token in netrc, which the go command reads (NETRC) for https only:
// it never sends credentials over plain http, not even a GOPROXY's
// userinfo, so a plain-http Go URL is refused rather than left to fail
// with a puzzling 401.
func (p *plan) golang() error {
	e, err := p.endpoint(GoURL)
	if err != nil {
		return err
	}
	if e.u.Scheme != "https" {
		return fmt.Errorf("the Go URL %s is plain http, and the go command never sends credentials over http: serve the Go proxy over https (an emulator too, trusted through SSL_CERT_FILE)", e.u.Redacted())
	}
	p.set("GOPROXY", e.join(p.s.Org, p.s.Repo))
	p.addNetrc(e.u)
	if p.s.GoNoSumDB != "" {
		if strings.ContainsAny(p.s.GoNoSumDB, " \t\r\n'\"") {
			return fmt.Errorf("GONOSUMDB patterns %q must be comma-separated without spaces or quotes", p.s.GoNoSumDB)
		}
		p.set("GONOSUMDB", p.s.GoNoSumDB)
	}
	return nil
}

// helm writes a repositories.yaml (HELM_REPOSITORY_CONFIG) with a repo
// "cloudsmith". Without a file of the user's it is written as JSON, which
// is valid YAML, so escaping is encoding/json's. With one (their
// HELM_REPOSITORY_CONFIG, else repositories.yaml in HELM_CONFIG_HOME,
// $XDG_CONFIG_HOME/helm or ~/.config/helm, as helm's helmpath finds it),
// HELM_REPOSITORY_CONFIG would hide their other repositories, so the file
// is theirs with the cloudsmith entry put in place of any of that name.
func (p *plan) helm() error {
	dl, err := p.endpoint(DownloadURL)
	if err != nil {
		return err
	}
	if user := p.helmUserRepositories(); user != "" && filepath.Clean(user) != filepath.Join(p.dir, "helm", "repositories.yaml") {
		data, err := os.ReadFile(user)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("reading your Helm repositories %s: %w", user, err)
		}
		if err == nil && len(bytes.TrimSpace(data)) > 0 {
			out, err := helmRepositories(data, [][2]any{{"name", RegistryName}, {"url", dl.join("basic", p.s.Org, p.s.Repo, "helm", "charts")},
				{"username", Username}, {"password", p.tok}, {"caFile", ""}, {"certFile", ""}, {"keyFile", ""},
				{"insecure_skip_tls_verify", false}, {"pass_credentials_all", false}})
			if err != nil {
				return fmt.Errorf("your Helm repositories %s: %w", user, err)
			}
			p.set("HELM_REPOSITORY_CONFIG", p.file("helm/repositories.yaml", out))
			return nil
		}
	}
	doc := map[string]any{
		"apiVersion": "",
		"generated":  "0001-01-01T00:00:00Z",
		"repositories": []map[string]any{{
			"name":                     RegistryName,
			"url":                      dl.join("basic", p.s.Org, p.s.Repo, "helm", "charts"),
			"username":                 Username,
			"password":                 p.tok,
			"caFile":                   "",
			"certFile":                 "",
			"keyFile":                  "",
			"insecure_skip_tls_verify": false,
			"pass_credentials_all":     false,
		}},
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	p.set("HELM_REPOSITORY_CONFIG", p.file("helm/repositories.yaml", append(data, '\n')))
	return nil
}

// helmUserRepositories is where helm would read the user's
// repositories.yaml ("" when there is no home to look in).
func (p *plan) helmUserRepositories() string {
	if v := p.getenv("HELM_REPOSITORY_CONFIG"); v != "" {
		return v
	}
	if v := p.getenv("HELM_CONFIG_HOME"); v != "" {
		return filepath.Join(v, "repositories.yaml")
	}
	if v := p.getenv("XDG_CONFIG_HOME"); v != "" {
		return filepath.Join(v, "helm", "repositories.yaml")
	}
	if home := p.getenv("HOME"); home != "" {
		return filepath.Join(home, ".config", "helm", "repositories.yaml")
	}
	return ""
}

// helmRepositories puts entry (keys and values, written as JSON scalars,
// which YAML reads alike) into the block list under the top-level
// "repositories:" of a repositories.yaml as helm writes it, dropping the
// items named like it; the rest of the file is kept as it is. The agent
// binary links no YAML parser, so a list in flow style is refused.
func helmRepositories(user []byte, entry [][2]any) ([]byte, error) {
	lines := strings.SplitAfter(string(user), "\n")
	if !strings.HasSuffix(lines[len(lines)-1], "\n") {
		lines[len(lines)-1] += "\n"
	}
	start := -1
	for i, l := range lines {
		if k, v, ok := strings.Cut(strings.TrimRight(l, " \r\n"), ":"); ok && k == "repositories" {
			if v = strings.TrimSpace(v); v != "" && v != "[]" && v != "null" && v != "~" {
				return nil, fmt.Errorf("its repositories list is not a block list as helm writes it (rewrite it with helm repo add)")
			}
			lines[i] = "repositories:\n"
			start = i
		}
	}
	if start < 0 {
		lines = append(lines, "repositories:\n")
		start = len(lines) - 1
	}
	// The list: its items ("- " at one indentation) with their deeper
	// continuation lines, blank lines and comments, up to the next line
	// that is none of these (a later top-level key).
	indent, end := "", start+1
	isItem := func(l string) bool { t := strings.TrimLeft(l, " "); return strings.HasPrefix(t, "- ") || t == "-\n" }
	for first := true; end < len(lines); end++ {
		t := strings.TrimLeft(lines[end], " ")
		pad := lines[end][:len(lines[end])-len(t)]
		switch {
		case t == "\n" || strings.HasPrefix(t, "#"):
			continue
		case first && isItem(lines[end]):
			indent, first = pad, false
			continue
		case !first && (pad == indent && isItem(lines[end]) || len(pad) > len(indent)):
			continue
		}
		break
	}
	var name string
	for _, kv := range entry {
		if kv[0] == "name" {
			name, _ = kv[1].(string)
		}
	}
	var items [][]string
	for _, l := range lines[start+1 : end] {
		if strings.HasPrefix(l, indent+"- ") || l == indent+"-\n" || len(items) == 0 {
			items = append(items, nil)
		}
		items[len(items)-1] = append(items[len(items)-1], l)
	}
	var out []string
	for _, it := range items {
		if !helmItemNamed(it, indent, name) {
			out = append(out, it...)
		}
	}
	for i, kv := range entry {
		v, _ := json.Marshal(kv[1])
		lead := indent + "  "
		if i == 0 {
			lead = indent + "- "
		}
		out = append(out, lead+kv[0].(string)+": "+string(v)+"\n")
	}
	res := append(append(append([]string{}, lines[:start+1]...), out...), lines[end:]...)
	return []byte(strings.Join(res, "")), nil
}

// helmItemNamed reports whether a list item's lines hold "name: NAME"
// (plain or quoted) at the item's own level.
func helmItemNamed(item []string, indent, name string) bool {
	for i, l := range item {
		var rest string
		var ok bool
		if i == 0 {
			rest, ok = strings.CutPrefix(l, indent+"- ")
		} else {
			rest, ok = strings.CutPrefix(l, indent+"  ")
			ok = ok && !strings.HasPrefix(rest, " ")
		}
		if v, isName := strings.CutPrefix(strings.TrimSpace(rest), "name:"); ok && isName {
			v = strings.TrimSpace(v)
			if v == name || v == `"`+name+`"` || v == "'"+name+"'" {
				return true
			}
		}
	}
	return false
}

// raw lists the download host in netrc (curl --netrc-file "$NETRC") and
// exports the files base URL.
func (p *plan) raw() error {
	dl, err := p.endpoint(DownloadURL)
	if err != nil {
		return err
	}
	p.addNetrc(dl.u)
	p.set("CLOUDSMITH_RAW_URL", dl.join("basic", p.s.Org, p.s.Repo, "raw", "files"))
	return nil
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
