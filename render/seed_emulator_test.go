package render

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/gitserve"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// seedSpec is a spec with an API key and a seed job; the seed checks it
// out of git and applies it.
const seedSpec = `version: 1
jenkins: {url: %q, user: automation, token: "${JENKINS_API_TOKEN}"}
cloudsmith: {org: acme, service: jenkins-ci, api_key: "${CLOUDSMITH_API_KEY}"}
oidc: {credential: oidc-token-cred, audience: jenkins}
jobs:
  - {name: team-a/build, type: freestyle, repo: demo, formats: [python], steps: ["true"]}
seed:
  name: jenkins-admin/seed
  scm: {url: %q, branch: main}
  spec_path: ci/spec.yaml
  credential: jenkins-api
  cloudsmith_credential: cloudsmith-api-key
`

// TestSeedJobRunsOnEmulator builds the seed job of a spec with
// cloudsmith.api_key on the Jenkins emulator: the Pipeline checks the
// spec out of git, binds the Jenkins user and token and the Cloudsmith
// API key into the variables the spec names, and runs jenkins-cloudsmith
// on it. Here jenkins-cloudsmith is the real binary's validate (apply's
// first step, spec.Load, resolves every secret the spec references), so a
// secret the seed forgot to bind fails the build.
func TestSeedJobRunsOnEmulator(t *testing.T) {
	testenv.LookPath(t, "groovy", "--version")
	testenv.LookPath(t, "git", "--version")
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "jenkins-cloudsmith-real"), "../cmd/jenkins-cloudsmith")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building jenkins-cloudsmith: %v\n%s", err, out)
	}
	wrapper := "#!/bin/sh\nset -eu\n[ \"$1\" = apply ] && [ \"$2\" = -f ]\nexec jenkins-cloudsmith-real validate -f \"$3\"\n"
	if err := os.WriteFile(filepath.Join(bin, "jenkins-cloudsmith"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}

	js, err := jenkinstest.Start(jenkinstest.WithBuildEnv("PATH=" + bin + ":/usr/bin:/bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer js.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := t.TempDir()
	text := fmt.Sprintf(seedSpec, js.URL, "REPO")
	gs, err := gitserve.Start(root)
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Close()
	text = strings.Replace(text, `"REPO"`, fmt.Sprintf("%q", gs.URL+"specs.git"), 1)
	if _, err := gitserve.Publish(ctx, root, "specs", "main", "spec", fstest.MapFS{"ci/spec.yaml": {Data: []byte(text)}}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"JENKINS_API_TOKEN": "t0ken-value", "CLOUDSMITH_API_KEY": "k3y-value"}
	s, err := spec.Parse("spec.yaml", []byte(text), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	out := mustRender(t, s)

	c, err := jenkins.New(jenkins.Config{URL: js.URL, User: "admin", Token: js.Jenkins.AdminToken()})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range out.Folders {
		if err := c.CreateFolder(ctx, f.Path, f.ConfigXML); err != nil {
			t.Fatal(err)
		}
	}
	// The administrator's part: the seed's credentials, in its folder.
	store := js.URL + "job/jenkins-admin/credentials/store/folder/domain/_/createCredentials"
	for _, x := range []string{
		`<com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl><id>jenkins-api</id><username>automation</username><password>t0ken-value</password></com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>`,
		`<org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl><id>cloudsmith-api-key</id><secret>k3y-value</secret></org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>`,
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, store, strings.NewReader(x))
		req.SetBasicAuth("admin", js.Jenkins.AdminToken())
		req.Header.Set("Content-Type", "application/xml")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("create credential: %s", res.Status)
		}
	}
	seed := jobByName(t, out, "jenkins-admin/seed")
	if err := c.CreateJob(ctx, seed.Name, seed.ConfigXML); err != nil {
		t.Fatal(err)
	}
	q, err := c.TriggerBuild(ctx, seed.Name)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.WaitForQueueItem(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.WaitForBuild(ctx, seed.Name, n)
	if err != nil {
		t.Fatal(err)
	}
	console, _ := c.ConsoleText(ctx, seed.Name, n)
	if b.Result != "SUCCESS" || !strings.Contains(string(console), "ci/spec.yaml: OK (1 job)") {
		t.Fatalf("seed build %s:\n%s", b.Result, console)
	}
	for _, secret := range []string{"t0ken-value", "k3y-value"} {
		if strings.Contains(string(console), secret) {
			t.Errorf("console shows a secret:\n%s", console)
		}
	}
}
