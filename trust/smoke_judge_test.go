package trust

import (
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	const shell = "Running as SYSTEM\n[build] $ /bin/sh -xe /tmp/x.sh\n+ set +x\n"
	tests := []struct {
		name, console, result  string
		bound, exchanged, used bool
		problem                string
	}{
		{"ok", shell + "hello\nFinished: SUCCESS\n", "SUCCESS", true, true, true, ""},
		{"warning only", shell + "cloudsmith-oidc: warning: not caching: x\nFinished: SUCCESS\n", "SUCCESS", true, true, true, ""},
		{"no credential", "ERROR: Could not find credentials entry with ID 'x'\nFinished: FAILURE\n", "FAILURE", false, false, false, "not bound"},
		{"no token", shell + "cloudsmith-oidc: no OIDC token: bind the oidc-provider credential\n", "FAILURE", false, false, false, "not bound"},
		{"binary missing", shell + "/tmp/x.sh: line 9: cloudsmith-oidc: command not found\n", "FAILURE", true, false, false, "binary is missing"},
		{"exchange refused", shell + "cloudsmith-oidc: cloudsmith: exchanging the OIDC token ... 401 Unauthorized\n", "FAILURE", true, false, false, "the exchange failed"},
		{"steps failed", shell + "make: *** [all] Error 2\n", "FAILURE", true, true, false, "steps failed"},
		{"pipeline not run", "Started by user admin\n[Pipeline] Start of Pipeline\n[Pipeline] End of Pipeline\nERROR: No library named x found\nFinished: FAILURE\n", "FAILURE", false, false, false, "never started (result FAILURE): ERROR: No library named x found"},
		{"pipeline ok", "[Pipeline] withCredentials\nMasking supported pattern matches of $OIDC_TOKEN\n[Pipeline] {\n[Pipeline] sh\n+ set +x\nhello\nFinished: SUCCESS\n", "SUCCESS", true, true, true, ""},
	}
	for _, tt := range tests {
		r := &SmokeResult{Result: tt.result}
		judge(r, tt.console)
		if r.Bound != tt.bound || r.Exchanged != tt.exchanged || r.Used != tt.used || !strings.Contains(r.Problem, tt.problem) {
			t.Errorf("%s: %+v", tt.name, r)
		}
	}
}

func TestFollowerMasks(t *testing.T) {
	var b strings.Builder
	f := &follower{w: &b, secrets: []string{"s3cret-api-key"}}
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2oifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	f.feed([]byte("key s3cret-api-key\ntoken "+jwt+"\npartial"), false)
	if strings.Contains(b.String(), "partial") {
		t.Error("an incomplete line was printed before the build ended")
	}
	f.feed([]byte("key s3cret-api-key\ntoken "+jwt+"\npartial line\n"), true)
	out := b.String()
	if strings.Contains(out, "s3cret") || strings.Contains(out, jwt) || !f.leaked || !strings.Contains(out, "partial line") {
		t.Errorf("follower output %q leaked=%v", out, f.leaked)
	}
}
