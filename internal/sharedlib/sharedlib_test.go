package sharedlib

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
)

// TestLibraryLoadsOnEmulator builds a Pipeline that loads the served
// library as the generated Jenkinsfiles do (@Library('jenkins-cloudsmith') _,
// no version: the global library's default) and calls into vars/.
func TestLibraryLoadsOnEmulator(t *testing.T) {
	testenv.LookPath(t, "git", "--version")
	testenv.LookPath(t, "groovy", "--version")
	lib, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	s, err := jenkinstest.Start(lib.Option())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	script := "@Library('jenkins-cloudsmith') _\nnode { echo 'unquoted=' + cloudsmithSupport.unquote(\"'it'\\\\''s'\") }\n"
	job := `<flow-definition><definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition"><script>` + html.EscapeString(script) + `</script><sandbox>true</sandbox></definition></flow-definition>`
	do := func(method, path, body string) string {
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		req.SetBasicAuth("admin", s.Jenkins.AdminToken())
		req.Header.Set("Content-Type", "application/xml")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	do("POST", "createItem?name=p", job)
	do("POST", "job/p/build", "")
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var b struct {
			Building bool
			Result   *string
		}
		if json.Unmarshal([]byte(do("GET", "job/p/lastBuild/api/json", "")), &b) == nil && b.Result != nil {
			console := do("GET", "job/p/lastBuild/consoleText", "")
			if *b.Result != "SUCCESS" || !strings.Contains(console, "Loading library jenkins-cloudsmith@main\n") || !strings.Contains(console, "unquoted=it's\n") {
				t.Fatalf("result %s:\n%s", *b.Result, console)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("build did not finish")
}
