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
	// of them, would win over auths in the Docker CLI: drop the former and
	// map the registry to no helper (the file) when there is a store.
	helpers := map[string]string{}
	if err := unmarshalKey(doc, "credHelpers", &helpers); err != nil {
		return err
	}
	delete(helpers, host)
	var store string
	_ = unmarshalKey(doc, "credsStore", &store)
	if store != "" {
		helpers[host] = ""
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
