package render

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// The view types are what templates see: spec values with defaults
// applied, never escaped (escaping is the templates' job, see escape.go).

// hostView is one Cloudsmith host override the spec sets: Env is
// cloudsmith-oidc's variable for it, Arg the vars/ steps' argument.
type hostView struct {
	Env, Arg, Value string
}

// hostsOf lists the spec's host overrides in the order of pkgconfig's
// table; hosts left empty are the binary's defaults.
func hostsOf(c spec.Cloudsmith) []hostView {
	set := c.Hosts()
	var out []hostView
	for _, e := range pkgconfig.Endpoints() {
		if v := set[e.Key]; v != "" {
			out = append(out, hostView{Env: e.Env(), Arg: e.Arg(), Value: v})
		}
	}
	return out
}

// allHosts lists every host the vars/ steps accept, set or not.
func allHosts() []hostView {
	var out []hostView
	for _, e := range pkgconfig.Endpoints() {
		out = append(out, hostView{Env: e.Env(), Arg: e.Arg()})
	}
	return out
}

type scmView struct {
	URL, Branch, ScriptPath, CredentialsID string
	Lightweight                            bool
}

type seedView struct {
	SCM        scmView
	SpecPath   string
	Credential string
	// TokenEnv is the variable the spec's jenkins.token references, so
	// spec.Load in the seed resolves it from the bound credential.
	TokenEnv string
	// UserEnv is the variable the credential's user name is bound to: the
	// one jenkins.user references, else JENKINS_CLOUDSMITH_USER, which the
	// seed checks against the literal User.
	UserEnv, User string
	// APIKeyCredential and APIKeyEnv bind the Cloudsmith API key
	// (cloudsmith.api_key) when the spec has one.
	APIKeyCredential, APIKeyEnv string
}

// libView is where a Jenkinsfile loads the vars/ steps from.
type libView struct {
	// Identifier is name or name@version.
	Identifier string
	// Remote, when set, is loaded with the library step (untrusted).
	Remote, CredentialsID string
}

// download is one platform's binary, as templates see it.
type download struct {
	Platform, URL, SHA256 string
}

type jobView struct {
	Name        string
	Description string
	Label       string
	Library     string

	Org, Service, Repo string
	Formats            []string
	Steps              []string
	Kind               string
	Credential         string
	Hosts              []hostView
	// CAPEM is cloudsmith.ca_bundle's content (public certificates): the
	// freestyle step writes it beside the build and points
	// CLOUDSMITH_CA_BUNDLE at it, so cloudsmith-oidc and the package
	// managers it runs trust a private CA (or an emulator).
	CAPEM  string
	Binary spec.Binary
	// Downloads are binary.platforms in platform order, SHA-256 in lower
	// case; ByPlatform indexes them ("linux/amd64") for the shell script,
	// PlatformList names them.
	Downloads    []download
	ByPlatform   map[string]*download
	PlatformList string
	Lib          libView

	// Script is the steps as one bash script (freestyle).
	Script string
	// Shell is the freestyle job's rendered shell step.
	Shell string
	// Jenkinsfile is the rendered pipeline script.
	Jenkinsfile string
	SCM         *scmView
	Seed        *seedView
}

type folderView struct {
	Path        string
	Description string
}

type credentialView struct {
	ID, Description, Issuer, Audience, Kind, Class string
}

type varsView struct {
	Library string
	// Formats and Aliases are pkgconfig's table, so the vars/ steps
	// accept the names cloudsmith-oidc does (any case).
	Formats   []string
	Aliases   []pkgconfig.Alias
	Hosts     []hostView
	Platforms []string
}

func kindOf(s *spec.Spec) string {
	if s.OIDC.Kind == "" {
		return spec.KindString
	}
	return s.OIDC.Kind
}

func binaryOf(s *spec.Spec) (spec.Binary, error) {
	b := s.Binary
	b.SHA256 = strings.ToLower(b.SHA256)
	if b.URL == "" && b.Path == "" && len(b.Platforms) == 0 {
		b.Path = "cloudsmith-oidc"
	}
	if b.URL != "" || len(b.Platforms) > 0 {
		b.Path = ""
	}
	// A leading '-' would be read as an option, and bash runs a command
	// word starting with '%' as a job control "fg".
	if b.Path != "" && strings.IndexAny(b.Path[:1], "-%") == 0 {
		return b, fmt.Errorf("binary.path %q must be a program name or a path, not start with %q", b.Path, b.Path[:1])
	}
	return b, nil
}

