package pkgconfig

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// docker writes a config.json for DOCKER_CONFIG that is the user's own
// ($DOCKER_CONFIG or ~/.docker: other registries' logins, credential
// helpers, proxies, the current context) plus a login for the registry,
// and links the user's cli-plugins, contexts and buildx state into it, so
// plugins (buildx, compose), contexts and builders keep working. Skopeo,
// podman and buildah read the same file.
func (p *plan) docker() error {
	host := p.hostValue(mustEndpoint(DockerRegistry))
	if strings.ContainsAny(host, "/@ \t\r\n") {
		return fmt.Errorf("docker registry %q must be a host name with an optional port", host)
	}
	own := filepath.Join(p.dir, "docker")
	user := p.getenv("DOCKER_CONFIG")
	if user == "" {
		if home := p.getenv("HOME"); home != "" {
			user = filepath.Join(home, ".docker")
		}
	}
	doc := map[string]json.RawMessage{}
	if user != "" && filepath.Clean(user) != own {
		data, err := os.ReadFile(filepath.Join(user, "config.json"))
		switch {
		case err == nil:
			if err := json.Unmarshal(data, &doc); err != nil {
				return fmt.Errorf("your Docker config %s is not JSON: %w", filepath.Join(user, "config.json"), err)
			}
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("reading your Docker config: %w", err)
		}
		for _, dir := range []string{"cli-plugins", "contexts", "buildx"} {
			if fi, err := os.Stat(filepath.Join(user, dir)); err == nil && fi.IsDir() {
				p.link("docker/"+dir, filepath.Join(user, dir))
			}
		}
	}
	auths := map[string]json.RawMessage{}
	if err := unmarshalKey(doc, "auths", &auths); err != nil {
		return err
	}
	entry, _ := json.Marshal(map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(Username + ":" + p.tok))})
	auths[host] = entry
	doc["auths"], _ = json.Marshal(auths)
	// A credential helper named for the registry, or a credsStore for all
	// of them, would win over auths in the Docker CLI: drop the former and,
	// when there is a store, map the registry to a helper of our own that
	// answers with the token. An empty helper name would mean "the file"
	// to the Docker CLI, but skopeo, podman and buildah (containers/image)
	// run "docker-credential-" for it and fail.
	helpers := map[string]string{}
	if err := unmarshalKey(doc, "credHelpers", &helpers); err != nil {
		return err
	}
	delete(helpers, host)
	var store string
	_ = unmarshalKey(doc, "credsStore", &store)
	if store != "" {
		helpers[host] = dockerHelperName
		p.dockerHelper(host)
	}
	if len(helpers) > 0 {
		doc["credHelpers"], _ = json.Marshal(helpers)
	} else {
		delete(doc, "credHelpers")
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	p.file("docker/config.json", append(data, '\n'))
	p.set("DOCKER_CONFIG", own)
	return nil
}

// dockerHelperName is the credential helper configure maps the registry
// to when the user's config has a credsStore: docker-credential-<name>.
const dockerHelperName = "cloudsmith-oidc"

// dockerHelper writes the credential helper (a POSIX sh script on PATH, as
// Docker and containers/image look helpers up) and the 0600 file it
// answers "get" with, in the docker-credential-helpers protocol.
func (p *plan) dockerHelper(host string) {
	creds, _ := json.Marshal(map[string]string{"ServerURL": host, "Username": Username, "Secret": p.tok})
	file := p.file("docker/credential.json", append(creds, '\n'))
	list, _ := json.Marshal(map[string]string{host: Username})
	p.executable("docker/bin/docker-credential-"+dockerHelperName, []byte("#!/bin/sh\n"+
		"# Written by cloudsmith-oidc: the Docker credential helper of the Cloudsmith registry only\n"+
		"# (config.json maps just that registry to it; the credsStore keeps every other login).\n"+
		"case \"$1\" in\n"+
		"get) cat >/dev/null; exec cat "+shQuote(file)+" ;;\n"+
		"list) printf '%s\\n' "+shQuote(string(list))+" ;;\n"+
		"store|erase) cat >/dev/null ;;\n"+
		"*) echo \"docker-credential-"+dockerHelperName+": unknown action $1\" >&2; exit 1 ;;\n"+
		"esac\n"))
	p.prependPath(filepath.Join(p.dir, "docker", "bin"))
}

// unmarshalKey decodes doc[key] into v when present.
func unmarshalKey(doc map[string]json.RawMessage, key string, v any) error {
	raw, ok := doc[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("your Docker config's %q: %w", key, err)
	}
	return nil
}

// mustEndpoint returns a host the table is known to hold.
func mustEndpoint(key string) Endpoint {
	e, _ := EndpointOf(key)
	return e
}
