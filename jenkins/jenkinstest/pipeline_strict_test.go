package jenkinstest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/gitserve"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
)

// TestPipelineBindingRules pins credentials-binding rules a lenient
// emulator got wrong: usernamePassword needs a workspace like file (only
// StringBinding's descriptor overrides requiresWorkspace), the masking
// line lists the secret variables in the binding's own order (a secret
// username before the password), and println is the echo step
// (CpsScript.println), so it is masked inside withCredentials only.
func TestPipelineBindingRules(t *testing.T) {
	requireGroovy(t)
	s := testServer(t)
	c := adminClient(t, s)
	createTokenCred(t, c, "credentials/store/system/domain/_/", "oidc", "jenkins", "")
	base := "credentials/store/system/domain/_/"
	c.mustStatus(302, "POST", base+"createCredentials",
		"json="+urlEscape(`{"credentials":{"$class":"`+ClassIDTokenFile+`","id":"oidc-file","audience":"jenkins"}}`), formCT)
	c.mustStatus(200, "POST", base+"createCredentials", `<com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl><id>up</id><usernameSecret>true</usernameSecret><username>bob-secret-user</username><password>hunter2-pw</password></com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>`, xmlCT)
	tests := []struct {
		name, script string
		result       string
		want, avoid  []string
	}{
		{"usernamePassword outside node", `withCredentials([usernamePassword(credentialsId: 'up', usernameVariable: 'U', passwordVariable: 'P')]) { echo 'x' }`,
			"FAILURE", []string{"Required context class hudson.FilePath is missing\nPerhaps you forgot to surround the withCredentials step with a step that provides this, such as: node"}, nil},
		{"string binding outside node", `withCredentials([string(credentialsId: 'oidc', variable: 'T')]) { echo 'ok' }`,
			"SUCCESS", []string{"Masking supported pattern matches of $T\n", "ok\n"}, nil},
		{"secret username listed first", `node { withCredentials([usernamePassword(credentialsId: 'up', usernameVariable: 'U', passwordVariable: 'P')]) { sh 'echo "u=$U p=$P"' } }`,
			"SUCCESS", []string{"Masking supported pattern matches of $U or $P\n", "u=**** p=****\n"}, []string{"bob-secret-user", "hunter2-pw"}},
		{"println is echo, masked in the block only", `def tok
withCredentials([string(credentialsId: 'oidc', variable: 'T')]) {
    tok = env.T
    println('in=' + tok)
}
println('out=' + tok)`,
			"SUCCESS", []string{"[Pipeline] echo\nin=****\n", "[Pipeline] echo\nout=eyJ"}, nil},
		// BindingStep's FailureHandler: an exception leaving the block has the secrets masked (MaskedException).
		{"failure message masked", `withCredentials([string(credentialsId: 'oidc', variable: 'T')]) { error('tok=' + env.T) }`, "FAILURE", []string{"ERROR: tok=****\n"}, []string{"eyJ"}},
		// FileBinding writes next to the step's FilePath context (dir), WorkspaceList.tempDir.
		{"file binding next to the current directory", `node { dir('sub') { withCredentials([file(credentialsId: 'oidc-file', variable: 'F')]) {
    sh 'case "$F" in */sub@tmp/secretFiles/*) echo next-to-sub ;; *) echo elsewhere ;; esac'
} } }`, "SUCCESS", []string{"\nnext-to-sub\n"}, nil},
		// CpsScript.getProperty falls back to the build's environment.
		{"bare environment variable", `echo 'n=' + BUILD_NUMBER`, "SUCCESS", []string{"n=1\n"}, nil},
		{"unknown property", `echo 'n=' + NO_SUCH_THING`, "FAILURE", []string{"groovy.lang.MissingPropertyException: No such property: NO_SUCH_THING"}, nil},
	}
	for i, tt := range tests {
		i, tt := i, tt
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			result, console := runPipeline(t, c, fmt.Sprintf("b%d", i), pipelineJob(tt.script, true))
			if result != tt.result {
				t.Errorf("result %s, want %s:\n%s", result, tt.result, console)
			}
			for _, w := range tt.want {
				if !strings.Contains(console, w) {
					t.Errorf("console lacks %q:\n%s", w, console)
				}
			}
			for _, a := range tt.avoid {
				if strings.Contains(console, a) {
					t.Errorf("console shows %q:\n%s", a, console)
				}
			}
		})
	}
}

