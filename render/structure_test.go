package render

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

func mustRender(t testing.TB, s *spec.Spec) *Output {
	t.Helper()
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func jobByName(t testing.TB, o *Output, name string) Job {
	t.Helper()
	for _, j := range o.Jobs {
		if j.Name == name {
			return j
		}
	}
	t.Fatalf("no job %q", name)
	return Job{}
}

const (
	bindingPrefix = "buildWrappers/org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper/bindings/org.jenkinsci.plugins.credentialsbinding.impl."
	cps           = "org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition"
	cpsSCM        = "org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition"
)

// TestShapes checks element names against the plugins' shapes
// (reference jenkins.md §4.2).
func TestShapes(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*spec.Spec)
		check func(*testing.T, *Output)
	}{
		{"freestyle string binding", nil, func(t *testing.T, o *Output) {
			x := parseXML(t, jobByName(t, o, "team-a/sub/fs").ConfigXML)
			if x.name != "project" {
				t.Fatalf("root %s", x.name)
			}
			if got := x.textAt(t, bindingPrefix+"StringBinding/credentialsId"); got != "oidc-token-cred" {
				t.Errorf("credentialsId %q", got)
			}
			if got := x.textAt(t, bindingPrefix+"StringBinding/variable"); got != "OIDC_TOKEN" {
				t.Errorf("variable %q", got)
			}
			if n := len(x.find("builders/hudson.tasks.Shell")); n != 1 {
				t.Errorf("%d shell steps, want 1", n)
			}
			cmd := x.textAt(t, "builders/hudson.tasks.Shell/command")
			if !strings.HasPrefix(cmd, "set +x\n") || !strings.Contains(cmd, `exec --org 'acme' --service 'jenkins-ci' --repo 'python-internal' --format 'python' -- /bin/sh -e -c 'pip download hello-cloudsmith'`) {
				t.Errorf("command:\n%s", cmd)
			}
			if strings.Contains(cmd, "echo") {
				t.Errorf("command echoes something:\n%s", cmd)
			}
			if got := x.textAt(t, "assignedNode"); got != "linux" {
				t.Errorf("assignedNode %q", got)
			}
		}},
		{"freestyle file binding and download", func(s *spec.Spec) {
			s.OIDC.Kind = spec.KindFile
			s.Binary = spec.Binary{URL: "https://dl.example.com/cloudsmith-oidc", SHA256: strings.Repeat("ab", 32)}
		}, func(t *testing.T, o *Output) {
			x := parseXML(t, jobByName(t, o, "team-a/sub/fs").ConfigXML)
			if got := x.textAt(t, bindingPrefix+"FileBinding/variable"); got != "OIDC_TOKEN_FILE" {
				t.Errorf("variable %q", got)
			}
			if len(x.find(bindingPrefix+"StringBinding")) != 0 {
				t.Errorf("string binding present for file kind")
			}
			cmd := x.textAt(t, "builders/hudson.tasks.Shell/command")
			for _, want := range []string{"CLOUDSMITH_OIDC_URL='https://dl.example.com/cloudsmith-oidc'", `curl -fsSL --retry 3 -o "$cloudsmith_oidc" "$cloudsmith_url"`,
				`sha256sum < "$cloudsmith_oidc"`, "CLOUDSMITH_OIDC_SHA256='" + strings.Repeat("ab", 32) + "'"} {
				if !strings.Contains(cmd, want) {
					t.Errorf("command lacks %q:\n%s", want, cmd)
				}
			}
			// The file credential stays a file: cloudsmith-oidc reads
			// $OIDC_TOKEN_FILE itself.
			if strings.Contains(cmd, "OIDC_TOKEN") {
				t.Errorf("command touches the token:\n%s", cmd)
			}
		}},
		{"inline pipeline", nil, func(t *testing.T, o *Output) {
			j := jobByName(t, o, "team-a/build-wheel")
			x := parseXML(t, j.ConfigXML)
			if x.name != "flow-definition" {
				t.Fatalf("root %s", x.name)
			}
			d := x.one(t, "definition")
			if d.attrs["class"] != cps {
				t.Errorf("definition class %q", d.attrs["class"])
			}
			if got := d.textAt(t, "script"); got != string(j.Jenkinsfile) {
				t.Errorf("script differs from the Jenkinsfile")
			}
			if got := d.textAt(t, "sandbox"); got != "true" {
				t.Errorf("sandbox %q", got)
			}
			for _, want := range []string{"@Library('jenkins-cloudsmith') _", "withCloudsmith(", "formats: ['python', 'npm']", "sh 'npm ci'"} {
				if !bytes.Contains(j.Jenkinsfile, []byte(want)) {
					t.Errorf("Jenkinsfile lacks %q", want)
				}
			}
		}},
		{"scm pipeline", nil, func(t *testing.T, o *Output) {
			x := parseXML(t, jobByName(t, o, "from-git").ConfigXML)
			d := x.one(t, "definition")
			if d.attrs["class"] != cpsSCM {
				t.Errorf("definition class %q", d.attrs["class"])
			}
			if c := d.one(t, "scm").attrs["class"]; c != "hudson.plugins.git.GitSCM" {
				t.Errorf("scm class %q", c)
			}
			want := map[string]string{
				"scm/userRemoteConfigs/hudson.plugins.git.UserRemoteConfig/url":           "https://git.example.com/app.git",
				"scm/userRemoteConfigs/hudson.plugins.git.UserRemoteConfig/credentialsId": "git",
				"scm/branches/hudson.plugins.git.BranchSpec/name":                         "*/main",
				"scriptPath":  "Jenkinsfile",
				"lightweight": "true",
			}
			for p, v := range want {
				if got := d.textAt(t, p); got != v {
					t.Errorf("%s = %q, want %q", p, got, v)
				}
			}
		}},
		{"folders parents first, credential folder included", func(s *spec.Spec) { s.OIDC.Folder = "creds/inner" }, func(t *testing.T, o *Output) {
			var paths []string
			for _, f := range o.Folders {
				paths = append(paths, f.Path)
				x := parseXML(t, f.ConfigXML)
				if x.name != "com.cloudbees.hudson.plugins.folder.Folder" {
					t.Errorf("folder root %s", x.name)
				}
				if owner, _ := Owner(x.textAt(t, "description")); owner != "creds/inner/oidc-token-cred" {
					t.Errorf("folder owner %q, want the derived spec id", owner)
				}
			}
			if want := []string{"creds", "creds/inner", "team-a", "team-a/sub"}; !reflect.DeepEqual(paths, want) {
				t.Errorf("folders %v, want %v", paths, want)
			}
		}},
		{"credential string", nil, func(t *testing.T, o *Output) {
			var form struct {
				Zero        string            `json:""`
				Credentials map[string]string `json:"credentials"`
			}
			if err := json.Unmarshal(o.Credential.FormJSON, &form); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"scope": "GLOBAL", "id": "oidc-token-cred", "description": "Cloudsmith OIDC\n" + Marker("oidc-token-cred"),
				"issuer": "", "audience": "jenkins",
				"stapler-class": "io.jenkins.plugins.oidc_provider.IdTokenStringCredentials",
				"$class":        "io.jenkins.plugins.oidc_provider.IdTokenStringCredentials"}
			if !reflect.DeepEqual(form.Credentials, want) {
				t.Errorf("form %v", form.Credentials)
			}
			var raw map[string]any
			json.Unmarshal(o.Credential.FormJSON, &raw)
			if raw[""] != "0" {
				t.Errorf(`form "" = %v`, raw[""])
			}
			x := parseXML(t, o.Credential.XML)
			if x.name != "io.jenkins.plugins.oidc__provider.IdTokenStringCredentials" {
				t.Errorf("root %s", x.name)
			}
			if len(x.find("privateKey")) != 0 || len(x.find("issuer")) != 0 {
				t.Errorf("unexpected privateKey or issuer")
			}
			if got := x.textAt(t, "audience"); got != "jenkins" {
				t.Errorf("audience %q", got)
			}
		}},
		{"credential file with issuer", func(s *spec.Spec) {
			s.OIDC.Kind = spec.KindFile
			s.OIDC.Issuer = "https://oidc.example.com"
		}, func(t *testing.T, o *Output) {
			x := parseXML(t, o.Credential.XML)
			if x.name != "io.jenkins.plugins.oidc__provider.IdTokenFileCredentials" {
				t.Errorf("root %s", x.name)
			}
			if got := x.textAt(t, "issuer"); got != "https://oidc.example.com" {
				t.Errorf("issuer %q", got)
			}
			if !bytes.Contains(o.Credential.FormJSON, []byte(`"stapler-class": "io.jenkins.plugins.oidc_provider.IdTokenFileCredentials"`)) {
				t.Errorf("form JSON:\n%s", o.Credential.FormJSON)
			}
		}},
		{"seed job", nil, func(t *testing.T, o *Output) {
			j := jobByName(t, o, "seed")
			x := parseXML(t, j.ConfigXML)
			if got := x.textAt(t, "properties/org.jenkinsci.plugins.workflow.job.properties.PipelineTriggersJobProperty/triggers/hudson.triggers.SCMTrigger/spec"); got == "" {
				t.Errorf("no SCM trigger")
			}
			for _, want := range []string{"usernamePassword(credentialsId: 'jenkins-api'", "passwordVariable: 'JENKINS_API_TOKEN'",
				"withEnv(['JENKINS_CLOUDSMITH_SPEC=ci/jenkins-cloudsmith.yaml', 'JENKINS_CLOUDSMITH_SPEC_USER=automation'])", `jenkins-cloudsmith apply -f "$JENKINS_CLOUDSMITH_SPEC"`} {
				if !bytes.Contains(j.Jenkinsfile, []byte(want)) {
					t.Errorf("seed lacks %q:\n%s", want, j.Jenkinsfile)
				}
			}
		}},
		{"descriptions end with the marker", nil, func(t *testing.T, o *Output) {
			for _, j := range o.Jobs {
				d := parseXML(t, j.ConfigXML).textAt(t, "description")
				if owner, ok := Owner(d); !ok || owner != "oidc-token-cred" {
					t.Errorf("%s: description %q", j.Name, d)
				}
			}
			if d := parseXML(t, jobByName(t, o, "team-a/build-wheel").ConfigXML).textAt(t, "description"); d != "Builds the wheel\n"+Marker("oidc-token-cred") {
				t.Errorf("description %q", d)
			}
		}},
		{"no secret anywhere", nil, func(t *testing.T, o *Output) {
			files, err := o.Files()
			if err != nil {
				t.Fatal(err)
			}
			for n, b := range files {
				if bytes.Contains(b, []byte("s3cret")) {
					t.Errorf("%s contains the Jenkins token", n)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sampleSpec()
			if tt.edit != nil {
				tt.edit(s)
			}
			tt.check(t, mustRender(t, s))
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*spec.Spec)
		want string
	}{
		{"forged marker", func(s *spec.Spec) { s.Jobs[0].Description = "x " + ManagedMarker }, `job "team-a/build-wheel": description contains`},
		{"forged owner", func(s *spec.Spec) { s.Jobs[0].Description = Marker("team-b") }, `job "team-a/build-wheel": description contains`},
		{"unknown type", func(s *spec.Spec) { s.Jobs[1].Type = "matrix" }, `job "team-a/sub/fs": unknown job type "matrix"`},
		{"control character", func(s *spec.Spec) { s.Jobs[1].Steps = []string{"a\x01"} }, "U+0001"},
		{"control character in groovy", func(s *spec.Spec) { s.Jobs[0].Label = "a\x1b" }, "U+001B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sampleSpec()
			tt.edit(s)
			r, _ := New(Options{})
			_, err := r.Render(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// The marker names its owner and reads back; the owner-less marker of
// older versions still counts as managed; anything else is not a marker.
func TestOwnerMarker(t *testing.T) {
	tests := []struct {
		desc, owner string
		managed     bool
		user        string
	}{
		{"Builds\n" + Marker("team-a"), "team-a", true, "Builds"},
		{Marker("team-a/sub/oidc"), "team-a/sub/oidc", true, ""},
		{"x\n" + ManagedMarker + "\n", "", true, "x"},
		{"made by hand", "", false, "made by hand"},
		{"<!-- Managed by jenkins-cloudsmithX -->", "", false, "<!-- Managed by jenkins-cloudsmithX -->"},
		{"<!-- Managed by jenkins-cloudsmith spec=a --> trailing", "", false, "<!-- Managed by jenkins-cloudsmith spec=a --> trailing"},
		{"<!-- Managed by jenkins-cloudsmith spec=a -->\n" + Marker("b"), "b", true, "<!-- Managed by jenkins-cloudsmith spec=a -->"},
	}
	for _, tt := range tests {
		owner, managed := Owner(tt.desc)
		if owner != tt.owner || managed != tt.managed {
			t.Errorf("Owner(%q) = %q, %v; want %q, %v", tt.desc, owner, managed, tt.owner, tt.managed)
		}
		if got := WithoutMarker(tt.desc); got != tt.user {
			t.Errorf("WithoutMarker(%q) = %q, want %q", tt.desc, got, tt.user)
		}
	}
}

// The key time stamped into a credential's form reads back, and leaves the
// owner and the user's description as they were.
func TestStampKeyTime(t *testing.T) {
	at := time.Date(2026, 12, 2, 19, 0, 0, 0, time.UTC)
	form := []byte(`{"":"0","credentials":{"id":"x","description":"OIDC\n` + strings.ReplaceAll(Marker("team-a"), `"`, `\"`) + `"}}`)
	var m struct {
		Credentials struct{ Description string } `json:"credentials"`
	}
	if err := json.Unmarshal(StampKeyTime(form, at), &m); err != nil {
		t.Fatal(err)
	}
	d := m.Credentials.Description
	if got, ok := KeyTime(d); !ok || !got.Equal(at) {
		t.Errorf("KeyTime(%q) = %v, %v", d, got, ok)
	}
	if o, _ := Owner(d); o != "team-a" || WithoutMarker(d) != "OIDC" {
		t.Errorf("owner %q, user text %q", o, WithoutMarker(d))
	}
	if _, ok := KeyTime("OIDC\n" + Marker("team-a")); ok {
		t.Error("key time without a stamp")
	}
}
