package jenkinstest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
)

const buildJobXML = `<project>
  <description>b</description>
  <buildWrappers>
    <org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper>
      <bindings>
        <org.jenkinsci.plugins.credentialsbinding.impl.StringBinding>
          <variable>OIDC_TOKEN</variable>
          <credentialsId>oidc</credentialsId>
        </org.jenkinsci.plugins.credentialsbinding.impl.StringBinding>
        <org.jenkinsci.plugins.credentialsbinding.impl.FileBinding>
          <credentialsId>oidc-file</credentialsId>
          <variable>OIDC_TOKEN_FILE</variable>
        </org.jenkinsci.plugins.credentialsbinding.impl.FileBinding>
      </bindings>
    </org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper>
  </buildWrappers>
  <builders>
    <hudson.tasks.Shell><command>echo "token=$OIDC_TOKEN"
test "$(cat "$OIDC_TOKEN_FILE")" != "$OIDC_TOKEN"
echo "path=$OIDC_TOKEN_FILE"
echo "file=$(cat "$OIDC_TOKEN_FILE")"
echo "mode=$(stat -c %a "$OIDC_TOKEN_FILE")"
echo "name=$(basename "$OIDC_TOKEN_FILE" | sed 's/[0-9]/n/g')"
echo "dir=$(dirname "$(dirname "$OIDC_TOKEN_FILE")" | sed "s|^$WORKSPACE@tmp/|WS/|")"
echo "$BUILD_NUMBER $JOB_NAME $EXTRA"
test -d "$WORKSPACE_TMP" &amp;&amp; test "$PWD" = "$WORKSPACE"
echo "$OIDC_TOKEN" | cut -d. -f2 &gt; payload.txt</command></hudson.tasks.Shell>
  </builders>
</project>`

// waitBuild polls the queue item and then the build, as a client would.
func waitBuild(t *testing.T, c *client, queueURL, job string) (number int, result string) {
	t.Helper()
	path := strings.TrimPrefix(queueURL, c.base)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var qi struct {
			Class      string `json:"_class"`
			Executable *struct{ Number int }
		}
		r := c.mustStatus(200, "GET", path+"api/json", "")
		_ = json.Unmarshal([]byte(r.body), &qi)
		if qi.Executable != nil {
			number = qi.Executable.Number
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		var b struct {
			Building bool
			Result   *string
		}
		r := c.mustStatus(200, "GET", "job/"+job+"/lastBuild/api/json", "")
		_ = json.Unmarshal([]byte(r.body), &b)
		if !b.Building && b.Result != nil {
			return number, *b.Result
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("build did not finish")
	return 0, ""
}

func TestFreestyleBuild(t *testing.T) {
	s := testServer(t, WithBuildEnv("EXTRA=extra-value"))
	c := adminClient(t, s)
	createTokenCred(t, c, "credentials/store/system/domain/_/", "oidc", "jenkins", "")
	c.mustStatus(302, "POST", "credentials/store/system/domain/_/createCredentials",
		"json="+urlEscape(`{"credentials":{"$class":"`+ClassIDTokenFile+`","id":"oidc-file","audience":"jenkins"}}`), formCT)
	c.mustStatus(200, "POST", "createItem?name=b", buildJobXML, xmlCT)

	r := c.mustStatus(201, "POST", "job/b/build", "")
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, s.URL+"queue/item/") {
		t.Fatalf("Location %q", loc)
	}
	n, result := waitBuild(t, c, loc, "b")
	console := c.mustStatus(200, "GET", "job/b/1/consoleText", "").body
	if n != 1 || result != "SUCCESS" {
		t.Fatalf("build %d %s:\n%s", n, result, console)
	}
	// credentials-binding masks a FileBinding's value, the file's path
	// (AbstractOnDiskBinding.bindSingle), not its content: a real
	// controller prints the file's JWT in clear. FileBinding.write makes
	// file<random>.tmp, mode 0400, in UnbindableDir's
	// <workspace>@tmp/secretFiles/<uuid>/.
	for _, want := range []string{"Started by user admin\n", "token=****\n", "path=****\n", "\nfile=eyJ", "mode=400\n", "name=filennn", ".tmp\n", "dir=WS/secretFiles\n",
		"1 b extra-value\n", "+ echo token=****\n", "$ /bin/sh -xe ", "Finished: SUCCESS\n"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q:\n%s", want, console)
		}
	}
	if strings.Contains(console, "token=eyJ") {
		t.Errorf("string-bound token leaked:\n%s", console)
	}
	if last := c.mustStatus(200, "GET", "job/b/lastBuild/consoleText", "").body; last != console {
		t.Error("lastBuild/consoleText differs")
	}
	r = c.mustStatus(200, "GET", "job/b/api/json", "")
	if !strings.Contains(r.body, `"color":"blue"`) || !strings.Contains(r.body, `"nextBuildNumber":2`) {
		t.Errorf("job after build: %s", r.body)
	}

	// A failing step fails the build.
	c.mustStatus(200, "POST", "job/b/config.xml", strings.Replace(buildJobXML, "echo \"token", "false\necho \"token", 1), xmlCT)
	r = c.mustStatus(201, "POST", "job/b/build", "")
	if _, result := waitBuild(t, c, r.header.Get("Location"), "b"); result != "FAILURE" {
		t.Fatalf("result %s", result)
	}
	console = c.mustStatus(200, "GET", "job/b/2/consoleText", "").body
	if !strings.Contains(console, "Build step 'Execute shell' marked build as failure\nFinished: FAILURE\n") {
		t.Errorf("failure console:\n%s", console)
	}
}

