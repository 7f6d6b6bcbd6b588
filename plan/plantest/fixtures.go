package plantest

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// SecretToken is the Jenkins API token of Spec: outputs must never show it.
const SecretToken = "s3cr3t-jenkins-token"

// SpecID is the identity of Spec (derived from its credential id).
const SpecID = "oidc-token-cred"

// Spec returns a small valid spec (as spec.Load would leave it).
func Spec() *spec.Spec {
	return &spec.Spec{
		Version: 1,
		Jenkins: spec.Jenkins{URL: "http://127.0.0.1:8080/", User: "admin", Token: spec.NewSecret("JENKINS_API_TOKEN", SecretToken)},
		Cloudsmith: spec.Cloudsmith{Org: "acme", Service: "jenkins-ci",
			Provider: spec.Provider{Name: "jenkins", Claims: map[string]string{"aud": "jenkins"}}},
		OIDC: spec.OIDC{Credential: "oidc-token-cred", Kind: "string", Audience: "jenkins", Description: "OIDC token"},
	}
}

// JobXML returns a managed job's config.xml: a freestyle job running step,
// or a pipeline whose script is step.
func JobXML(typ, desc, step string) []byte {
	d := html.EscapeString(desc + "\n" + render.Marker(SpecID))
	if typ == spec.Pipeline {
		return []byte(`<flow-definition plugin="workflow-job@1.0"><description>` + d + `</description>` +
			`<definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition" plugin="workflow-cps@2.0"><script>` +
			html.EscapeString(step) + `</script><sandbox>true</sandbox></definition></flow-definition>`)
	}
	return []byte(`<project><description>` + d + `</description><builders><hudson.tasks.Shell><command>` +
		html.EscapeString(step) + `</command></hudson.tasks.Shell></builders></project>`)
}

// CredentialForm returns the form JSON of the OIDC credential.
func CredentialForm(kind, audience string) []byte {
	class := "io.jenkins.plugins.oidc_provider.IdTokenStringCredentials"
	if kind == spec.KindFile {
		class = "io.jenkins.plugins.oidc_provider.IdTokenFileCredentials"
	}
	b, _ := json.Marshal(map[string]any{"credentials": map[string]any{"$class": class, "scope": "GLOBAL",
		"id": "oidc-token-cred", "description": "OIDC token\n" + render.Marker(SpecID), "audience": audience}})
	return b
}

// FolderXML returns a managed folder's config.xml.
func FolderXML() []byte {
	return []byte(`<com.cloudbees.hudson.plugins.folder.Folder><description>` + html.EscapeString(render.Marker(SpecID)) +
		`</description></com.cloudbees.hudson.plugins.folder.Folder>`)
}

// Output returns a rendered spec: folder team-a with a pipeline, and a
// freestyle job at the top.
func Output() *render.Output {
	return &render.Output{
		Folders: []render.Folder{{Path: "team-a", ConfigXML: FolderXML()}},
		Jobs: []render.Job{
			{Name: "team-a/build-wheel", Type: spec.Pipeline, ConfigXML: JobXML(spec.Pipeline, "Builds the wheel", "echo hi")},
			{Name: "hello", Type: spec.Freestyle, ConfigXML: JobXML(spec.Freestyle, "Hello", "cloudsmith-oidc exec -- pip install x")},
		},
		Credential: render.Credential{FormJSON: CredentialForm(spec.KindString, "jenkins")},
	}
}

// ManyJobs returns n jobs spread over folders f0..f9 (nested under "big"),
// alternating freestyle and pipeline.
func ManyJobs(n int) *render.Output {
	out := &render.Output{Folders: []render.Folder{{Path: "big", ConfigXML: FolderXML()}},
		Credential: render.Credential{FormJSON: CredentialForm(spec.KindString, "jenkins")}}
	for i := range 10 {
		out.Folders = append(out.Folders, render.Folder{Path: fmt.Sprintf("big/f%d", i), ConfigXML: FolderXML()})
	}
	for i := range n {
		typ := spec.Freestyle
		if i%2 == 1 {
			typ = spec.Pipeline
		}
		out.Jobs = append(out.Jobs, render.Job{Name: fmt.Sprintf("big/f%d/job-%04d", i%10, i), Type: typ,
			ConfigXML: JobXML(typ, fmt.Sprintf("job %d", i), fmt.Sprintf("echo %d", i))})
	}
	return out
}

// Synced returns a controller that already matches out, as Jenkins would
// store it (with plugin attributes added on save).
func Synced(out *render.Output) *Fake {
	f := New()
	for _, fo := range out.Folders {
		f.Items[fo.Path] = &Item{Folder: true, Config: fo.ConfigXML}
	}
	for _, j := range out.Jobs {
		f.Items[j.Name] = &Item{Config: j.ConfigXML}
	}
	f.Credentials["\x00oidc-token-cred"] = &jenkins.IDTokenCredential{ID: "oidc-token-cred", Kind: "string",
		Description: "OIDC token\n" + render.Marker(SpecID), Audience: "jenkins"}
	f.KeyGen["\x00oidc-token-cred"] = 1
	return f
}

// Matches reports how f differs from out: missing or different jobs and
// folders, and items out does not list (other than those in keep).
func (f *Fake) Matches(out *render.Output, keep ...string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var diffs []string
	want := map[string]bool{}
	for _, k := range keep {
		want[k] = true
	}
	for _, fo := range out.Folders {
		want[fo.Path] = true
		if it, ok := f.Items[fo.Path]; !ok || !it.Folder {
			diffs = append(diffs, "folder missing: "+fo.Path)
		}
	}
	for _, j := range out.Jobs {
		want[j.Name] = true
		if it, ok := f.Items[j.Name]; !ok {
			diffs = append(diffs, "job missing: "+j.Name)
		} else if string(it.Config) != string(j.ConfigXML) {
			diffs = append(diffs, "job differs: "+j.Name)
		}
	}
	for name := range f.Items {
		if !want[name] {
			diffs = append(diffs, "unexpected item: "+name)
		}
	}
	return diffs
}

// SpecYAML returns a spec file for the controller at url whose token is
// ${JENKINS_API_TOKEN}, with one job per name: "name:type" sets the type,
// a bare name alternates freestyle and pipeline. Job i runs "echo i".
func SpecYAML(url string, jobs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `version: 1
jenkins: {url: %q, user: admin, token: "${JENKINS_API_TOKEN}"}
cloudsmith: {org: acme, service: jenkins-ci}
oidc: {credential: oidc-token-cred, audience: jenkins, description: OIDC token for Cloudsmith}
defaults: {repo: demo, formats: [python]}
jobs:
`, url)
	for i, j := range jobs {
		name, typ, ok := strings.Cut(j, ":")
		if !ok {
			typ = []string{spec.Freestyle, spec.Pipeline}[i%2]
		}
		fmt.Fprintf(&b, "  - {name: %q, type: %s, description: \"job %d\", steps: [\"echo %d\"]}\n", name, typ, i, i)
	}
	return b.String()
}
