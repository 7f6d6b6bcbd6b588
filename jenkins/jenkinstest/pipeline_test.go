package jenkinstest

import (
	"fmt"
	"html"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
)

// pipelineJob is a WorkflowJob with an inline CpsFlowDefinition script.
func pipelineJob(script string, sandbox bool) string {
	return fmt.Sprintf(`<flow-definition><description>p</description><definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition"><script>%s</script><sandbox>%t</sandbox></definition></flow-definition>`,
		html.EscapeString(script), sandbox)
}

// runPipeline creates (or updates) job name, builds it and returns the
// result and the console.
func runPipeline(t *testing.T, c *client, name, config string) (string, string) {
	t.Helper()
	if r := c.do("GET", "job/"+name+"/api/json", ""); r.status == 404 {
		c.mustStatus(200, "POST", "createItem?name="+name, config, xmlCT)
	} else {
		c.mustStatus(200, "POST", "job/"+name+"/config.xml", config, xmlCT)
	}
	r := c.mustStatus(201, "POST", "job/"+name+"/build", "")
	n, result := waitBuild(t, c, r.header.Get("Location"), name)
	return result, c.mustStatus(200, "GET", fmt.Sprintf("job/%s/%d/consoleText", name, n), "").body
}

// requireGroovy skips (fails under CI) without a groovy that runs. It
// probes with the JAVA_HOME the emulator itself picks (FindGroovy), so a
// machine with Debian's groovy and Java 17 but no JAVA_HOME runs these
// tests instead of skipping them.
func requireGroovy(t *testing.T) {
	t.Helper()
	groovy, javaHome, err := FindGroovy()
	if err == nil {
		cmd := exec.Command(groovy, "--version")
		cmd.Env = append(os.Environ(), "JAVA_HOME="+javaHome)
		err = cmd.Run()
	}
	testenv.Require(t, err, "groovy --version")
}

// TestPipelineSteps runs one Pipeline build through the step runtime:
// the console's [Pipeline] lines, sh as durable-task runs it, bindings
// masked as credentials-binding does, withEnv without expansion.
func TestPipelineSteps(t *testing.T) {
	requireGroovy(t)
	s := testServer(t)
	c := adminClient(t, s)
	createTokenCred(t, c, "credentials/store/system/domain/_/", "oidc", "jenkins", "")
	c.mustStatus(302, "POST", "credentials/store/system/domain/_/createCredentials",
		"json="+urlEscape(`{"credentials":{"$class":"`+ClassIDTokenFile+`","id":"oidc-file","audience":"jenkins"}}`), formCT)
	script := `node {
    stage('Build') {
        withEnv(['HOSTILE=$(id) ${BUILD_NUMBER} \'"` + "`x`" + `']) {
            sh 'printf "%s\\n" "$HOSTILE"'
        }
        withCredentials([string(credentialsId: 'oidc', variable: 'TOK'), file(credentialsId: 'oidc-file', variable: 'TF')]) {
            sh 'echo "tok=$TOK"; echo "path=$TF"; echo "mode=$(stat -c %a "$TF")"'
        }
        def out = sh(script: 'printf "caf\\303\\251"', returnStdout: true)
        echo "ascii=${out}"
        echo "utf8=" + sh(script: 'printf "caf\\303\\251"', returnStdout: true, encoding: 'UTF-8')
        echo "status=" + sh(script: 'exit 3', returnStatus: true)
        writeFile file: 'sub/a.txt', text: 'hello'
        dir('sub') { echo "read=" + readFile('a.txt') + " exists=" + fileExists('a.txt') + " unix=" + isUnix() }
        catchError(buildResult: 'UNSTABLE') { error 'soft failure' }
        env.LATER = 'set'
        sh 'echo "later=$LATER"'
    }
}`
	result, console := runPipeline(t, c, "p", pipelineJob(script, true))
	if result != "UNSTABLE" {
		t.Fatalf("result %s:\n%s", result, console)
	}
	for _, want := range []string{
		"[Pipeline] Start of Pipeline\n[Pipeline] node\nRunning on Jenkins in ",
		"[Pipeline] {\n[Pipeline] stage\n[Pipeline] { (Build)\n[Pipeline] withEnv\n[Pipeline] {\n[Pipeline] sh\n",
		"$(id) ${BUILD_NUMBER} '\"`x`\n", // withEnv does not expand; the shell sees the text verbatim
		"[Pipeline] withCredentials\nMasking supported pattern matches of $TOK or $TF\n",
		"tok=****\n", "path=****\n", "mode=400\n",
		"ascii=caf\uFFFD\uFFFD\n", "utf8=café\n", "status=3\n",
		"read=hello exists=true unix=true\n",
		"[Pipeline] catchError\n[Pipeline] {\n[Pipeline] error\n[Pipeline] }\nERROR: soft failure\n[Pipeline] // catchError\n",
		"later=set\n",
		"[Pipeline] }\n[Pipeline] // node\n[Pipeline] End of Pipeline\nFinished: UNSTABLE\n",
	} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q:\n%s", want, console)
		}
	}
	if strings.Contains(console, "Warning: A secret was passed") {
		t.Errorf("no secret was interpolated:\n%s", console)
	}
}

