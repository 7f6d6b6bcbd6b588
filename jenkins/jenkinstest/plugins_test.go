package jenkinstest

import (
	"strings"
	"testing"
	"time"
)

// waitFor polls until ok or fails after a second.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestPluginInstallIsAsynchronous pins PluginManager.prevalidateConfig
// and the UpdateCenter's installer thread: the POST answers at once with a
// redirect to pluginManager/updates/, downloads (dependencies first) take
// time, a fresh plugin loads dynamically, an upgrade waits for a restart,
// /safeRestart does not wait for downloads, updateCenter/safeRestart does.
func TestPluginInstallIsAsynchronous(t *testing.T) {
	s := testServer(t, WithoutPlugins("git", "scm-api", "workflow-scm-step"), WithPluginVersion("credentials-binding", "600.v1"),
		WithPluginDownloadTime(80*time.Millisecond), WithRestartDuration(50*time.Millisecond))
	c := adminClient(t, s)
	r := c.mustStatus(302, "POST", "pluginManager/installNecessaryPlugins", `<jenkins><install plugin="git@latest"/></jenkins>`, xmlCT)
	if r.header.Get("Location") != s.URL+"pluginManager/updates/" {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	r = c.mustStatus(200, "GET", "updateCenter/api/json?tree=jobs[name,type,status[type,success]]", "")
	if !strings.Contains(r.body, `"name":"scm-api","status":{"_class":"hudson.model.UpdateCenter$DownloadJob$Pending","success":false,"type":"Pending"}`) ||
		strings.Index(r.body, `"name":"git"`) < strings.Index(r.body, `"name":"workflow-scm-step"`) {
		t.Fatalf("jobs right after the POST: %s", r.body)
	}
	if s.Jenkins.PluginActive("git") {
		t.Fatal("git active before its download finished")
	}
	waitFor(t, "git to load dynamically", func() bool { return s.Jenkins.PluginActive("git") })
	r = c.mustStatus(200, "GET", "updateCenter/api/json?tree=jobs[name,status[type]],restartRequiredForCompletion", "")
	if !strings.Contains(r.body, `"restartRequiredForCompletion":false`) || !strings.Contains(r.body, `"name":"git","status":{"_class":"hudson.model.UpdateCenter$DownloadJob$Success","type":"Success"}`) {
		t.Errorf("after the downloads: %s", r.body)
	}

	// An upgrade needs a restart; /safeRestart cuts off a running download.
	c.mustStatus(302, "POST", "pluginManager/installNecessaryPlugins", `<jenkins><install plugin="credentials-binding@687"/></jenkins>`, xmlCT)
	c.mustStatus(302, "POST", "safeRestart", "")
	waitReady(t, c)
	if v := s.Jenkins.PluginVersion("credentials-binding"); v != "600.v1" {
		t.Errorf("a download cut off by safeRestart installed %q", v)
	}
	// updateCenter/safeRestart queues behind the download.
	c.mustStatus(302, "POST", "pluginManager/installNecessaryPlugins", `<jenkins><install plugin="credentials-binding@687"/></jenkins>`, xmlCT)
	r = c.mustStatus(302, "POST", "updateCenter/safeRestart", "")
	if r.header.Get("Location") != s.URL+"updateCenter/" {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	r = c.mustStatus(200, "GET", "updateCenter/api/json?tree=jobs[type,status[type]],restartRequiredForCompletion", "")
	if !strings.Contains(r.body, `{"_class":"hudson.model.UpdateCenter$RestartJenkinsJob","type":"RestartJenkinsJob","status":{"_class":"hudson.model.UpdateCenter$RestartJenkinsJob$Pending","type":"Pending"}}`) {
		t.Errorf("restart job: %s", r.body)
	}
	waitFor(t, "the restart", func() bool { return c.do("GET", "api/json", "").status == 503 })
	waitReady(t, c)
	if v := s.Jenkins.PluginVersion("credentials-binding"); v != "687.v619cb_15e923f" {
		t.Errorf("after updateCenter/safeRestart credentials-binding is %q", v)
	}

	c.mustStatus(500, "POST", "pluginManager/installNecessaryPlugins", `<jenkins><install plugin="git"/></jenkins>`, xmlCT)
	c.mustStatus(405, "GET", "updateCenter/safeRestart", "")
}

// TestRestartPermissions pins Jenkins.doSafeRestart (Overall/Manage since
// 2.475, Administer before) and UpdateCenter.doSafeRestart and
// prevalidateConfig (Administer).
func TestRestartPermissions(t *testing.T) {
	for _, tc := range []struct {
		version     string
		safeRestart int
	}{{"2.528.3", 302}, {"2.474", 403}} {
		s := testServer(t, WithVersion(tc.version), WithRestartDuration(time.Millisecond),
			WithUser(User{Name: "admin", Token: "a"}),
			WithUser(User{Name: "manager", Token: "m", Permissions: []Permission{OverallRead, Manage}}))
		c := &client{t: t, base: s.URL, user: "manager", secret: "m", hc: noFollow()}
		c.mustStatus(403, "POST", "updateCenter/safeRestart", "")
		c.mustStatus(403, "POST", "pluginManager/installNecessaryPlugins", `<jenkins/>`, xmlCT)
		c.mustStatus(tc.safeRestart, "POST", "safeRestart", "")
	}
}

// TestUnknownClassesDropped pins RobustReflectionConverter: a job whose
// SCM class belongs to a missing plugin is created (200) with a null SCM;
// its build fails; and a step from a missing plugin is no DSL method.
func TestUnknownClassesDropped(t *testing.T) {
	s := testServer(t, WithoutPlugins("git"))
	c := adminClient(t, s)
	scmJob := `<flow-definition><definition class="org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition">` +
		`<scm class="hudson.plugins.git.GitSCM"><userRemoteConfigs><hudson.plugins.git.UserRemoteConfig><url>https://example.com/r.git</url>` +
		`</hudson.plugins.git.UserRemoteConfig></userRemoteConfigs></scm><scriptPath>Jenkinsfile</scriptPath></definition></flow-definition>`
	c.mustStatus(200, "POST", "createItem?name=p", scmJob, xmlCT)
	// The identity copy still shows it; the next save does not.
	if r := c.mustStatus(200, "GET", "job/p/config.xml", ""); !strings.Contains(r.body, "GitSCM") {
		t.Errorf("identity copy lost the scm: %s", r.body)
	}
	c.mustStatus(302, "POST", "job/p/submitDescription", "description=x", formCT)
	if r := c.mustStatus(200, "GET", "job/p/config.xml", ""); strings.Contains(r.body, "GitSCM") || !strings.Contains(r.body, "CpsScmFlowDefinition") {
		t.Errorf("saved form kept the unknown scm: %s", r.body)
	}
	requireGroovy(t)
	result, log := runPipeline(t, c, "p", scmJob)
	if result != "FAILURE" || !strings.Contains(log, "the job's SCM is null") {
		t.Errorf("%s console:\n%s", result, log)
	}
}

// TestStepsOfMissingPlugins: each step comes from its plugin; without it
// DSL knows no such method, and @Library needs pipeline-groovy-lib.
func TestStepsOfMissingPlugins(t *testing.T) {
	requireGroovy(t)
	for _, tc := range []struct{ without, script, want string }{
		{"workflow-durable-task-step", "node { echo 'x' }", "No such DSL method 'node' found among steps [catchError, checkout, dir, echo,"},
		{"workflow-basic-steps", "withEnv(['A=b']) { }", "No such DSL method 'withEnv'"},
		{"pipeline-stage-step", "stage('s') { }", "No such DSL method 'stage'"},
		{"credentials-binding", "withCredentials([]) { }", "No such DSL method 'withCredentials'"},
		{"pipeline-groovy-lib", "@Library('x') _\necho 'y'", "unable to resolve class Library"},
		{"git", "node { checkout([$class: 'GitSCM', userRemoteConfigs: [[url: 'https://example.com/r.git']]]) }", "java.lang.UnsupportedOperationException: no known implementation of class hudson.scm.SCM is named GitSCM"},
	} {
		s := testServer(t, WithoutPlugins(tc.without))
		c := adminClient(t, s)
		result, log := runPipeline(t, c, "p", pipelineJob(tc.script, true))
		if result != "FAILURE" || !strings.Contains(log, tc.want) {
			t.Errorf("without %s: %s\n%s", tc.without, result, log)
		}
	}
}

// TestMissingDependencyKeepsDependentsInactive pins PluginManager's
// startup: a plugin whose mandatory dependency is missing does not load
// (listed, enabled, inactive), and installing the dependency later loads
// it only with a restart.
func TestMissingDependencyKeepsDependentsInactive(t *testing.T) {
	s := testServer(t, WithoutPlugins("credentials"), WithPluginDownloadTime(time.Millisecond), WithRestartDuration(10*time.Millisecond))
	c := adminClient(t, s)
	r := c.mustStatus(200, "GET", "pluginManager/api/json?tree=plugins[shortName,active,enabled]", "")
	for _, p := range []string{"credentials-binding", "oidc-provider", "cloudbees-folder", "plain-credentials"} {
		if !strings.Contains(r.body, `{"active":false,"enabled":true,"shortName":"`+p+`"}`) {
			t.Errorf("%s should be installed but inactive: %s", p, r.body)
		}
	}
	c.mustStatus(404, "GET", "oidc/jwks", "")
	c.mustStatus(302, "POST", "pluginManager/installNecessaryPlugins", `<jenkins><install plugin="credentials@latest"/></jenkins>`, xmlCT)
	waitFor(t, "credentials to load", func() bool { return s.Jenkins.PluginActive("credentials") })
	if s.Jenkins.PluginActive("oidc-provider") {
		t.Error("a plugin that failed to load came up without a restart")
	}
	c.mustStatus(302, "POST", "updateCenter/safeRestart", "")
	waitFor(t, "the restart", func() bool { return c.do("GET", "api/json", "").status == 503 })
	waitReady(t, c)
	if !s.Jenkins.PluginActive("oidc-provider") || !s.Jenkins.PluginActive("credentials-binding") {
		t.Error("dependents inactive after the restart")
	}
}
