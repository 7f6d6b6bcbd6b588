package jenkinstest

import (
	"context"
	"fmt"
	"html"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/gitserve"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
)

func scmJob(url, branch, scriptPath string) string {
	return fmt.Sprintf(`<flow-definition><definition class="org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition"><scm class="hudson.plugins.git.GitSCM"><configVersion>2</configVersion>
<userRemoteConfigs><hudson.plugins.git.UserRemoteConfig><url>%s</url></hudson.plugins.git.UserRemoteConfig></userRemoteConfigs>
<branches><hudson.plugins.git.BranchSpec><name>%s</name></hudson.plugins.git.BranchSpec></branches></scm><scriptPath>%s</scriptPath><lightweight>true</lightweight></definition></flow-definition>`,
		html.EscapeString(url), html.EscapeString(branch), html.EscapeString(scriptPath))
}

// TestPipelineFromSCMWithLibraries checks a CpsScmFlowDefinition out of a
// repository served over git's smart HTTP protocol, loads a global
// trusted library with @Library (trusted: env['X'] allowed) and an
// untrusted one with library(retriever: modernSCM(...)) (sandboxed:
// env['X'] refused), and refuses a file:// remote (SECURITY-2478).
func TestPipelineFromSCMWithLibraries(t *testing.T) {
	requireGroovy(t)
	testenv.LookPath(t, "git", "--version")
	ctx := context.Background()
	root := t.TempDir()
	lib := fstest.MapFS{"vars/greet.groovy": {Data: []byte("def call(String who) {\n    echo 'hello ' + who + ' from ' + env['JOB_NAME']\n}\n")}}
	if _, err := gitserve.Publish(ctx, root, "lib", "main", "lib", lib, "v1"); err != nil {
		t.Fatal(err)
	}
	app := fstest.MapFS{
		"ci/Jenkinsfile": {Data: []byte("@Library('shared@v1') _\nnode {\n    checkout scm\n    sh 'cat marker.txt'\n    greet('you')\n    library identifier: 'untrusted@main', retriever: modernSCM([$class: 'GitSCMSource', remote: env.LIB_URL])\n    greet('again')\n}\n")},
		"marker.txt":     {Data: []byte("checked-out-marker\n")},
	}
	if _, err := gitserve.Publish(ctx, root, "app", "main", "app", app); err != nil {
		t.Fatal(err)
	}
	gs, err := gitserve.Start(root)
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Close()

	s := testServer(t, WithGlobalLibrary(GlobalLibrary{Name: "shared", Remote: gs.URL + "lib.git", DefaultVersion: "main", AllowOverride: true}),
		WithBuildEnv("LIB_URL="+gs.URL+"lib.git"))
	c := adminClient(t, s)
	result, console := runPipeline(t, c, "app", scmJob(gs.URL+"app.git", "*/main", "ci/Jenkinsfile"))
	for _, want := range []string{
		"Obtained ci/Jenkinsfile from git " + gs.URL + "app.git\n",
		"Loading library shared@v1\n",
		"checked-out-marker\n",
		"hello you from app\n",
		"Loading library untrusted@main\n",
		// The untrusted copy of greet replaced the trusted one and runs sandboxed.
		"RejectedAccessException: Scripts not permitted to use staticMethod org.codehaus.groovy.runtime.DefaultGroovyMethods getAt java.lang.Object java.lang.String",
	} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q:\n%s", want, console)
		}
	}
	if result != "FAILURE" {
		t.Errorf("result %s", result)
	}
	// @Library loads while the script compiles, before the Pipeline starts.
	if i, k := strings.Index(console, "Loading library shared@v1"), strings.Index(console, "[Pipeline] Start of Pipeline"); i < 0 || k < i {
		t.Errorf("library loaded at %d, Pipeline started at %d", i, k)
	}

	result, console = runPipeline(t, c, "local", scmJob(root+"/app.git", "*/main", "ci/Jenkinsfile"))
	if want := "ERROR: Checkout of Git remote '" + root + "/app.git' aborted because it references a local directory, which may be insecure. You can allow local checkouts anyway by setting the system property 'hudson.plugins.git.GitSCM.ALLOW_LOCAL_CHECKOUT' to true.\n"; result != "FAILURE" || !strings.Contains(console, want) {
		t.Errorf("local checkout: %s\n%s", result, console)
	}
}
