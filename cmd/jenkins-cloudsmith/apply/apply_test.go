package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	applyCmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/apply"
	planCmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/plan"
	pruneCmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/prune"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan/plantest"
)

// cli runs commands against one emulated controller.
type cli struct {
	t     *testing.T
	url   string
	j     *jenkinstest.Jenkins
	spec  string
	token string
}

func newCLI(t *testing.T, opts ...jenkinstest.Option) *cli {
	url, j := plantest.StartJenkins(t, opts...)
	return &cli{t: t, url: url, j: j, spec: filepath.Join(t.TempDir(), "spec.yaml"), token: j.AdminToken()}
}

func (c *cli) writeSpec(url string, jobs ...string) {
	if err := os.WriteFile(c.spec, []byte(plantest.SpecYAML(url, jobs...)), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// run executes one command and returns stdout, stderr and the exit code.
func (c *cli) run(newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (string, string, int) {
	ios, _, out, errOut := iostreams.Test(map[string]string{"JENKINS_API_TOKEN": c.token})
	f := &cmdutil.Factory{IO: ios, Version: "test"}
	cmd := newCmd(f)
	cmd.SetArgs(append(args, "-f", c.spec))
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	var ee *cmdutil.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.Err != nil) {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	if c.token != "" && strings.Contains(out.String()+errOut.String(), c.token) {
		c.t.Errorf("output shows the Jenkins token:\n%s\n%s", out, errOut)
	}
	return out.String(), errOut.String(), cmdutil.ExitCode(err)
}

func TestPlanApplyPrune(t *testing.T) {
	c := newCLI(t)
	c.writeSpec(c.url, "team-a/build-wheel:pipeline", "team-a/hello:freestyle", "old:freestyle")

	out, errOut, code := c.run(planCmd.NewCmd, "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan exit %d, want 2\n%s%s", code, out, errOut)
	}
	for _, w := range []string{"+ create folder team-a", "+ create credential oidc-token-cred", "! rotate OIDC signing key",
		"+ create job team-a/build-wheel", "+ create job team-a/hello", "Plan: 0 to install, 5 to create"} {
		if !strings.Contains(out, w) {
			t.Errorf("plan output lacks %q:\n%s", w, out)
		}
	}

	out, errOut, code = c.run(applyCmd.NewCmd)
	if code != 0 || !strings.Contains(out, "created 3, updated 0, replaced 0, deleted 0, unchanged 0 jobs") {
		t.Fatalf("apply exit %d:\n%s%s", code, out, errOut)
	}
	c.j.ResetRequests()
	out, errOut, code = c.run(applyCmd.NewCmd, "--output", "json")
	var res struct {
		Created       *int `json:"created"`
		UnchangedJobs int  `json:"unchanged_jobs"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.Created == nil || *res.Created != 0 || res.UnchangedJobs != 3 {
		t.Fatalf("second apply --output json exit %d (%v):\n%s%s", code, err, out, errOut)
	}
	for _, r := range c.j.Requests() {
		if r.Method != "GET" {
			t.Errorf("second apply wrote: %s %s", r.Method, r.Path)
		}
	}
	if out, errOut, code = c.run(planCmd.NewCmd, "--detailed-exitcode"); code != 0 || !strings.Contains(out, "No changes") {
		t.Fatalf("plan after apply exit %d:\n%s%s", code, out, errOut)
	}

	c.writeSpec(c.url, "team-a/build-wheel:pipeline", "team-a/hello:freestyle")
	out, _, code = c.run(planCmd.NewCmd, "--prune", "--output", "json")
	var js struct {
		FormatVersion int `json:"format_version"`
		Changes       []struct{ Action, Kind, Name string }
		Summary       struct {
			Delete        int `json:"delete"`
			UnchangedJobs int `json:"unchanged_jobs"`
		}
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != 0 {
		t.Fatalf("plan --output json (exit %d): %v\n%s", code, err, out)
	}
	if js.FormatVersion != 1 || js.Summary.Delete != 1 || js.Summary.UnchangedJobs != 2 || js.Changes[0].Name != "old" {
		t.Errorf("json plan: %+v", js)
	}
	if out, _, _ = c.run(pruneCmd.NewCmd, "--dry-run"); !strings.Contains(out, "- delete job old") {
		t.Errorf("prune --dry-run:\n%s", out)
	}
	if out, errOut, code = c.run(pruneCmd.NewCmd); code != 0 || !strings.Contains(out, "deleted 1") {
		t.Errorf("prune exit %d:\n%s%s", code, out, errOut)
	}
	if _, ok := c.j.ItemByFullName("old"); ok {
		t.Error("prune left job old")
	}
}

func TestErrorsAreClear(t *testing.T) {
	tests := []struct {
		name string
		opts []jenkinstest.Option
		url  string // "" = the emulator
		env  bool   // set JENKINS_API_TOKEN
		want []string
	}{
		{name: "missing plugin named", opts: []jenkinstest.Option{jenkinstest.WithoutPlugins("oidc-provider")}, env: true,
			want: []string{"oidc-provider", "--install-plugins"}},
		{name: "unreachable host named", url: "http://127.0.0.1:1/", env: true, want: []string{"127.0.0.1:1"}},
		{name: "unset secret named", env: false, want: []string{"JENKINS_API_TOKEN", "spec.yaml:2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, tt.opts...)
			url := tt.url
			if url == "" {
				url = c.url
			}
			c.writeSpec(url, "a:freestyle")
			if !tt.env {
				c.token = ""
			}
			_, errOut, code := c.run(planCmd.NewCmd)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("error lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, newCmd := range []func(*cmdutil.Factory) *cobra.Command{planCmd.NewCmd, applyCmd.NewCmd, pruneCmd.NewCmd} {
		ios, _, _, _ := iostreams.Test(nil)
		cmd := newCmd(&cmdutil.Factory{IO: ios})
		if cmd.Example == "" || cmd.Long == "" {
			t.Errorf("%s: no examples or long help", cmd.Name())
		}
	}
}

func TestInstallPlugins(t *testing.T) {
	c := newCLI(t, jenkinstest.WithoutPlugins("oidc-provider", "cloudbees-folder"))
	c.writeSpec(c.url, "team-a/hello:freestyle")
	out, errOut, code := c.run(applyCmd.NewCmd, "--install-plugins")
	if code != 0 {
		t.Fatalf("apply --install-plugins exit %d:\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "Installing plugins cloudbees-folder, oidc-provider") ||
		!strings.Contains(out, "created 1,") || !strings.Contains(out, "installed plugins cloudbees-folder, oidc-provider") {
		t.Errorf("output:\n%s%s", out, errOut)
	}
	if _, _, code := c.run(planCmd.NewCmd, "--detailed-exitcode"); code != 0 {
		t.Errorf("plan after apply exit %d", code)
	}
}

// deployerCLI returns a CLI whose spec logs in as "deployer", a user with
// the job and credential permissions apply needs plus extra.
func deployerCLI(t *testing.T, extra ...jenkinstest.Permission) *cli {
	t.Helper()
	u := jenkinstest.User{Name: "deployer", Token: "11deployer0token0000000000000000ab", Permissions: append([]jenkinstest.Permission{
		jenkinstest.OverallRead, jenkinstest.ItemRead, jenkinstest.ItemExtendedRead, jenkinstest.ItemConfigure,
		jenkinstest.CredentialsView, jenkinstest.CredentialsCreate, jenkinstest.CredentialsUpdate}, extra...)}
	c := newCLI(t, jenkinstest.WithUser(u))
	c.token = u.Token
	y := strings.Replace(plantest.SpecYAML(c.url, "hello"), "user: admin", "user: deployer", 1)
	if err := os.WriteFile(c.spec, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMissingPermissionNamed(t *testing.T) {
	c := deployerCLI(t, jenkinstest.SystemRead)
	out, errOut, code := c.run(applyCmd.NewCmd)
	if code != 1 || !strings.Contains(errOut, "hudson.model.Item.Create") || !strings.Contains(errOut, "deployer") {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
}

// A deployer without Overall/SystemRead cannot read the plugin list (most
// controllers grant it only with Administer): plan and apply skip that check
// with a warning instead of refusing to work.
func TestPluginListHiddenWarns(t *testing.T) {
	c := deployerCLI(t, jenkinstest.ItemCreate)
	out, errOut, code := c.run(applyCmd.NewCmd)
	if code != 0 || !strings.Contains(errOut, "plugin check was skipped") || !strings.Contains(errOut, "Overall/SystemRead") {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
	out, errOut, code = c.run(planCmd.NewCmd, "--detailed-exitcode")
	if code != 0 || !strings.Contains(out+errOut, "plugin check was skipped") {
		t.Errorf("plan exit %d:\n%s%s", code, out, errOut)
	}
}
