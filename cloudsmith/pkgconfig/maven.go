package pkgconfig

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// mavenSettingsNS is the namespace of settings.xml.
const mavenSettingsNS = "http://maven.apache.org/SETTINGS/1.0.0"

// maven writes a settings.xml that is the user's own (~/.m2/settings.xml:
// mirrors, proxies, servers, profiles kept) plus the Cloudsmith server
// (token, preemptive Basic so a deploy is not first sent without
// credentials), a profile adding the repository for dependencies and
// plugins, and "!cloudsmith" added to mirrors of every repository so they
// do not swallow it. Maven reads one user settings file, so it is passed
// with --settings: through MAVEN_ARGS (Maven 3.9+, and the Maven wrapper)
// and, because Maven 3.8 (Debian bookworm's) has no MAVEN_ARGS, through a
// small mvn wrapper put first on PATH that runs the next mvn with -s.
func (p *plan) maven() error {
	dl, err := p.endpoint(DownloadURL)
	if err != nil {
		return err
	}
	up, err := p.endpoint(MavenUploadURL)
	if err != nil {
		return err
	}
	home := p.getenv("HOME")
	var user []byte
	userPath := ""
	if home != "" {
		userPath = filepath.Join(home, ".m2", "settings.xml")
		if user, err = os.ReadFile(userPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("reading your Maven settings %s: %w", userPath, err)
		}
	}
	data, err := mavenSettings(user, dl.join("basic", p.s.Org, p.s.Repo, "maven"), p.tok)
	if err != nil {
		return fmt.Errorf("your Maven settings %s: %w (fix it: Maven would refuse it too)", userPath, err)
	}
	path := p.file("maven/settings.xml", data)
	p.set("CLOUDSMITH_MAVEN_SETTINGS", path)
	// Where `mvn deploy` uploads: -DaltDeploymentRepository=cloudsmith::$CLOUDSMITH_MAVEN_DEPLOY_URL
	// or <distributionManagement> with <id>cloudsmith</id>.
	p.set("CLOUDSMITH_MAVEN_DEPLOY_URL", up.join(p.s.Org, p.s.Repo))
	bin := filepath.Join(p.dir, "maven", "bin")
	p.executable("maven/bin/mvn", []byte(mavenWrapper(bin, path)))
	p.prependPath(bin)
	if strings.ContainsAny(path, " \t\n'\"\\") {
		return nil // Maven splits MAVEN_ARGS on spaces; the wrapper still works.
	}
	args := "--settings " + path
	if prev := strings.TrimSpace(p.getenv("MAVEN_ARGS")); prev != "" {
		args = prev + " " + args
	}
	p.set("MAVEN_ARGS", args)
	return nil
}

// mavenWrapper is a POSIX sh script that takes its own directory off PATH
// and runs the next mvn with the settings. Maven 3.9+ also gets them from
// MAVEN_ARGS; a repeated --settings naming the same file is harmless.
func mavenWrapper(bin, settings string) string {
	return "#!/bin/sh\n" +
		"# Written by cloudsmith-oidc: runs the next mvn on PATH with the Cloudsmith settings\n" +
		"# (Maven before 3.9 reads no MAVEN_ARGS).\n" +
		"self=" + shQuote(bin) + "\n" +
		"set -f; p=; IFS=:\n" +
		"for d in $PATH; do [ \"$d\" = \"$self\" ] || p=\"${p:+$p:}$d\"; done\n" +
		"unset IFS; set +f\n" +
		"PATH=$p; export PATH\n" +
		"exec mvn -s " + shQuote(settings) + " \"$@\"\n"
}

// shQuote quotes s for POSIX sh.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// xnode is a generic XML element: settings.xml is data only (no mixed
// content), so a tree of elements and their text round-trips it.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []*xnode   `xml:",any"`
}

func el(name, text string, children ...*xnode) *xnode {
	return &xnode{XMLName: xml.Name{Local: name}, Text: text, Nodes: children}
}

// child returns the first child called name, adding it when missing.
func (n *xnode) child(name string) *xnode {
	for _, c := range n.Nodes {
		if c.XMLName.Local == name {
			return c
		}
	}
	c := el(name, "")
	n.Nodes = append(n.Nodes, c)
	return c
}

