package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

// TestIntegrationMissingGitNamed: without the git plugin Jenkins would
// store a Pipeline-from-SCM job with a null SCM (200, nothing refused),
// so plan names git and the job needing it before anything is written,
// and --install-plugins installs exactly what the rendered jobs use,
// without a restart for fresh plugins (dynamic load).
func TestIntegrationMissingGitNamed(t *testing.T) {
	e := newEnv(t, []string{"placeholder"}, jenkinstest.WithoutPlugins("git", "workflow-scm-step"), jenkinstest.WithPluginDownloadTime(5*time.Millisecond))
	e.setSpec(specWithSCMJob(e.url))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err := e.converge(ctx, plan.Options{})
	var pe *jenkins.PluginsError
	if !errors.As(err, &pe) || strings.Join(pe.Missing, ",") != "git,workflow-scm-step" ||
		!strings.Contains(err.Error(), "git (used by job app/from-git)") {
		t.Fatalf("plan without git: %v", err)
	}
	if w := e.writes(); len(w) != 0 {
		t.Errorf("plan wrote %v", w)
	}
	p, _, err := e.converge(ctx, plan.Options{InstallPlugins: true})
	if err != nil {
		t.Fatal(err)
	}
	var installs []string
	for _, c := range p.Changes {
		if c.Kind == plan.KindPlugin {
			installs = append(installs, c.Name)
		}
	}
	if strings.Join(installs, ",") != "git,workflow-scm-step" {
		t.Errorf("installs %v", installs)
	}
	for _, w := range e.writes() {
		if strings.Contains(w, "safeRestart") {
			t.Errorf("restarted for fresh plugins: %v", e.writes())
		}
	}
	e.check(ctx)
}

func specWithSCMJob(url string) string {
	return `version: 1
jenkins: {url: "` + url + `", user: admin, token: "${JENKINS_API_TOKEN}"}
cloudsmith: {org: acme, service: jenkins-ci}
oidc: {credential: oidc-token-cred, audience: jenkins}
defaults: {repo: demo, formats: [python]}
jobs:
  - {name: app/from-git, type: pipeline, scm: {url: "https://git.example.com/app.git"}}
`
}

// TestIntegrationOldReleasesWarned: plan says which components are older
// than the supported releases (README "Supported versions") and why.
func TestIntegrationOldReleasesWarned(t *testing.T) {
	e := newEnv(t, []string{"a:freestyle"}, jenkinstest.WithVersion("2.462.3"), jenkinstest.WithPluginVersion("oidc-provider", "111.v29fd614b_3617"))
	p, err := plan.Compute(context.Background(), plan.Input{Spec: e.s, Output: e.out, Jenkins: e.jc}, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(p.Warnings, "\n")
	if !strings.Contains(w, "jenkins 2.462.3 is older than the oldest supported release 2.479.1") ||
		!strings.Contains(w, "oidc-provider 111.v29fd614b_3617 is older than the oldest supported release 170.v15f73e25a_e28") {
		t.Errorf("warnings:\n%s", w)
	}
}

// TestIntegrationMissingDependency: without the credentials plugin,
// credentials-binding and oidc-provider are installed but cannot load;
// plan names credentials, and --install-plugins installs it and restarts
// (a plugin that failed to load needs one).
func TestIntegrationMissingDependency(t *testing.T) {
	e := newEnv(t, []string{"a:freestyle"}, jenkinstest.WithoutPlugins("credentials"),
		jenkinstest.WithPluginDownloadTime(5*time.Millisecond), jenkinstest.WithRestartDuration(20*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err := e.converge(ctx, plan.Options{})
	if err == nil || !strings.Contains(err.Error(), "credentials (used by installed plugins that cannot load without it)") {
		t.Fatalf("plan without credentials: %v", err)
	}
	if _, _, err := e.converge(ctx, plan.Options{InstallPlugins: true}); err != nil {
		t.Fatal(err)
	}
	restarted := false
	for _, w := range e.writes() {
		restarted = restarted || strings.Contains(w, "safeRestart")
	}
	if !restarted {
		t.Errorf("no restart for plugins that failed to load: %v", e.writes())
	}
	e.check(ctx)
}