// TestPipelineFailures pins how builds fail: each case's console line
// follows the upstream exception (see doc.go's table).
func TestPipelineFailures(t *testing.T) {
	requireGroovy(t)
	s := testServer(t)
	c := adminClient(t, s)
	createTokenCred(t, c, "credentials/store/system/domain/_/", "oidc", "jenkins", "")
	c.mustStatus(302, "POST", "credentials/store/system/domain/_/createCredentials",
		"json="+urlEscape(`{"credentials":{"$class":"`+ClassIDTokenFile+`","id":"oidc-file","audience":"jenkins"}}`), formCT)
	tests := []struct {
		name, script string
		sandbox      bool
		result, want string
	}{
		{"unknown step", `node { retry(2) { echo 'x' } }`, true, "FAILURE", "java.lang.NoSuchMethodError: No such DSL method 'retry' found among steps ["},
		{"bat on a unix agent", `node { bat 'dir' }`, true, "FAILURE", "java.io.IOException: Batch scripts can only be run on Windows nodes\n"},
		{"isUnix outside node", `echo 'unix=' + isUnix()`, true, "FAILURE", "Required context class hudson.Launcher is missing\nPerhaps you forgot to surround the isUnix step with a step that provides this, such as: node"},
		{"sh outside node", `sh 'true'`, true, "FAILURE", "Required context class hudson.FilePath is missing\nPerhaps you forgot to surround the sh step with a step that provides this, such as: node"},
		{"failing sh", `node { sh 'exit 1' }`, true, "FAILURE", "[Pipeline] End of Pipeline\nERROR: script returned exit code 1\nFinished: FAILURE\n"},
		{"sandbox refuses env[name]", `node { echo env['BUILD_NUMBER'] }`, true, "FAILURE",
			"org.jenkinsci.plugins.scriptsecurity.sandbox.RejectedAccessException: Scripts not permitted to use staticMethod org.codehaus.groovy.runtime.DefaultGroovyMethods getAt java.lang.Object java.lang.String\n"},
		{"trusted script may use env[name]", `node { echo 'n=' + env['BUILD_NUMBER'] + ' ' + env.getProperty('JOB_NAME') }`, false, "SUCCESS", "n=1 f"},
		{"string binding of a file credential", `node { withCredentials([string(credentialsId: 'oidc-file', variable: 'T')]) { sh 'true' } }`, true, "FAILURE",
			"ERROR: Credentials 'oidc-file' is of type 'OpenID Connect id token as file' where 'org.jenkinsci.plugins.plaincredentials.StringCredentials' was expected\n"},
		{"file binding of a string credential", `node { withCredentials([file(credentialsId: 'oidc', variable: 'T')]) { sh 'true' } }`, true, "FAILURE",
			"ERROR: Credentials 'oidc' is of type 'OpenID Connect id token' where 'org.jenkinsci.plugins.plaincredentials.FileCredentials' was expected\n"},
		{"checkout scm of an inline script", `node { checkout scm }`, true, "FAILURE", "is only available when using “Multibranch Pipeline” or “Pipeline script from SCM”"},
		{"secret interpolated by Groovy", `node { withCredentials([string(credentialsId: 'oidc', variable: 'T')]) { sh "echo ${env.T} > /dev/null" } }`, true, "SUCCESS",
			"Warning: A secret was passed to \"sh\" using Groovy String interpolation, which is insecure.\n\t\t Affected argument(s) used the following variable(s): [T]\n"},
		{"unknown label", `node('windows') { echo 'x' }`, true, "FAILURE", "There are no nodes with the label ‘windows’"},
		{"bashism under sh", `node { sh '[[ x == x ]]' }`, true, "FAILURE", "[[: not found"},
		// CpsScript.sleep makes "sleep 5" the (unmodelled) step, never Groovy's millisecond sleep.
		{"sleep is the step", `sleep 5`, true, "FAILURE", "java.lang.NoSuchMethodError: No such DSL method 'sleep' found among steps ["},
	}
	for i, tt := range tests {
		i, tt := i, tt
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each build is a JVM; jobs differ, so they may overlap
			if strings.Contains(tt.name, "bashism") {
				requireDashSh(t)
			}
			name := fmt.Sprintf("f%d", i)
			if tt.result == "SUCCESS" && strings.HasPrefix(tt.want, "n=") {
				name = "f" // the expected output names the job
			}
			result, console := runPipeline(t, c, name, pipelineJob(tt.script, tt.sandbox))
			if result != tt.result || !strings.Contains(console, tt.want) {
				t.Errorf("result %s, want %s; console lacks %q:\n%s", result, tt.result, tt.want, console)
			}
			if strings.Contains(console, "eyJ") {
				t.Errorf("token in console:\n%s", console)
			}
		})
	}
}

// TestPipelineWithoutGroovy: a pipeline build on a machine without groovy
// fails with a line saying what to install.
func TestPipelineWithoutGroovy(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	s := testServer(t)
	c := adminClient(t, s)
	result, console := runPipeline(t, c, "p", pipelineJob(`echo 'x'`, true))
	if result != "FAILURE" || !strings.Contains(console, "groovy is not installed: install it (Debian: apt-get install groovy)") {
		t.Errorf("result %s:\n%s", result, console)
	}
}
