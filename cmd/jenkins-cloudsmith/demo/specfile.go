package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"text/template"
)

// Names the example spec uses; the checks after apply look for them.
const (
	folderName    = "demo"
	freestyleJob  = folderName + "/hello-python"
	pipelineJob   = folderName + "/hello-pipeline"
	credentialID  = "cloudsmith-oidc-demo"
	audience      = "cloudsmith-demo"
	serviceSlug   = "jenkins-demo"
	providerName  = "jenkins-demo"
	jenkinsUser   = "admin"
	jenkinsEnv    = "JENKINS_API_TOKEN"
	cloudsmithEnv = "CLOUDSMITH_API_KEY"
	// installedMarker is what both jobs print once the package imports;
	// the demo looks for it in their consoles.
	installedMarker = "hello-cloudsmith 1.0.0 installed: Hello from Cloudsmith!"
)

// specTemplate is the example spec. Every value comes from the running
// emulators; the secrets stay ${VAR} references, which the demo resolves
// through spec.Load's getenv without putting them in any environment.
//
// The freestyle job installs with `pip install --target` into its
// workspace rather than into a virtualenv: it needs no python3-venv
// package, takes well under a second, and pip allows it even where the
// system Python is marked externally managed (PEP 668).
var specTemplate = template.Must(template.New("spec").Funcs(template.FuncMap{"q": quote}).Parse(`# Example spec written by ` + "`jenkins-cloudsmith demo`" + `. Every host is an emulator on
# loopback, so plain http is accepted. Secrets are ${VAR} references: the demo
# supplies them to this run only; they are never written here or printed.
version: 1
jenkins:
  url: {{ q .JenkinsURL }}
  user: ` + jenkinsUser + `
  token: ${` + jenkinsEnv + `}
cloudsmith:
  org: {{ q .Org }}
  service: ` + serviceSlug + `
  api_url: {{ q .APIURL }}
  download_url: {{ q .DownloadURL }}
  npm_url: {{ q .NPMURL }}
  go_url: {{ q .GoURL }}
  # With an API key, apply also creates the service account and the OIDC
  # provider that trusts the issuer below.
  api_key: ${` + cloudsmithEnv + `}
  provider:
    name: ` + providerName + `
    claims: {aud: ` + audience + `}
oidc:
  credential: ` + credentialID + `
  audience: ` + audience + `
  description: ID tokens for the jenkins-cloudsmith demo
  # A custom issuer: the demo serves its discovery documents (fetched from
  # Jenkins) on this loopback address, where the Cloudsmith emulator reads them.
  issuer: {{ q .Issuer }}
binary:
  path: {{ q .Binary }}
defaults:
  repo: {{ q .Repo }}
  formats: [python]
jobs:
  - name: ` + freestyleJob + `
    type: freestyle
    description: Installs hello-cloudsmith from Cloudsmith with pip, keyless.
    steps:
      - echo "pip index configured by cloudsmith-oidc (the token in it is masked in any output):"
      - python3 -m pip config list | grep index-url
      - python3 -m pip install --no-cache-dir --disable-pip-version-check --no-input -q --target "$WORKSPACE/site-packages" hello-cloudsmith==1.0.0
      - PYTHONPATH="$WORKSPACE/site-packages" python3 -c 'import hello_cloudsmith as h; print("hello-cloudsmith", h.__version__, "installed:", h.hello())'
  - name: ` + pipelineJob + `
    type: pipeline
    description: The same install as a pipeline, through the shared-library step.
    steps:
      - python3 -m pip install --no-cache-dir --disable-pip-version-check --no-input -q --target "$WORKSPACE/site-packages" hello-cloudsmith==1.0.0
      - PYTHONPATH="$WORKSPACE/site-packages" python3 -c 'import hello_cloudsmith as h; print("hello-cloudsmith", h.__version__, "installed:", h.hello())'
`))

// specValues fill specTemplate.
type specValues struct {
	JenkinsURL, Org, Repo              string
	APIURL, DownloadURL, NPMURL, GoURL string
	Issuer, Binary                     string
}

// quote writes s as a YAML double-quoted scalar: JSON strings are valid
// YAML, so temp paths with spaces or odd characters stay one value.
func quote(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// exampleSpec renders the example spec.
func exampleSpec(v specValues) ([]byte, error) {
	var b bytes.Buffer
	if err := specTemplate.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("writing the example spec: %w", err)
	}
	return b.Bytes(), nil
}
