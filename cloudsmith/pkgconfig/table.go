package pkgconfig

import (
	"fmt"
	"slices"
	"strings"
)

// This file is the one table of package formats and of the Cloudsmith
// hosts they talk to. The spec's format enum and host keys, its JSON
// schema, cloudsmith-oidc's flags and their help, the rendered jobs'
// host overrides and the vars/ steps' supported formats are all derived
// from it. To add a format: add its Endpoint (if it has a host of its
// own) and its Descriptor below, and write its configure (and publish)
// function.

// Endpoint is one Cloudsmith host a format installs from or uploads to.
type Endpoint struct {
	// Key names the host everywhere: the spec's cloudsmith.<Key>, the key
	// in `jenkins-cloudsmith emulate`'s JSON line, Settings.URLs, and,
	// upper-cased behind CLOUDSMITH_, cloudsmith-oidc's environment
	// variable (see Env, Flag and Arg).
	Key string
	// Default is Cloudsmith's public host.
	Default string
	// Serves says what the host serves, for help texts.
	Serves string
	// Bare marks a host[:port] rather than a URL (Docker's registry).
	Bare bool
}

// Env is cloudsmith-oidc's environment variable for the host:
// CLOUDSMITH_ and the key upper-cased.
func (e Endpoint) Env() string { return "CLOUDSMITH_" + strings.ToUpper(e.Key) }

// Flag is cloudsmith-oidc's flag for the host, without dashes.
func (e Endpoint) Flag() string { return strings.ReplaceAll(e.Key, "_", "-") }

// Arg is the vars/ steps' argument for the host: the key in camelCase
// with "URL" as "Url" (download_url → downloadUrl).
func (e Endpoint) Arg() string {
	parts := strings.Split(e.Key, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

// Host keys of the endpoints in the table.
const (
	APIURL          = "api_url"
	DownloadURL     = "download_url"
	NPMURL          = "npm_url"
	GoURL           = "go_url"
	PythonUploadURL = "python_upload_url"
	MavenUploadURL  = "maven_upload_url"
	CargoURL        = "cargo_url"
	NuGetURL        = "nuget_url"
	DockerRegistry  = "docker_registry"
)

// endpoints lists every host, the API first.
var endpoints = []Endpoint{
	{Key: APIURL, Default: "https://api.cloudsmith.io", Serves: "Cloudsmith API (the OIDC exchange, uploads, the Cloudsmith CLI inside exec)"},
	{Key: DownloadURL, Default: "https://dl.cloudsmith.io", Serves: "download host (Python, Maven, Helm, raw)"},
	{Key: NPMURL, Default: "https://npm.cloudsmith.io", Serves: "npm registry"},
	{Key: GoURL, Default: "https://golang.cloudsmith.io", Serves: "Go module proxy"},
	{Key: PythonUploadURL, Default: "https://python.cloudsmith.io", Serves: "Python upload endpoint (twine)"},
	{Key: MavenUploadURL, Default: "https://maven.cloudsmith.io", Serves: "Maven upload endpoint (mvn deploy)"},
	{Key: CargoURL, Default: "https://cargo.cloudsmith.io", Serves: "Cargo sparse registry"},
	{Key: NuGetURL, Default: "https://nuget.cloudsmith.io", Serves: "NuGet feed"},
	{Key: DockerRegistry, Default: "docker.cloudsmith.io", Serves: "Docker registry, a host[:port]", Bare: true},
}

// Endpoints returns every host setting, the API first, then in the order
// formats use them.
func Endpoints() []Endpoint { return slices.Clone(endpoints) }

// EndpointOf returns the endpoint with key, and whether there is one.
func EndpointOf(key string) (Endpoint, bool) {
	i := slices.IndexFunc(endpoints, func(e Endpoint) bool { return e.Key == key })
	if i < 0 {
		return Endpoint{}, false
	}
	return endpoints[i], true
}

// Descriptor is one package format: its names, the hosts it uses, and how
// it is configured for installs and for uploads.
type Descriptor struct {
	Format Format
	// Aliases are other names cloudsmith-oidc accepts for it (tools that
	// use the format: pip and uv are python).
	Aliases []string
	// Hosts are the keys of the endpoints it uses (installs, then uploads).
	Hosts []string
	// configure writes what installs need; publish what uploads need (nil
	// when uploads need nothing more, or the format has none yet).
	configure, publish func(*plan) error
}

// descriptors is the table of formats, in the order files are written.
var descriptors = []Descriptor{
	{Format: Python, Aliases: []string{"pip", "uv"}, Hosts: []string{DownloadURL, PythonUploadURL}, configure: (*plan).python, publish: (*plan).pythonUpload},
	// npm publish uses the same registry and _authToken as installs.
	{Format: NPM, Hosts: []string{NPMURL}, configure: (*plan).npm},
	{Format: Go, Hosts: []string{GoURL}, configure: (*plan).golang},
	{Format: Maven, Hosts: []string{DownloadURL, MavenUploadURL}, configure: (*plan).maven},
	{Format: Docker, Hosts: []string{DockerRegistry}, configure: (*plan).docker},
	{Format: Cargo, Hosts: []string{CargoURL}, configure: (*plan).cargo},
	{Format: NuGet, Hosts: []string{NuGetURL}, configure: (*plan).nuget},
	// Helm charts and raw files are uploaded through the API, as
	// `cloudsmith push helm|raw` does.
	{Format: Helm, Hosts: []string{DownloadURL, APIURL}, configure: (*plan).helm, publish: (*plan).cloudsmithCLI},
	{Format: Raw, Hosts: []string{DownloadURL, APIURL}, configure: (*plan).raw, publish: (*plan).cloudsmithCLI},
}

// Descriptors returns the table of formats.
func Descriptors() []Descriptor { return slices.Clone(descriptors) }

// All returns every format, in table order.
func All() []Format {
	out := make([]Format, len(descriptors))
	for i, d := range descriptors {
		out[i] = d.Format
	}
	return out
}

// Names returns every format's name, in table order.
func Names() []string {
	out := make([]string, len(descriptors))
	for i, d := range descriptors {
		out[i] = string(d.Format)
	}
	return out
}

// Alias is another name for a format.
type Alias struct{ Name, Format string }

// Aliases returns every alias, in table order.
func Aliases() []Alias {
	var out []Alias
	for _, d := range descriptors {
		for _, a := range d.Aliases {
			out = append(out, Alias{a, string(d.Format)})
		}
	}
	return out
}

// Lookup finds a format by name or alias, in any case.
func Lookup(name string) (Descriptor, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, d := range descriptors {
		if string(d.Format) == name || slices.Contains(d.Aliases, name) {
			return d, true
		}
	}
	return Descriptor{}, false
}

// Usage is a one-line list of the formats and their aliases for help
// texts: "python (pip, uv), npm, go, ...".
func Usage() string {
	var b strings.Builder
	for i, d := range descriptors {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(d.Format))
		if len(d.Aliases) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(d.Aliases, ", "))
		}
	}
	return b.String()
}

func formatList() string { return strings.Join(Names(), ", ") }

func endpointList() string {
	keys := make([]string, len(endpoints))
	for i, e := range endpoints {
		keys[i] = e.Key
	}
	return strings.Join(keys, ", ")
}