func TestBuildFailures(t *testing.T) {
	tests := []struct {
		name, xml, want string
	}{
		{"missing credential", strings.Replace(buildJobXML, "<credentialsId>oidc</credentialsId>", "<credentialsId>nope</credentialsId>", 1), "Could not find credentials entry with ID 'nope'"},
		{"unknown step", `<project><builders><hudson.tasks.Ant/></builders></project>`, "does not emulate the build step hudson.tasks.Ant"},
		// MultiBinding.getCredentials: type().isInstance(cred), else
		// CredentialNotFoundException (an AbortException: "ERROR: …").
		{"string binding of a file credential", strings.Replace(buildJobXML, "<credentialsId>oidc</credentialsId>", "<credentialsId>oidc-file</credentialsId>", 1),
			"ERROR: Credentials 'oidc-file' is of type 'OpenID Connect id token as file' where 'org.jenkinsci.plugins.plaincredentials.StringCredentials' was expected\n"},
		{"file binding of a string credential", strings.Replace(buildJobXML, "<credentialsId>oidc-file</credentialsId>", "<credentialsId>oidc</credentialsId>", 1),
			"ERROR: Credentials 'oidc' is of type 'OpenID Connect id token' where 'org.jenkinsci.plugins.plaincredentials.FileCredentials' was expected\n"},
		// Shell.getShellOrDefault is /bin/sh, dash on Debian agents: a
		// bashism fails as it would there.
		{"bashism under /bin/sh", `<project><builders><hudson.tasks.Shell><command>[[ x == x ]] &amp;&amp; echo bash</command></hudson.tasks.Shell></builders></project>`, "[[: not found"},
	}
	s := testServer(t)
	c := adminClient(t, s)
	createTokenCred(t, c, "credentials/store/system/domain/_/", "oidc", "jenkins", "")
	c.mustStatus(302, "POST", "credentials/store/system/domain/_/createCredentials",
		"json="+urlEscape(`{"credentials":{"$class":"`+ClassIDTokenFile+`","id":"oidc-file","audience":"jenkins"}}`), formCT)
	for i, tt := range tests {
		if strings.HasPrefix(tt.name, "bashism") {
			requireDashSh(t)
		}
		t.Run(tt.name, func(t *testing.T) {
			name := "j" + string(rune('a'+i))
			c.mustStatus(200, "POST", "createItem?name="+name, tt.xml, xmlCT)
			r := c.mustStatus(201, "POST", "job/"+name+"/build", "")
			if _, result := waitBuild(t, c, r.header.Get("Location"), name); result != "FAILURE" {
				t.Errorf("result %s", result)
			}
			if console := c.mustStatus(200, "GET", "job/"+name+"/lastBuild/consoleText", "").body; !strings.Contains(console, tt.want) {
				t.Errorf("console lacks %q:\n%s", tt.want, console)
			}
		})
	}
}