// TestBindingTypeCheckedBeforeMinting: MultiBinding.getCredentials checks
// type().isInstance(cred) before the binding asks the credential for its
// secret, so a string binding of an ID-token-as-file credential fails with
// the type message even where minting would fail too (no Jenkins URL:
// "Apparently unsubstituted claims").
func TestBindingTypeCheckedBeforeMinting(t *testing.T) {
	s := testServer(t, WithoutRootURL())
	c := adminClient(t, s)
	c.mustStatus(302, "POST", "credentials/store/system/domain/_/createCredentials",
		"json="+urlEscape(`{"credentials":{"$class":"`+ClassIDTokenFile+`","id":"oidc-file","audience":"jenkins"}}`), formCT)
	result, console := buildStringBinding(t, c, "typed", "oidc-file")
	want := "Credentials 'oidc-file' is of type 'OpenID Connect id token as file' where 'org.jenkinsci.plugins.plaincredentials.StringCredentials' was expected"
	if result != "FAILURE" || !strings.Contains(console, want) || strings.Contains(console, "unsubstituted") {
		t.Errorf("result %s; want the type message:\n%s", result, console)
	}
}

// TestLibraryVersionRules pins pipeline-groovy-lib's version rules:
// LibraryConfiguration.defaultedVersion refuses any @version (even the
// default one) unless allowVersionOverride, LibraryStep wants a version
// with an explicit retriever ("Must specify a version"), and a library
// loaded twice is "Only using first definition", not an error.
func TestLibraryVersionRules(t *testing.T) {
	requireGroovy(t)
	testenv.LookPath(t, "git", "--version")
	ctx := context.Background()
	root := t.TempDir()
	lib := fstest.MapFS{"vars/greet.groovy": {Data: []byte("def call() { echo 'hello' }\n")}}
	if _, err := gitserve.Publish(ctx, root, "lib", "main", "lib", lib); err != nil {
		t.Fatal(err)
	}
	gs, err := gitserve.Start(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gs.Close() }) // after the parallel subtests
	s := testServer(t, WithGlobalLibrary(GlobalLibrary{Name: "shared", Remote: gs.URL + "lib.git", DefaultVersion: "main"}),
		WithBuildEnv("LIB_URL="+gs.URL+"lib.git"))
	c := adminClient(t, s)
	tests := []pipelineCase{
		{"default version named without override", "@Library('shared@main') _\ngreet()", "FAILURE",
			"General error during conversion: Version override not permitted for library shared\n"}, // LibraryAdder runs while the script compiles
		{"retriever without version", "library identifier: 'other', retriever: modernSCM([$class: 'GitSCMSource', remote: env.LIB_URL])", "FAILURE",
			"ERROR: Must specify a version for library other\n"},
		{"loaded twice", "@Library('shared') _\nlibrary 'shared'\ngreet()", "SUCCESS", "Only using first definition of library shared\n"},
	}
	runPipelineCases(t, c, "l", tests)
}

// TestSystemScopedCredentialsInvisibleToBuilds: SystemCredentialsProvider
// hands items only credentials matching not(withScope(SYSTEM)), so a
// build binding a SYSTEM-scoped credential of the system store fails as
// if it did not exist.
func TestSystemScopedCredentialsInvisibleToBuilds(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	c.mustStatus(200, "POST", "credentials/store/system/domain/_/createCredentials",
		`<org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl><scope>SYSTEM</scope><id>sys</id><secret>s3cr3t-value</secret></org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>`, xmlCT)
	result, console := buildStringBinding(t, c, "scoped", "sys")
	if result != "FAILURE" || !strings.Contains(console, "Could not find credentials entry with ID 'sys'") {
		t.Errorf("result %s:\n%s", result, console)
	}
}

// TestUnsandboxedScriptNeedsApproval: a CpsFlowDefinition with sandbox
// false runs only once its script is approved (script-security
// ScriptApproval.configuring): saved by an Administer user it is approved
// at once, saved by anyone else it waits and the build fails with
// UnapprovedUsageException. Sandboxed scripts need no approval.
func TestUnsandboxedScriptNeedsApproval(t *testing.T) {
	requireGroovy(t)
	s := testServer(t, WithUser(User{Name: "dev", Token: "dev-token", Permissions: []Permission{OverallRead, ItemRead, ItemCreate, ItemConfigure, ItemBuild, ItemExtendedRead}}))
	admin := adminClient(t, s)
	dev := &client{t: t, base: s.URL, user: "dev", secret: "dev-token", hc: noFollow()}
	script := "echo 'ran unsandboxed'"
	result, console := runPipeline(t, dev, "by-dev", pipelineJob(script, false))
	if want := "org.jenkinsci.plugins.scriptsecurity.scripts.UnapprovedUsageException: script not yet approved for use\n"; result != "FAILURE" || !strings.Contains(console, want) {
		t.Errorf("non-admin's unsandboxed script: result %s, console lacks %q:\n%s", result, want, console)
	}
	// The same script saved by an administrator is approved, for every job.
	if result, console := runPipeline(t, admin, "by-admin", pipelineJob(script, false)); result != "SUCCESS" {
		t.Errorf("admin's script: %s\n%s", result, console)
	}
	if result, console := runPipeline(t, dev, "by-dev", pipelineJob(script, false)); result != "SUCCESS" {
		t.Errorf("approved script: %s\n%s", result, console)
	}
	if result, console := runPipeline(t, dev, "sandboxed", pipelineJob("echo 'other'", true)); result != "SUCCESS" {
		t.Errorf("sandboxed script: %s\n%s", result, console)
	}
}

