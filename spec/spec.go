// Package spec is the model of jenkins-cloudsmith's one YAML file: what
// Jenkins (and optionally Cloudsmith) should look like. Load parses and
// validates it strictly, reporting every problem at once with file:line:col.
//
// Data flows spec → render → plan → apply: nothing downstream re-reads YAML
// or the environment; secrets are resolved here, once, into Secret values
// that refuse to print themselves.
//
// Rules worth knowing (the full list is in validate.go and the schema):
//   - Secrets (jenkins.token, cloudsmith.api_key) must be exactly "${VAR}";
//     a literal is an error (never echoed), and an unset or empty VAR is an
//     error naming the variable and the field.
//   - Nothing else is expanded. Free text (job description, steps, label,
//     oidc.description, provider name and claims) is passed through byte for
//     byte, "${", triple quotes and "]]>" included: the renderer escapes it. In
//     identifiers, URLs and paths "${" is an error, because a user writing
//     it expects an expansion that would not happen.
//   - YAML aliases and merge keys are refused (no expansion, no "billion
//     laughs"); one document per file; unknown and duplicate keys are errors.
//   - Job names follow Jenkins.checkGoodName per '/'-separated segment and
//     are unique case-insensitively, as Jenkins' item maps are
//     (CopyOnWriteMap.Tree with CaseInsensitiveComparator).
//   - Control characters are refused everywhere except newline and tab in
//     descriptions and steps.
package spec

import (
	"encoding/json"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
)

// Version is the only spec format version this build understands.
const Version = 1

// Spec is a whole, validated spec file.
type Spec struct {
	Version int `yaml:"version" json:"version"`
	// ID names this spec in Jenkins: the jobs, folders and credential it
	// creates carry it in their managed marker, so that another spec's
	// prune, plan and --adopt leave them alone. It survives renaming the
	// file; empty means derived (see Identity).
	ID         string     `yaml:"id,omitempty" json:"id,omitempty"`
	Jenkins    Jenkins    `yaml:"jenkins" json:"jenkins"`
	Cloudsmith Cloudsmith `yaml:"cloudsmith" json:"cloudsmith"`
	OIDC       OIDC       `yaml:"oidc" json:"oidc"`
	Binary     Binary     `yaml:"binary,omitempty" json:"binary"`
	Defaults   Defaults   `yaml:"defaults,omitempty" json:"defaults"`
	Jobs       []Job      `yaml:"jobs" json:"jobs"`
	// Library says where the generated Jenkinsfiles load the vars/ steps
	// from; nil means a Global Trusted Pipeline Library named
	// jenkins-cloudsmith that an administrator registered.
	Library *Library `yaml:"library,omitempty" json:"library,omitempty"`
	// Seed, when set, adds a pipeline job that re-applies this spec from
	// its repository whenever it changes.
	Seed *Seed `yaml:"seed,omitempty" json:"seed,omitempty"`
	// TemplatesDir overrides embedded templates file by file (relative to
	// the spec file).
	TemplatesDir string `yaml:"templates_dir,omitempty" json:"templates_dir,omitempty"`

	// File is the path the spec was read from, for messages.
	File string `yaml:"-" json:"-"`
	// Warnings are what validate reports without refusing the spec.
	Warnings Warnings `yaml:"-" json:"-"`
}

// Jenkins says which controller to manage and how to log in.
type Jenkins struct {
	URL string `yaml:"url" json:"url"`
	// User is the Jenkins user id, or one ${VAR} reference read from the
	// environment (UserRef keeps the variable's name), so a seed job can
	// take it from the credential it binds.
	User    string `yaml:"user" json:"user"`
	UserRef string `yaml:"-" json:"-"`
	Token   Secret `yaml:"token" json:"token"`
	// CABundle is a PEM file of extra roots for a controller behind a
	// private CA. TLS is always verified.
	CABundle string `yaml:"ca_bundle,omitempty" json:"ca_bundle,omitempty"`
	// Proxy overrides HTTPS_PROXY for the controller.
	Proxy string `yaml:"proxy,omitempty" json:"proxy,omitempty"`
}