func scmOf(in spec.SCM) scmView {
	v := scmView{URL: in.URL, Branch: in.Branch, ScriptPath: in.ScriptPath,
		CredentialsID: in.CredentialsID, Lightweight: true}
	if v.Branch == "" {
		v.Branch = "*/main"
	}
	if v.ScriptPath == "" {
		v.ScriptPath = "Jenkinsfile"
	}
	if in.Lightweight != nil {
		v.Lightweight = *in.Lightweight
	}
	return v
}

func (r renderer) baseView(s *spec.Spec, name, desc, label string) (jobView, error) {
	d, err := withMarker(desc, s.Identity())
	if err != nil {
		return jobView{}, err
	}
	bin, err := binaryOf(s)
	if err != nil {
		return jobView{}, err
	}
	ca, err := caPEMOf(s)
	if err != nil {
		return jobView{}, err
	}
	v := jobView{
		CAPEM: ca,
		Name:  name, Description: d, Label: label, Library: r.lib,
		Org: s.Cloudsmith.Org, Service: s.Cloudsmith.BuildService(),
		Kind: kindOf(s), Credential: s.OIDC.Credential,
		Hosts:  hostsOf(s.Cloudsmith),
		Binary: bin, Lib: r.libOf(s), ByPlatform: map[string]*download{},
	}
	var names []string
	for _, p := range spec.Platforms {
		if d, ok := bin.Platforms[p]; ok {
			v.Downloads = append(v.Downloads, download{Platform: p, URL: d.URL, SHA256: strings.ToLower(d.SHA256)})
			names = append(names, p)
		}
	}
	for i := range v.Downloads {
		v.ByPlatform[v.Downloads[i].Platform] = &v.Downloads[i]
	}
	v.PlatformList = strings.Join(names, " ")
	return v, nil
}

// libOf says where the Jenkinsfiles load the library from: the renderer's
// Library option (the CLI's --library) wins over the spec's name, which
// wins over LibraryName; with library.remote, from git at its version.
func (r renderer) libOf(s *spec.Spec) libView {
	v := libView{Identifier: r.lib}
	if l := s.Library; l != nil {
		if !r.libSet && l.Name != "" {
			v.Identifier = l.Name
		}
		if l.Version != "" && !strings.Contains(v.Identifier, "@") {
			v.Identifier += "@" + l.Version
		}
		v.Remote, v.CredentialsID = l.Remote, l.CredentialsID
	}
	return v
}

func (r renderer) job(s *spec.Spec, j spec.Job) (Job, error) {
	v, err := r.baseView(s, j.Name, j.Description, j.Label)
	if err != nil {
		return Job{}, err
	}
	v.Repo, v.Formats, v.Steps = j.Repo, j.Formats, j.Steps
	if v.Repo == "" {
		v.Repo = s.Defaults.Repo
	}
	if len(v.Formats) == 0 {
		v.Formats = s.Defaults.Formats
	}
	if j.SCM != nil {
		scm := scmOf(*j.SCM)
		v.SCM = &scm
	}
	switch j.Type {
	case spec.Freestyle:
		v.Script = strings.Join(j.Steps, "\n")
		if v.Script == "" {
			v.Script = "true"
		}
		sh, err := r.exec(tmplFreestyleShell, v)
		if err != nil {
			return Job{}, err
		}
		v.Shell = string(sh)
		x, err := r.exec(tmplFreestyleXML, v)
		if err != nil {
			return Job{}, err
		}
		return Job{Name: j.Name, Type: j.Type, ConfigXML: x}, nil
	case spec.Pipeline:
		return r.pipeline(v, tmplJenkinsfile)
	default:
		return Job{}, fmt.Errorf("unknown job type %q (use %q or %q)", j.Type, spec.Freestyle, spec.Pipeline)
	}
}

func (r renderer) pipeline(v jobView, script string) (Job, error) {
	jf, err := r.exec(script, v)
	if err != nil {
		return Job{}, err
	}
	v.Jenkinsfile = string(jf)
	x, err := r.exec(tmplPipelineXML, v)
	if err != nil {
		return Job{}, err
	}
	return Job{Name: v.Name, Type: spec.Pipeline, ConfigXML: x, Jenkinsfile: jf}, nil
}