// buildStringBinding builds a new freestyle job that binds credential id
// with a StringBinding and returns the result and the console.
func buildStringBinding(t *testing.T, c *client, name, id string) (string, string) {
	t.Helper()
	job := `<project><buildWrappers><org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper><bindings>
<org.jenkinsci.plugins.credentialsbinding.impl.StringBinding><credentialsId>` + id + `</credentialsId><variable>T</variable></org.jenkinsci.plugins.credentialsbinding.impl.StringBinding>
</bindings></org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper></buildWrappers>
<builders><hudson.tasks.Shell><command>true</command></hudson.tasks.Shell></builders></project>`
	c.mustStatus(200, "POST", "createItem?name="+name, job, xmlCT)
	r := c.mustStatus(201, "POST", "job/"+name+"/build", "")
	n, result := waitBuild(t, c, r.header.Get("Location"), name)
	return result, c.mustStatus(200, "GET", fmt.Sprintf("job/%s/%d/consoleText", name, n), "").body
}

// TestTokenClaimsFromRunEnvironment: IdTokenCredentials.token() fills
// claims from build.getEnvironment(TaskListener.NULL), the Run's
// environment (env.X assignments included), not the step context: a
// withEnv override neither fills a claim nor changes sub, and WORKSPACE
// (a node's context) is not there.
func TestTokenClaimsFromRunEnvironment(t *testing.T) {
	requireGroovy(t)
	claims := DefaultClaimTemplates()
	claims.Build = append(claims.Build, ClaimTemplate{Name: "team", Format: "${TEAM}", Type: ClaimString})
	s := testServer(t, WithClaimTemplates(claims))
	c := adminClient(t, s)
	createTokenCred(t, c, "credentials/store/system/domain/_/", "oidc", "jenkins", "")
	tests := []pipelineCase{
		{"withEnv does not reach the claims", `node { withEnv(['TEAM=red']) { withCredentials([string(credentialsId: 'oidc', variable: 'T')]) { sh 'true' } } }`,
			"FAILURE", "Apparently unsubstituted claims: ${TEAM}"},
		{"env assignment does", `env.TEAM = 'red'
node { withCredentials([string(credentialsId: 'oidc', variable: 'T')]) { sh 'true' } }`,
			"SUCCESS", "Finished: SUCCESS"},
	}
	runPipelineCases(t, c, "e", tests)
}

// pipelineCase is a sandboxed Pipeline script, the result its build
// must end with and a line its console must hold.
type pipelineCase struct{ name, script, result, want string }

// runPipelineCases builds each case as its own job (prefix + index), in
// parallel: each build is a JVM.
func runPipelineCases(t *testing.T, c *client, prefix string, tests []pipelineCase) {
	t.Helper()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			result, console := runPipeline(t, c, fmt.Sprintf("%s%d", prefix, i), pipelineJob(tt.script, true))
			if result != tt.result || !strings.Contains(console, tt.want) {
				t.Errorf("result %s, want %s; console lacks %q:\n%s", result, tt.result, tt.want, console)
			}
		})
	}
}

// TestCopyNeedsExtendedReadOfTheSource: ItemGroupMixIn.copy checks
// Item/Create on the parent and Item/ExtendedRead on the source, so a
// user who may create jobs but not read their configuration cannot copy
// one (and so read its config through the copy).
func TestCopyNeedsExtendedReadOfTheSource(t *testing.T) {
	s := testServer(t, WithUser(User{Name: "maker", Token: "maker-token", Permissions: []Permission{OverallRead, ItemRead, ItemCreate}}))
	admin := adminClient(t, s)
	admin.mustStatus(200, "POST", "createItem?name=src", freestyleXML, xmlCT)
	maker := &client{t: t, base: s.URL, user: "maker", secret: "maker-token", hc: noFollow()}
	r := maker.mustStatus(403, "POST", "createItem?name=dst&mode=copy&from=src", "")
	if got := r.header.Get("X-Required-Permission"); got != string(ItemExtendedRead) {
		t.Errorf("X-Required-Permission %q", got)
	}
	maker.mustStatus(404, "GET", "job/dst/api/json", "")
}