func TestShebangAndQueueCoalescing(t *testing.T) {
	s := testServer(t, WithQuietPeriod(time.Second))
	c := adminClient(t, s)
	job := `<project><builders><hudson.tasks.Shell><command>#!/bin/bash
echo "no trace $((1+1))"</command></hudson.tasks.Shell></builders></project>`
	c.mustStatus(200, "POST", "createItem?name=s", job, xmlCT)
	first := c.mustStatus(201, "POST", "job/s/build", "").header.Get("Location")
	second := c.mustStatus(201, "POST", "job/s/build", "").header.Get("Location")
	if first != second {
		t.Errorf("a waiting item should absorb the second trigger: %s %s", first, second)
	}
	r := c.mustStatus(200, "GET", strings.TrimPrefix(first, s.URL)+"api/json", "")
	if !strings.Contains(r.body, `"_class":"hudson.model.Queue$WaitingItem"`) || !strings.Contains(r.body, `"why":"In the quiet period.`) {
		t.Errorf("waiting item: %s", r.body)
	}
	if _, result := waitBuild(t, c, first, "s"); result != "SUCCESS" {
		t.Fatal(result)
	}
	console := c.mustStatus(200, "GET", "job/s/1/consoleText", "").body
	if !strings.Contains(console, "$ /bin/bash ") || !strings.Contains(console, "no trace 2\n") || strings.Contains(console, "+ echo") {
		t.Errorf("shebang console:\n%s", console)
	}
	r = c.mustStatus(200, "GET", strings.TrimPrefix(first, s.URL)+"api/json", "")
	if !strings.Contains(r.body, `"executable":{"_class":"hudson.model.FreeStyleBuild","number":1,"url":"`+s.URL+`job/s/1/"}`) {
		t.Errorf("left item: %s", r.body)
	}
}

func TestSecretTextAndUsernameBindings(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	base := "credentials/store/system/domain/_/"
	c.mustStatus(200, "POST", base+"createCredentials", `<org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl><id>txt</id><secret>s3cr3t-value</secret></org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>`, xmlCT)
	c.mustStatus(200, "POST", base+"createCredentials", `<com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl><id>up</id><username>bob</username><password>hunter2-pw</password></com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>`, xmlCT)
	job := `<project><buildWrappers><org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper><bindings>
<org.jenkinsci.plugins.credentialsbinding.impl.StringBinding><credentialsId>txt</credentialsId><variable>TXT</variable></org.jenkinsci.plugins.credentialsbinding.impl.StringBinding>
<org.jenkinsci.plugins.credentialsbinding.impl.UsernamePasswordMultiBinding><credentialsId>up</credentialsId><usernameVariable>U</usernameVariable><passwordVariable>P</passwordVariable></org.jenkinsci.plugins.credentialsbinding.impl.UsernamePasswordMultiBinding>
</bindings></org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper></buildWrappers>
<builders><hudson.tasks.Shell><command>echo "$TXT $U $P"</command></hudson.tasks.Shell></builders></project>`
	c.mustStatus(200, "POST", "createItem?name=sec", job, xmlCT)
	r := c.mustStatus(201, "POST", "job/sec/build", "")
	if _, result := waitBuild(t, c, r.header.Get("Location"), "sec"); result != "SUCCESS" {
		t.Fatal(result)
	}
	console := c.mustStatus(200, "GET", "job/sec/lastSuccessfulBuild/consoleText", "").body
	if !strings.Contains(console, "**** bob ****\n") || strings.Contains(console, "s3cr3t") || strings.Contains(console, "hunter2") {
		t.Errorf("console:\n%s", console)
	}
	c.mustStatus(404, "GET", "job/sec/lastFailedBuild/api/json", "")
	c.mustStatus(200, "GET", "job/sec/1/api/json", "")
}

