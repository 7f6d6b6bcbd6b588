package pkgconfig

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// nuget writes a NuGet.Config with the v3 source and its credentials.
// NuGet has no environment variable for a config file: pass
// --configfile "$CLOUDSMITH_NUGET_CONFIG" (restore, and push with
// -s cloudsmith: NuGet sends the source's credentials, which Cloudsmith
// takes as well as an API key). With --configfile NuGet reads that file
// only, so it is the user's own NuGet.Config (~/.nuget/NuGet/NuGet.Config,
// or Mono's ~/.config/NuGet/NuGet.Config: other sources, their
// credentials, proxies) plus the cloudsmith source; a project's own
// nuget.config is not read with it.
func (p *plan) nuget() error {
	e, err := p.endpoint(NuGetURL)
	if err != nil {
		return err
	}
	src := strings.TrimSuffix(e.join(p.s.Org, p.s.Repo, "v3"), "/") + "/index.json"
	var user []byte
	userPath := ""
	if home := p.getenv("HOME"); home != "" {
		for _, rel := range []string{".nuget/NuGet/NuGet.Config", ".config/NuGet/NuGet.Config"} {
			path := filepath.Join(home, filepath.FromSlash(rel))
			data, err := os.ReadFile(path)
			if err == nil {
				user, userPath = data, path
				break
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("reading your NuGet config %s: %w", path, err)
			}
		}
	}
	data, err := nugetConfig(user, src, p.tok)
	if err != nil {
		return fmt.Errorf("your NuGet config %s: %w (fix it: NuGet would refuse it too)", userPath, err)
	}
	p.set("CLOUDSMITH_NUGET_CONFIG", p.file("NuGet.Config", data))
	p.set("CLOUDSMITH_NUGET_SOURCE", src)
	return nil
}

// nugetConfig merges the cloudsmith source and its credentials into the
// user's NuGet.Config (nil for none), replacing a cloudsmith source there.
func nugetConfig(user []byte, src, tok string) ([]byte, error) {
	root, err := userXML(user, "configuration", true)
	if err != nil {
		return nil, err
	}
	add := func(key, value string, more ...xml.Attr) *xnode {
		n := el("add", "")
		n.Attrs = append([]xml.Attr{{Name: xml.Name{Local: "key"}, Value: key}, {Name: xml.Name{Local: "value"}, Value: value}}, more...)
		return n
	}
	sources := root.child("packageSources")
	sources.Nodes = slices.DeleteFunc(sources.Nodes, func(n *xnode) bool { return n.attr("key") == RegistryName })
	sources.Nodes = append(sources.Nodes, add(RegistryName, src, xml.Attr{Name: xml.Name{Local: "protocolVersion"}, Value: "3"}))
	creds := root.child("packageSourceCredentials")
	creds.Nodes = slices.DeleteFunc(creds.Nodes, func(n *xnode) bool { return n.XMLName.Local == RegistryName })
	creds.Nodes = append(creds.Nodes, el(RegistryName, "", add("Username", Username), add("ClearTextPassword", tok)))
	out, err := xml.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	head := xml.Header + "<!-- Written by cloudsmith-oidc: your NuGet.Config plus Cloudsmith; holds a short-lived Cloudsmith token. -->\n"
	return append(append([]byte(head), out...), '\n'), nil
}