// TestFreestyleLabelWithoutNodeWaits: a freestyle job tied to a label no
// node has never starts; its queue item stays a BuildableItem whose why
// is "There are no nodes with the label ‘…’" (core Label/Queue,
// hudson.model.queue.CauseOfBlockage.BecauseLabelIsOffline/Messages
// Queue_LabelHasNoNodes), instead of running on the built-in node.
func TestFreestyleLabelWithoutNodeWaits(t *testing.T) {
	s := testServer(t, WithQuietPeriod(0))
	c := adminClient(t, s)
	job := `<project><assignedNode>arm64</assignedNode><canRoam>false</canRoam><builders><hudson.tasks.Shell><command>true</command></hudson.tasks.Shell></builders></project>`
	c.mustStatus(200, "POST", "createItem?name=labelled", job, xmlCT)
	loc := c.mustStatus(201, "POST", "job/labelled/build", "").header.Get("Location")
	var qi struct {
		Class      string `json:"_class"`
		Why        string
		Buildable  bool
		Executable any
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		r := c.mustStatus(200, "GET", strings.TrimPrefix(loc, s.URL)+"api/json", "")
		if err := json.Unmarshal([]byte(r.body), &qi); err != nil {
			t.Fatal(err)
		}
		if qi.Class == "hudson.model.Queue$BuildableItem" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if qi.Class != "hudson.model.Queue$BuildableItem" || qi.Why != "There are no nodes with the label ‘arm64’" || !qi.Buildable || qi.Executable != nil {
		t.Errorf("queue item %+v", qi)
	}
	c.mustStatus(404, "GET", "job/labelled/1/api/json", "")

	// WithAgentLabels gives the built-in node the label: then it runs.
	s2 := testServer(t, WithQuietPeriod(0), WithAgentLabels("arm64"))
	c2 := adminClient(t, s2)
	c2.mustStatus(200, "POST", "createItem?name=labelled", job, xmlCT)
	loc = c2.mustStatus(201, "POST", "job/labelled/build", "").header.Get("Location")
	if _, result := waitBuild(t, c2, loc, "labelled"); result != "SUCCESS" {
		t.Errorf("labelled build on a node with the label: %s", result)
	}
}

// TestFreestyleClaimsIgnoreOtherBindings: SecretBuildWrapper binds each
// binding in turn while the token's claims come from
// build.getEnvironment(), which holds none of the bound variables: a
// variable an earlier binding sets does not fill a claim.
func TestFreestyleClaimsIgnoreOtherBindings(t *testing.T) {
	claims := DefaultClaimTemplates()
	claims.Build = append(claims.Build, ClaimTemplate{Name: "team", Format: "${TEAM}", Type: ClaimString})
	s := testServer(t, WithClaimTemplates(claims))
	c := adminClient(t, s)
	base := "credentials/store/system/domain/_/"
	c.mustStatus(200, "POST", base+"createCredentials", `<org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl><id>team</id><secret>red</secret></org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>`, xmlCT)
	createTokenCred(t, c, base, "oidc", "jenkins", "")
	job := `<project><buildWrappers><org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper><bindings>
<org.jenkinsci.plugins.credentialsbinding.impl.StringBinding><credentialsId>team</credentialsId><variable>TEAM</variable></org.jenkinsci.plugins.credentialsbinding.impl.StringBinding>
<org.jenkinsci.plugins.credentialsbinding.impl.StringBinding><credentialsId>oidc</credentialsId><variable>T</variable></org.jenkinsci.plugins.credentialsbinding.impl.StringBinding>
</bindings></org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper></buildWrappers>
<builders><hudson.tasks.Shell><command>true</command></hudson.tasks.Shell></builders></project>`
	c.mustStatus(200, "POST", "createItem?name=two", job, xmlCT)
	r := c.mustStatus(201, "POST", "job/two/build", "")
	n, result := waitBuild(t, c, r.header.Get("Location"), "two")
	console := c.mustStatus(200, "GET", fmt.Sprintf("job/two/%d/consoleText", n), "").body
	if result != "FAILURE" || !strings.Contains(console, "Apparently unsubstituted claims: ${TEAM}") {
		t.Errorf("result %s:\n%s", result, console)
	}
}
