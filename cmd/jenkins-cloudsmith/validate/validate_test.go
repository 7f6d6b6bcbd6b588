package validate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
)

const good = `version: 1
jenkins: {url: https://jenkins.example.com/, user: automation, token: "${JENKINS_API_TOKEN}"}
cloudsmith: {org: acme, service: jenkins-ci}
oidc: {credential: oidc-token-cred, audience: jenkins}
jobs:
  - {name: a, type: freestyle, repo: r, formats: [python], steps: [make]}
  - {name: b, type: freestyle, repo: r, formats: [python], steps: [make]}
`

// bad has three problems: a literal token, an unknown key and a bad type.
const bad = `version: 1
jenkins: {url: https://jenkins.example.com/, user: automation, token: s3cr3t-literal}
cloudsmith: {org: acme, service: jenkins-ci}
oidc: {credential: oidc-token-cred, audience: jenkins, audiance: x}
jobs:
  - {name: a, type: maven, repo: r, formats: [python], steps: [make]}
`

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test(env)
	in.WriteString(stdin)
	cmd := NewCmd(&cmdutil.Factory{IO: ios})
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

var env = map[string]string{"JENKINS_API_TOKEN": "tok"}

func TestValidate(t *testing.T) {
	goodPath, badPath := write(t, good), write(t, bad)
	cases := []struct {
		name         string
		env          map[string]string
		stdin        string
		args         []string
		code         int
		out, errOut  []string
		notInOutputs []string
	}{
		{"ok", env, "", []string{"-f", goodPath}, 0, []string{goodPath + ": OK (2 jobs)\n"}, nil, nil},
		{"stdin", env, good, []string{"-f", "-"}, 0, []string{"<stdin>: OK (2 jobs)"}, nil, nil},
		{"unset secret", nil, "", []string{"-f", goodPath}, 1, nil, []string{":2:", "JENKINS_API_TOKEN", "1 problem\n"}, nil},
		{"offline", nil, "", []string{"--offline", "-f", goodPath}, 0, []string{"OK (2 jobs)"}, nil, nil},
		{"all errors", env, "", []string{"-f", badPath}, 1, nil, []string{
			badPath + ":2:71: jenkins.token holds a literal secret",
			badPath + `:4:56: oidc.audiance: unknown key "audiance" in oidc (fix: remove it: "audience", the key it looks like, is already set here)`,
			badPath + `:6:21: jobs[0].type: job type "maven"`,
			"3 problems",
		}, []string{"s3cr3t-literal"}},
		{"missing file", env, "", []string{"-f", filepath.Join(t.TempDir(), "nope.yaml")}, 1, nil, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := runCmd(t, tc.env, tc.stdin, tc.args...)
			if got := cmdutil.ExitCode(err); got != tc.code {
				t.Fatalf("exit %d, want %d (err %v)\nstdout: %s\nstderr: %s", got, tc.code, err, out, errOut)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout %q lacks %q", out, w)
				}
			}
			for _, w := range tc.errOut {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			for _, w := range tc.notInOutputs {
				if strings.Contains(out+errOut, w) {
					t.Errorf("output leaks %q", w)
				}
			}
		})
	}
}

func TestValidateJSON(t *testing.T) {
	badPath := write(t, bad)
	out, _, err := runCmd(t, env, "", "-f", badPath, "--output", "json")
	if cmdutil.ExitCode(err) != 1 {
		t.Fatalf("exit %d", cmdutil.ExitCode(err))
	}
	var res Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if res.Valid || len(res.Errors) != 3 || res.Errors[0].Line != 2 || res.Errors[0].Column != 71 ||
		res.Errors[0].Path != "jenkins.token" || res.Errors[0].Hint == "" || res.Errors[0].File != badPath {
		t.Errorf("result = %+v", res)
	}

	out, _, err = runCmd(t, env, "", "-f", write(t, good), "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Valid || res.Jobs != 2 || res.Errors == nil || len(res.Errors) != 0 {
		t.Errorf("result = %+v (%v)\n%s", res, err, out)
	}
	if !strings.Contains(out, `"errors": []`) {
		t.Errorf("errors must be [] not null for scripts: %s", out)
	}
}

func TestValidateBadOutputFlag(t *testing.T) {
	_, _, err := runCmd(t, env, "", "-f", "x", "--output", "yaml")
	if err == nil || !strings.Contains(err.Error(), "use text or json") {
		t.Errorf("err = %v", err)
	}
}

func TestHelpHasExamples(t *testing.T) {
	out, _, err := runCmd(t, nil, "", "--help")
	if err != nil || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--offline") {
		t.Errorf("help: %v\n%s", err, out)
	}
}