// Cloudsmith names the org and service account builds exchange into, the
// hosts they talk to, and (with APIKey) the provider to manage.
type Cloudsmith struct {
	Org string `yaml:"org" json:"org"`
	// Service is the service account's name, or its slug. Cloudsmith
	// assigns the slug (it "may have random characters appended"), so
	// apply finds the account by name and builds use ServiceSlug.
	Service string `yaml:"service" json:"service"`
	// ServiceSlug is the slug Cloudsmith gave the account, once plan or
	// apply found it; empty until then (see BuildService).
	ServiceSlug string `yaml:"-" json:"-"`
	// Host overrides; empty means Cloudsmith's public hosts. There is one
	// field per host of pkgconfig's table (pkgconfig.Endpoints), tagged
	// with its key (TestHostFieldsMatchTable keeps them in step); Hosts
	// lists them.
	APIURL          string `yaml:"api_url,omitempty" json:"api_url,omitempty"`
	DownloadURL     string `yaml:"download_url,omitempty" json:"download_url,omitempty"`
	NPMURL          string `yaml:"npm_url,omitempty" json:"npm_url,omitempty"`
	GoURL           string `yaml:"go_url,omitempty" json:"go_url,omitempty"`
	PythonUploadURL string `yaml:"python_upload_url,omitempty" json:"python_upload_url,omitempty"`
	MavenUploadURL  string `yaml:"maven_upload_url,omitempty" json:"maven_upload_url,omitempty"`
	CargoURL        string `yaml:"cargo_url,omitempty" json:"cargo_url,omitempty"`
	NuGetURL        string `yaml:"nuget_url,omitempty" json:"nuget_url,omitempty"`
	DockerRegistry  string `yaml:"docker_registry,omitempty" json:"docker_registry,omitempty"`
	// APIKey enables managing the service account and OIDC provider.
	APIKey   Secret   `yaml:"api_key,omitempty" json:"api_key,omitempty"`
	Provider Provider `yaml:"provider,omitempty" json:"provider,omitempty"`
	CABundle string   `yaml:"ca_bundle,omitempty" json:"ca_bundle,omitempty"`
	// Proxy overrides HTTPS_PROXY for the Cloudsmith API.
	Proxy string `yaml:"proxy,omitempty" json:"proxy,omitempty"`
}

// BuildService is the slug builds exchange their token into: the one
// Cloudsmith assigned when it is known, else Service as written.
func (c Cloudsmith) BuildService() string {
	if c.ServiceSlug != "" {
		return c.ServiceSlug
	}
	return c.Service
}

// Provider is the Cloudsmith OIDC provider that trusts the issuer.
type Provider struct {
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Claims every token must carry: exact values, or a prefix ending in
	// ".*" (Cloudsmith's only wildcard). Each value's text; see ClaimJSON
	// for the ones that are not strings.
	Claims map[string]string `yaml:"claims,omitempty" json:"claims,omitempty"`
	// ClaimJSON holds the claims written as YAML integers or booleans, as
	// their JSON (Claims holds the same text): Cloudsmith compares a
	// required claim with the token's as JSON values, so the oidc-provider
	// plugin's numeric build_number never equals the string "1".
	ClaimJSON map[string]json.RawMessage `yaml:"-" json:"-"`
}

// ClaimValues are the claims as the JSON values sent to Cloudsmith:
// strings, and the numbers and booleans of ClaimJSON.
func (p Provider) ClaimValues() map[string]any {
	out := make(map[string]any, len(p.Claims))
	for k, v := range p.Claims {
		if raw, ok := p.ClaimJSON[k]; ok {
			out[k] = raw
			continue
		}
		out[k] = v
	}
	return out
}

// Credential kinds.
const (
	KindString = "string" // io.jenkins.plugins.oidc_provider.IdTokenStringCredentials
	KindFile   = "file"   // io.jenkins.plugins.oidc_provider.IdTokenFileCredentials
)

