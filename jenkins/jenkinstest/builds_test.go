package jenkinstest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
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
echo "file=$(cat "$OIDC_TOKEN_FILE")"
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
	for _, want := range []string{"Started by user admin\n", "token=****\n", "file=****\n", "1 b extra-value\n", "+ echo token=****\n", "$ /bin/sh -xe ", "Finished: SUCCESS\n"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q:\n%s", want, console)
		}
	}
	if strings.Contains(console, "eyJ") {
		t.Errorf("token leaked:\n%s", console)
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
		{"pipeline not executed", pipelineXML, "does not execute Pipeline scripts"},
		{"missing credential", strings.Replace(buildJobXML, "<credentialsId>oidc</credentialsId>", "<credentialsId>nope</credentialsId>", 1), "Could not find credentials entry with ID 'nope'"},
		{"unknown step", `<project><builders><hudson.tasks.Ant/></builders></project>`, "does not emulate the build step hudson.tasks.Ant"},
	}
	s := testServer(t)
	c := adminClient(t, s)
	createTokenCred(t, c, "credentials/store/system/domain/_/", "oidc", "jenkins", "")
	for i, tt := range tests {
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