func (n *xnode) text(name string) string {
	for _, c := range n.Nodes {
		if c.XMLName.Local == name {
			return strings.TrimSpace(c.Text)
		}
	}
	return ""
}

// without drops the children whose <id> is id.
func (n *xnode) without(id string) {
	out := n.Nodes[:0]
	for _, c := range n.Nodes {
		if c.text("id") != id && strings.TrimSpace(c.Text) != id {
			out = append(out, c)
		}
	}
	n.Nodes = out
}

// normalise drops namespaces, the whitespace between elements and the
// attributes (all of them, or only namespaced ones when keepAttrs), so the
// tree encodes back cleanly.
// userXML parses a user's configuration file whose root element must be
// root, or starts an empty one when the user has none (user is empty).
func userXML(user []byte, root string, keepAttrs bool) (*xnode, error) {
	if len(bytes.TrimSpace(user)) == 0 {
		return el(root, ""), nil
	}
	n := &xnode{}
	if err := xml.Unmarshal(user, n); err != nil {
		return nil, err
	}
	if n.XMLName.Local != root {
		return nil, fmt.Errorf("the root element is <%s>, not <%s>", n.XMLName.Local, root)
	}
	n.normalise(keepAttrs)
	return n, nil
}

func (n *xnode) normalise(keepAttrs bool) {
	n.XMLName.Space = ""
	if len(n.Nodes) > 0 {
		n.Text = ""
	}
	n.Attrs = slices.DeleteFunc(n.Attrs, func(a xml.Attr) bool { return !keepAttrs || a.Name.Space != "" || a.Name.Local == "xmlns" })
	for _, c := range n.Nodes {
		c.normalise(keepAttrs)
	}
}

// attr returns the value of the attribute called name.
func (n *xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// mavenSettings merges the Cloudsmith server, profile and repository into
// the user's settings.xml (nil for none).
func mavenSettings(user []byte, repoURL, tok string) ([]byte, error) {
	root, err := userXML(user, "settings", false)
	if err != nil {
		return nil, err
	}
	policy := func() []*xnode { return []*xnode{el("enabled", "true")} }
	repo := func(kind string) *xnode {
		return el(kind, "", el("id", RegistryName), el("url", repoURL), el("releases", "", policy()...), el("snapshots", "", policy()...))
	}
	servers := root.child("servers")
	servers.without(RegistryName)
	servers.Nodes = append(servers.Nodes, el("server", "", el("id", RegistryName), el("username", Username), el("password", tok),
		el("configuration", "", el("httpConfiguration", "", el("all", "", el("usePreemptive", "true"))))))
	profiles := root.child("profiles")
	profiles.without(RegistryName)
	profiles.Nodes = append(profiles.Nodes, el("profile", "", el("id", RegistryName),
		el("repositories", "", repo("repository")), el("pluginRepositories", "", repo("pluginRepository"))))
	active := root.child("activeProfiles")
	active.without(RegistryName)
	active.Nodes = append(active.Nodes, el("activeProfile", RegistryName))
	for _, m := range root.child("mirrors").Nodes {
		of := m.child("mirrorOf")
		if mirrorsCloudsmith(of.Text) {
			of.Text = strings.TrimSpace(of.Text) + ",!" + RegistryName
		}
	}
	out, err := xml.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	out = bytes.Replace(out, []byte("<settings>"), []byte(`<settings xmlns="`+mavenSettingsNS+`">`), 1)
	head := xml.Header + "<!-- Written by cloudsmith-oidc: your ~/.m2/settings.xml plus Cloudsmith; holds a short-lived Cloudsmith token. -->\n"
	return append(append([]byte(head), out...), '\n'), nil
}

// mirrorsCloudsmith reports whether a mirrorOf pattern would route the
// cloudsmith repository to the mirror: "*", "external:*" and
// "external:https:*" match any remote repository unless it is excluded.
func mirrorsCloudsmith(mirrorOf string) bool {
	var wild bool
	for _, part := range strings.Split(mirrorOf, ",") {
		switch strings.TrimSpace(part) {
		case "!" + RegistryName:
			return false
		case "*", "external:*", "external:https:*":
			wild = true
		}
	}
	return wild
}