// OIDC is the oidc-provider credential that mints each build's token.
type OIDC struct {
	Credential  string `yaml:"credential" json:"credential"`
	Kind        string `yaml:"kind,omitempty" json:"kind,omitempty"`
	Audience    string `yaml:"audience" json:"audience"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Issuer is a custom public issuer URL; empty means Jenkins' own
	// <jenkins>/oidc (or the folder's issuer when Folder is set).
	Issuer string `yaml:"issuer,omitempty" json:"issuer,omitempty"`
	// Folder puts the credential in a folder's store ("team-a/sub").
	Folder string `yaml:"folder,omitempty" json:"folder,omitempty"`
}

// Binary says how agents get the cloudsmith-oidc step binary: already on
// PATH (Path), downloaded and checked (URL + SHA256, one binary for every
// agent), or downloaded for the agent's OS and architecture, chosen at run
// time (Platforms).
type Binary struct {
	Path   string `yaml:"path,omitempty" json:"path,omitempty"`
	URL    string `yaml:"url,omitempty" json:"url,omitempty"`
	SHA256 string `yaml:"sha256,omitempty" json:"sha256,omitempty"`
	// Platforms maps "os/arch" (one of Platforms) to that build's download.
	Platforms map[string]Download `yaml:"platforms,omitempty" json:"platforms,omitempty"`
}

// Download is one platform's build of the step binary.
type Download struct {
	URL    string `yaml:"url" json:"url"`
	SHA256 string `yaml:"sha256" json:"sha256"`
}

// Platforms are the agent platforms binary.platforms may name, as Go's
// GOOS/GOARCH (make dist builds linux/amd64, linux/arm64, darwin/arm64 and
// windows/amd64).
var Platforms = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"}

// Library is the shared library holding the vars/ steps. With Remote set,
// every generated Jenkinsfile loads it itself with the library step from
// that git repository at Version, so no administrator has to register it;
// it then runs in the Groovy sandbox (untrusted), which the vars/ steps
// are written for. Without Remote, the Jenkinsfiles use @Library and
// expect a Global Trusted Pipeline Library of that name.
type Library struct {
	// Name is the library's name (default jenkins-cloudsmith).
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Remote is the git repository holding vars/ (this repository or a
	// mirror of it).
	Remote string `yaml:"remote,omitempty" json:"remote,omitempty"`
	// Version is the branch, tag or commit to load; required with Remote.
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
	// CredentialsID is the Jenkins credential used to clone Remote.
	CredentialsID string `yaml:"credentials_id,omitempty" json:"credentials_id,omitempty"`
}

// DefaultLibraryName is the library name when the spec gives none.
const DefaultLibraryName = "jenkins-cloudsmith"

// Defaults fill fields a job leaves empty.
type Defaults struct {
	Repo    string   `yaml:"repo,omitempty" json:"repo,omitempty"`
	Formats []string `yaml:"formats,omitempty" json:"formats,omitempty"`
}

// Job types.
const (
	Freestyle = "freestyle"
	Pipeline  = "pipeline"
)

// Formats cloudsmith-oidc can configure: the names in pkgconfig's table.
var Formats = pkgconfig.Names()

// Job is one Jenkins job to manage. After Load, Repo and Formats hold the
// defaults where the job left them empty.
type Job struct {
	// Name is the full name; '/' separates folders.
	Name        string   `yaml:"name" json:"name"`
	Type        string   `yaml:"type" json:"type"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Repo        string   `yaml:"repo,omitempty" json:"repo,omitempty"`
	Formats     []string `yaml:"formats,omitempty" json:"formats,omitempty"`
	// Publish says the job uploads packages to Repo: apply grants the
	// service account Write there instead of Read.
	Publish bool `yaml:"publish,omitempty" json:"publish,omitempty"`
	// Steps are shell commands run with Cloudsmith configured.
	Steps []string `yaml:"steps,omitempty" json:"steps,omitempty"`
	// SCM makes a pipeline job read its Jenkinsfile from Git instead of an
	// inline script.
	SCM *SCM `yaml:"scm,omitempty" json:"scm,omitempty"`
	// Label restricts where the job runs (assignedNode).
	Label string `yaml:"label,omitempty" json:"label,omitempty"`

	// Pos is where the job is defined, for messages.
	Pos Pos `yaml:"-" json:"-"`
}

// SCM is a Git source for a pipeline's Jenkinsfile.
type SCM struct {
	URL           string `yaml:"url" json:"url"`
	Branch        string `yaml:"branch,omitempty" json:"branch,omitempty"`
	ScriptPath    string `yaml:"script_path,omitempty" json:"script_path,omitempty"`
	CredentialsID string `yaml:"credentials_id,omitempty" json:"credentials_id,omitempty"`
	Lightweight   *bool  `yaml:"lightweight,omitempty" json:"lightweight,omitempty"`
}

// Seed is the optional job that runs `jenkins-cloudsmith apply` from the
// spec's own repository.
type Seed struct {
	Name string `yaml:"name" json:"name"`
	SCM  SCM    `yaml:"scm" json:"scm"`
	// SpecPath is the spec file's path inside the repository.
	SpecPath string `yaml:"spec_path,omitempty" json:"spec_path,omitempty"`
	// Credential is the Jenkins credential (username + API token) the seed
	// job applies with.
	Credential string `yaml:"credential" json:"credential"`
	// CloudsmithCredential is the Jenkins secret-text credential holding
	// the Cloudsmith API key; required when cloudsmith.api_key is set, so
	// the seed binds every secret the spec references.
	CloudsmithCredential string `yaml:"cloudsmith_credential,omitempty" json:"cloudsmith_credential,omitempty"`
}

// Pos is a place in the spec file (1-based).
type Pos struct {
	File   string
	Line   int
	Column int
}
