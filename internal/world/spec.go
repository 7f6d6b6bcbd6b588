package world

import (
	"bytes"
	"encoding/json"
	"fmt"
	"text/template"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
)

// SpecFile is the example spec's file name, as the README's commands
// name it.
const SpecFile = "jenkins-cloudsmith.yaml"

// Names the example spec uses; the checks after apply look for them.
const (
	Folder       = "demo"
	FreestyleJob = Folder + "/hello-python"
	PipelineJob  = Folder + "/hello-pipeline"
	CredentialID = "cloudsmith-oidc-demo"
	Audience     = "cloudsmith-demo"
	// ServiceName is the service account's name; Cloudsmith (and the
	// emulator) append random characters to its slug, which apply reads.
	ServiceName  = "jenkins-demo"
	ProviderName = "jenkins-demo"
	JenkinsUser  = "admin"
	// JenkinsEnv and CloudsmithEnv are the variables the spec's secrets
	// name (World.Getenv answers them).
	JenkinsEnv    = "JENKINS_API_TOKEN"
	CloudsmithEnv = "CLOUDSMITH_API_KEY"
	// InstalledMarker is what both jobs print once the package imports;
	// the demo and the tests look for it in their consoles.
	InstalledMarker = "hello-cloudsmith 1.0.0 installed: Hello from Cloudsmith!"
)

// specTemplate is the example spec. Every value comes from the running
// emulators; the secrets stay ${VAR} references, which the demo resolves
// through spec.Load's getenv without putting them in any environment.
//
// The freestyle job installs with `pip install --target` into its
// workspace rather than into a virtualenv: it needs no python3-venv
// package, takes well under a second, and pip allows it even where the
// system Python is marked externally managed (PEP 668).
var specTemplate = template.Must(template.New("spec").Funcs(template.FuncMap{"q": quote}).Parse(`# Example spec written by ` + "`jenkins-cloudsmith {{ .By }}`" + `. Every host is an emulator on
# loopback, so plain http is accepted. Secrets are ${VAR} references: {{ .SecretsFrom }};
# they are never written here.
version: 1
jenkins:
  url: {{ q .JenkinsURL }}
  user: ` + JenkinsUser + `
  token: ${` + JenkinsEnv + `}
cloudsmith:
  org: {{ q .Org }}
  service: ` + ServiceName + `
{{- range .HostList }}
  {{ .Key }}: {{ q .URL }}
{{- end }}
{{- if .CABundle }}
  # The emulator's https hosts are signed by this throwaway CA.
  ca_bundle: {{ q .CABundle }}
{{- end }}
  # With an API key, apply also creates the service account (builds use the
  # slug Cloudsmith assigns it), grants it Read on the jobs' repository and
  # creates the OIDC provider that trusts the issuer below. Its default claim
  # is a sub prefix of this controller's jobs, which holds whether the
  # plugin writes aud as a string or (since 212.v7657c4d…) as an array.
  api_key: ${` + CloudsmithEnv + `}
  provider:
    name: ` + ProviderName + `
oidc:
  credential: ` + CredentialID + `
  audience: ` + Audience + `
  description: ID tokens for the jenkins-cloudsmith demo
{{- if .Issuer }}
  # A custom issuer: the demo serves its discovery documents (fetched from
  # Jenkins) on this loopback address, where the Cloudsmith emulator reads them.
  issuer: {{ q .Issuer }}
{{- end }}
binary:
  path: {{ q .Binary }}
defaults:
  repo: {{ q .Repo }}
  formats: [python]
jobs:
  - name: ` + FreestyleJob + `
    type: freestyle
    description: Installs hello-cloudsmith from Cloudsmith with pip, keyless.
    steps:
      - echo "pip index configured by cloudsmith-oidc (the token in it is masked in any output):"
      - python3 -m pip config list | grep index-url
      - python3 -m pip install --no-cache-dir --disable-pip-version-check --no-input -q --target "$WORKSPACE/site-packages" hello-cloudsmith==1.0.0
      - PYTHONPATH="$WORKSPACE/site-packages" python3 -c 'import hello_cloudsmith as h; print("hello-cloudsmith", h.__version__, "installed:", h.hello())'
  - name: ` + PipelineJob + `
    type: pipeline
    description: The same install as a pipeline, through the shared-library step.
    steps:
      - python3 -m pip install --no-cache-dir --disable-pip-version-check --no-input -q --target "$WORKSPACE/site-packages" hello-cloudsmith==1.0.0
      - PYTHONPATH="$WORKSPACE/site-packages" python3 -c 'import hello_cloudsmith as h; print("hello-cloudsmith", h.__version__, "installed:", h.hello())'
`))

// SpecValues fill the example spec; Spec fills the hosts from a World.
type SpecValues struct {
	// By names the command that writes it ("demo", "emulate"), and
	// SecretsFrom says where its ${VAR}s come from, for the file's header.
	By, SecretsFrom       string
	JenkinsURL, Org, Repo string
	// Hosts are the Cloudsmith hosts by key (cloudsmith.api_url, ...).
	Hosts map[string]string
	// CABundle is the PEM file of the emulator's https hosts, if any.
	CABundle string
	// Issuer is a custom issuer; "" uses Jenkins' own (<jenkins>/oidc).
	Issuer string
	// Binary is the cloudsmith-oidc program the builds run.
	Binary string
}

// quote writes s as a YAML double-quoted scalar: JSON strings are valid
// YAML, so temp paths with spaces or odd characters stay one value.
func quote(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// hostLine is one cloudsmith host key of the spec.
type hostLine struct{ Key, URL string }

// HostList is Hosts in the order of cloudsmith-oidc's host table.
func (v SpecValues) HostList() []hostLine {
	var out []hostLine
	for _, e := range pkgconfig.Endpoints() {
		if u := v.Hosts[e.Key]; u != "" {
			out = append(out, hostLine{e.Key, u})
		}
	}
	return out
}

// ExampleSpec renders the example spec.
func ExampleSpec(v SpecValues) ([]byte, error) {
	var b bytes.Buffer
	if err := specTemplate.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("writing the example spec: %w", err)
	}
	return b.Bytes(), nil
}