// TestJobQueueItem checks the job's "queueItem": Job.getQueueItem is
// @Exported and Queue.Item is @ExportedBean(defaultVisibility = 999)
// (jenkinsci/jenkins core/src/main/java/hudson/model/Queue.java), so at
// depth 0 the item's own properties show while its task, one level deeper,
// keeps only its _class. A second trigger while build #1 runs waits as a
// BlockedItem (BlockedBecauseOfBuildInProgress: "Build #{0} is already in
// progress{1}", ETA "N/A" without an estimate).
func TestJobQueueItem(t *testing.T) {
	s := testServer(t, WithQuietPeriod(5*time.Second))
	c := adminClient(t, s)
	c.mustStatus(200, "POST", "createItem?name=q", freestyleXML, xmlCT)
	r := c.mustStatus(200, "GET", "job/q/api/json", "")
	if !strings.Contains(r.body, `"queueItem":null`) {
		t.Errorf("idle job: %s", r.body)
	}
	loc := c.mustStatus(201, "POST", "job/q/build", "").header.Get("Location")
	var job struct {
		InQueue   bool
		QueueItem map[string]any
	}
	r = c.mustStatus(200, "GET", "job/q/api/json", "")
	if err := json.Unmarshal([]byte(r.body), &job); err != nil {
		t.Fatal(err)
	}
	qi := job.QueueItem
	if !job.InQueue || qi == nil || qi["_class"] != "hudson.model.Queue$WaitingItem" || fmt.Sprint(qi["id"]) != "1" ||
		!strings.HasSuffix(loc, "queue/item/1/") || qi["url"] != "queue/item/1/" || qi["blocked"] != false || qi["stuck"] != false {
		t.Fatalf("queued job: %s", r.body)
	}
	if why, _ := qi["why"].(string); !strings.HasPrefix(why, "In the quiet period. Expires in ") || !strings.HasSuffix(why, " sec") {
		t.Errorf("why = %q", why)
	}
	if !strings.Contains(r.body, `"task":{"_class":"hudson.model.FreeStyleProject"}`) || qi["actions"] != nil {
		t.Errorf("nesting: %s", r.body)
	}
	// The same item at /queue/item/1/ shows the task's visibility-2 fields.
	r = c.mustStatus(200, "GET", "queue/item/1/api/json", "")
	if !strings.Contains(r.body, `"task":{"_class":"hudson.model.FreeStyleProject","name":"q","url":"`+s.URL+`job/q/","color":"notbuilt"}`) {
		t.Errorf("queue item: %s", r.body)
	}
	// ?depth=1 reaches the task's fields and the item's actions.
	r = c.mustStatus(200, "GET", "job/q/api/json?depth=1", "")
	if !strings.Contains(r.body, `"actions":[],"blocked":false`) || !strings.Contains(r.body, `"task":{"_class":"hudson.model.FreeStyleProject","name":"q"`) {
		t.Errorf("depth=1: %s", r.body)
	}
}