func (r renderer) seed(s *spec.Spec) (Job, error) {
	v, err := r.baseView(s, s.Seed.Name, "Re-applies the jenkins-cloudsmith spec when its repository changes.", "")
	if err != nil {
		return Job{}, err
	}
	sv := seedView{SCM: scmOf(s.Seed.SCM), SpecPath: s.Seed.SpecPath,
		Credential: s.Seed.Credential, TokenEnv: s.Jenkins.Token.Ref,
		UserEnv: s.Jenkins.UserRef, User: s.Jenkins.User}
	if sv.UserEnv == "" {
		sv.UserEnv = "JENKINS_CLOUDSMITH_USER"
	} else {
		sv.User = ""
	}
	if s.Cloudsmith.APIKey.IsSet() {
		sv.APIKeyCredential, sv.APIKeyEnv = s.Seed.CloudsmithCredential, s.Cloudsmith.APIKey.Ref
	}
	if sv.SpecPath == "" {
		sv.SpecPath = "jenkins-cloudsmith.yaml"
		if s.File != "" {
			sv.SpecPath = path.Base(s.File)
		}
	}
	if sv.TokenEnv == "" {
		sv.TokenEnv = "JENKINS_API_TOKEN"
	}
	v.Seed = &sv
	return r.pipeline(v, tmplSeed)
}

func (r renderer) credential(s *spec.Spec) (Credential, error) {
	desc, err := withMarker(s.OIDC.Description, s.Identity())
	if err != nil {
		return Credential{}, fmt.Errorf("oidc.description: %w", err)
	}
	v := credentialView{ID: s.OIDC.Credential, Description: desc,
		Issuer: s.OIDC.Issuer, Audience: s.OIDC.Audience, Kind: kindOf(s),
		Class: "io.jenkins.plugins.oidc_provider.IdTokenStringCredentials"}
	if v.Kind == spec.KindFile {
		v.Class = "io.jenkins.plugins.oidc_provider.IdTokenFileCredentials"
	}
	j, err := r.exec(tmplCredentialJSON, v)
	if err != nil {
		return Credential{}, err
	}
	x, err := r.exec(tmplCredentialXML, v)
	if err != nil {
		return Credential{}, err
	}
	return Credential{FormJSON: j, XML: x}, nil
}

func (r renderer) vars() (map[string][]byte, error) {
	v := varsView{Library: r.lib, Formats: spec.Formats, Aliases: pkgconfig.Aliases(), Hosts: allHosts(), Platforms: spec.Platforms}
	out := map[string][]byte{}
	var names []string
	for _, t := range r.t.Templates() {
		n := t.Name()
		if strings.HasPrefix(n, varsDir) && strings.HasSuffix(n, tmplExt) && !strings.HasPrefix(path.Base(n), "_") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := r.exec(n, v)
		if err != nil {
			return nil, fmt.Errorf("vars: %w", err)
		}
		out[strings.TrimSuffix(strings.TrimPrefix(n, varsDir), tmplExt)] = b
	}
	return out, nil
}

// caPEMOf reads cloudsmith.ca_bundle (relative to the spec file), which
// must hold PEM certificates only: it is rendered into job configs.
func caPEMOf(s *spec.Spec) (string, error) {
	if s.Cloudsmith.CABundle == "" {
		return "", nil
	}
	b, err := os.ReadFile(s.Resolve(s.Cloudsmith.CABundle))
	if err != nil {
		return "", fmt.Errorf("cloudsmith.ca_bundle: %w", err)
	}
	if bytes.Contains(b, []byte("PRIVATE KEY")) {
		return "", fmt.Errorf("cloudsmith.ca_bundle %s holds a private key: it goes into every job config, so give it the CA certificates only", s.Cloudsmith.CABundle)
	}
	if !bytes.Contains(b, []byte("-----BEGIN CERTIFICATE-----")) {
		return "", fmt.Errorf("cloudsmith.ca_bundle %s holds no PEM certificate", s.Cloudsmith.CABundle)
	}
	return strings.TrimSpace(string(b)), nil
}
