package render_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	renderCmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
)

const specYAML = `version: 1
jenkins:
  url: https://jenkins.example.com/
  user: automation
  token: ${JENKINS_API_TOKEN}
cloudsmith:
  org: acme
  service: jenkins-ci
oidc:
  credential: oidc-token-cred
  kind: string
  audience: jenkins
binary: {path: cloudsmith-oidc}
defaults: {repo: python-internal, formats: [python]}
jobs:
  - name: team-a/build-wheel
    type: pipeline
    description: Builds the wheel
    formats: [python, npm]
    steps: ["pip install -r requirements.txt"]
  - name: team-a/fs
    type: freestyle
    steps: ["pip download hello-cloudsmith"]
`

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test(nil) // no JENKINS_API_TOKEN: render reads no secret
	cmd := renderCmd.NewCmd(&cmdutil.Factory{IO: ios})
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func writeSpec(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(p, []byte(specYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRenderTree(t *testing.T) {
	dir := t.TempDir()
	_, errOut, err := run(t, "-f", writeSpec(t), "-o", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{
		"jobs/team-a/build-wheel/config.xml", "jobs/team-a/build-wheel/Jenkinsfile", "jobs/team-a/fs/config.xml",
		"folders/team-a/config.xml", "credential/credential.json", "credential/credential.xml",
		"vars/withCloudsmith.groovy", "vars/withCloudsmith.txt", "vars/cloudsmithExec.groovy", "vars/cloudsmithSupport.groovy",
	} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "jobs/team-a/fs/Jenkinsfile")); err == nil {
		t.Errorf("freestyle job has a Jenkinsfile")
	}
	if !strings.Contains(errOut, "2 jobs") {
		t.Errorf("stderr %q", errOut)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "jobs/team-a/fs/.*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestRenderOneJobToStdout(t *testing.T) {
	out, _, err := run(t, "-f", writeSpec(t), "--job", "team-a/fs", "-o", "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "<?xml") || !strings.Contains(out, "<project>") {
		t.Errorf("stdout:\n%s", out)
	}
}

func TestRenderErrors(t *testing.T) {
	bad := t.TempDir()
	os.MkdirAll(filepath.Join(bad, "job"), 0o755)
	os.WriteFile(filepath.Join(bad, "job", "freestyle.xml.tmpl"), []byte("{{ .Description }}"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown job", []string{"-f", writeSpec(t), "--job", "nope", "-o", t.TempDir()}, `no job "nope" in the spec (jobs: team-a/build-wheel, team-a/fs)`},
		{"stdout needs one job", []string{"-f", writeSpec(t), "-o", "-"}, "choose it with --job"},
		{"no spec: the default file", []string{"--out", t.TempDir()}, "jenkins-cloudsmith.yaml"},
		{"no directory", []string{"-f", writeSpec(t)}, "--out DIR is required"},
		{"bad override", []string{"-f", writeSpec(t), "--templates", bad, "-o", t.TempDir()}, filepath.Join(bad, "job", "freestyle.xml.tmpl")},
		{"spec error", []string{"-f", filepath.Join(t.TempDir(), "missing.yaml"), "-o", t.TempDir()}, "missing.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRenderVarsOnly(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := run(t, "--vars-only", "-o", dir); err != nil {
		t.Fatal(err)
	}
	// The two steps, the helpers they share, and a help page for each.
	want := []string{"cloudsmithExec.groovy", "cloudsmithExec.txt", "cloudsmithSupport.groovy", "cloudsmithSupport.txt",
		"withCloudsmith.groovy", "withCloudsmith.txt"}
	entries, _ := os.ReadDir(filepath.Join(dir, "vars"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, want) {
		t.Errorf("vars/ holds %q, want %q", names, want)
	}
	for _, n := range names {
		got, _ := os.ReadFile(filepath.Join(dir, "vars", n))
		committed, _ := os.ReadFile(filepath.Join("..", "..", "..", "vars", n))
		if string(got) != string(committed) {
			t.Errorf("--vars-only output vars/%s differs from the committed one", n)
		}
	}
}