func TestBlockedQueueItem(t *testing.T) {
	s := testServer(t, WithQuietPeriod(time.Millisecond))
	c := adminClient(t, s)
	job := `<project><builders><hudson.tasks.Shell><command>sleep 1</command></hudson.tasks.Shell></builders></project>`
	c.mustStatus(200, "POST", "createItem?name=b", job, xmlCT)
	first := c.mustStatus(201, "POST", "job/b/build", "").header.Get("Location")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.mustStatus(200, "GET", strings.TrimPrefix(first, s.URL)+"api/json", "").body, `"executable":{`) {
		if time.Now().After(deadline) {
			t.Fatal("build #1 did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.mustStatus(201, "POST", "job/b/build", "")
	time.Sleep(20 * time.Millisecond) // past the quiet period
	r := c.mustStatus(200, "GET", "job/b/api/json?tree=queueItem[*]", "")
	if !strings.Contains(r.body, `"queueItem":{"_class":"hudson.model.Queue$BlockedItem",`) || !strings.Contains(r.body, `"blocked":true,"buildable":false,"id":2,`) || !strings.Contains(r.body, `"why":"Build #1 is already in progress (ETA: N/A)","buildableStartMilliseconds":`) {
		t.Errorf("blocked item: %s", r.body)
	}
}

// TestTimeSpanString follows hudson.Util.getTimeSpanString and its
// Messages (Util.second "{0} sec", Util.millisecond "{0} ms").
func TestTimeSpanString(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{45 * time.Millisecond, "45 ms"},
		{120 * time.Millisecond, "0.12 sec"},
		{4950 * time.Millisecond, "4.9 sec"},
		{4 * time.Second, "4 sec"},
		{12 * time.Second, "12 sec"},
		{3*time.Minute + 43*time.Second, "3 min 43 sec"},
		{13*time.Minute + 43*time.Second, "13 min"},
		{2*time.Hour + 5*time.Minute, "2 hr 5 min"},
	} {
		if got := timeSpanString(tt.d); got != tt.want {
			t.Errorf("timeSpanString(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestFreestyleJobKeys pins the job bean's property order: Stapler's Model
// writes superclass properties first and each class's sorted by name
// (stapler org/kohsuke/stapler/export/Model.java, Property.compareTo), so
// Actionable, AbstractItem, Job, then AbstractProject (core
// hudson/model/{Actionable,AbstractItem,Job,AbstractProject}.java).
func TestFreestyleJobKeys(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	c.mustStatus(200, "POST", "createItem?name=k", freestyleXML, xmlCT)
	body := c.mustStatus(200, "GET", "job/k/api/json", "").body
	dec := json.NewDecoder(strings.NewReader(body))
	var keys []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 && dec.More() {
				keys = append(keys, v)
				var skip json.RawMessage
				_ = dec.Decode(&skip)
			}
		}
	}
	want := "_class actions description displayName displayNameOrNull fullDisplayName fullName name url " +
		"buildable builds color firstBuild healthReport inQueue keepDependencies lastBuild lastCompletedBuild " +
		"lastFailedBuild lastStableBuild lastSuccessfulBuild lastUnstableBuild lastUnsuccessfulBuild nextBuildNumber " +
		"property queueItem concurrentBuild disabled downstreamProjects labelExpression scm upstreamProjects"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("keys\n got %s\nwant %s", got, want)
	}
}

// TestBuildTrigger follows ParameterizedJobMixIn.doBuild (core
// jenkins/model/ParameterizedJobMixIn.java): ?delay= is a
// hudson.util.TimeDuration (ms, or "sec"/"secs"), a disabled job is 409
// "is not buildable", and BuildAuthorizationToken.checkPermission accepts
// GET only from API-token callers (else 405 with Allow: POST).
func TestBuildTrigger(t *testing.T) {
	s := testServer(t, WithQuietPeriod(time.Hour),
		WithUser(User{Name: "pw", Password: "secret", Permissions: []Permission{Administer}}))
	c := adminClient(t, s)
	c.mustStatus(200, "POST", "createItem?name=t", freestyleXML, xmlCT)
	c.mustStatus(200, "POST", "createItem?name=off", `<project><disabled>true</disabled></project>`, xmlCT)

	r := c.mustStatus(409, "POST", "job/off/build", "")
	if r.body != "java.io.IOException: off is not buildable\n" {
		t.Errorf("disabled body %q", r.body)
	}
	c.mustStatus(500, "POST", "job/t/build?delay=soon", "")
	pw := &client{t: t, base: s.URL, user: "pw", secret: "secret", hc: noFollow()}
	if r := pw.mustStatus(405, "GET", "job/t/build", ""); r.header.Get("Allow") != "POST" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	// doBuildWithParameters: permission first, "not buildable!", and 500
	// for a job without parameter definitions.
	c.mustStatus(500, "POST", "job/t/buildWithParameters", "")
	if r := c.mustStatus(409, "POST", "job/off/buildWithParameters", ""); !strings.HasSuffix(r.body, "is not buildable!\n") {
		t.Errorf("disabled buildWithParameters %q", r.body)
	}
	loc := c.mustStatus(201, "GET", "job/t/build?delay=0sec", "").header.Get("Location")
	if _, result := waitBuild(t, c, loc, "t"); result != "SUCCESS" {
		t.Errorf("delay=0sec build: %s", result)
	}
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{{"0", 0}, {"1500", 1500 * time.Millisecond}, {"3sec", 3 * time.Second}, {" 2 secs", 2 * time.Second}} {
		if got, err := parseTimeDuration(tt.in); err != nil || got != tt.want {
			t.Errorf("parseTimeDuration(%q) = %v, %v", tt.in, got, err)
		}
	}
}

// requireDashSh skips (fails under CI) unless /bin/sh is dash, as on the
// Debian agents whose behaviour the emulator's shell steps reproduce.
func requireDashSh(t *testing.T) {
	t.Helper()
	target, err := filepath.EvalSymlinks("/bin/sh")
	if err == nil && filepath.Base(target) != "dash" {
		err = fmt.Errorf("/bin/sh is %s, not dash", target)
	}
	testenv.Require(t, err, "dash as /bin/sh (Debian: apt-get install dash)")
}
