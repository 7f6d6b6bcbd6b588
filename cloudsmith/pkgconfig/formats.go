package pkgconfig

import (
	"encoding/json"
	"fmt"
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
// "cloudsmith". It is written as JSON, which is valid YAML, so escaping is
// encoding/json's.
func (p *plan) helm() error {
	dl, err := p.endpoint(DownloadURL)
	if err != nil {
		return err
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
