package render

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// TestFullStack runs what render produces with the real cloudsmith-oidc
// binary against both emulators: the Jenkins emulator mints the ID token
// and builds the freestyle job; the vars/ steps run under the Groovy stub
// with a token it minted; the Cloudsmith emulator verifies each token
// against the Jenkins issuer's JWKS and answers the exchange.
func TestFullStack(t *testing.T) {
	needTool(t, "bash")
	binDir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(binDir, "cloudsmith-oidc"), "../cmd/cloudsmith-oidc")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building cloudsmith-oidc: %v\n%s", err, out)
	}
	cs, err := cloudsmithtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	svc, err := cs.Cloudsmith.AddService(cloudsmithtest.Service{Name: "jenkins-ci"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Cloudsmith.GrantPrivilege(cs.Cloudsmith.Org(), cs.Cloudsmith.Repo(), svc.Slug, cloudsmithtest.PrivilegeRead); err != nil {
		t.Fatal(err)
	}
	js, err := jenkinstest.Start(jenkinstest.WithBuildEnv("PATH=" + binDir + ":/usr/bin:/bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer js.Close()
	if _, err := cs.Cloudsmith.AddProvider(cloudsmithtest.ProviderSettings{Name: "jenkins", ProviderURL: js.Jenkins.IssuerURL(""),
		// sub, not aud: the plugin's aud is an array, which the emulator
		// (like the strictest Cloudsmith) does not match against a string.
		Claims: map[string]any{"sub": js.URL + ".*"}, Enabled: true, ServiceAccounts: []string{svc.Slug}}); err != nil {
		t.Fatal(err)
	}

	s := sampleSpec()
	s.Seed = nil
	s.Cloudsmith = spec.Cloudsmith{Org: cs.Org, Service: svc.Slug, APIURL: cs.APIURL, DownloadURL: cs.DownloadURL, NPMURL: cs.NPMURL, GoURL: cs.GoURL}
	s.Defaults.Repo = cs.Repo
	s.Binary = spec.Binary{Path: filepath.Join(binDir, "cloudsmith-oidc")}
	s.Jobs = []spec.Job{
		{Name: "team-a/fs", Type: spec.Freestyle, Formats: []string{"python", "npm"},
			Steps: []string{`test -s "$PIP_CONFIG_FILE"`, `test -s "$NPM_CONFIG_USERCONFIG"`, `echo "configured it's fine"`}},
		{Name: "team-a/pipe", Type: spec.Pipeline, Formats: []string{"python"}, Steps: []string{`test -s "$PIP_CONFIG_FILE"`, `echo "pipeline body ran"`}},
	}
	out := mustRender(t, s)

	c, err := jenkins.New(jenkins.Config{URL: js.URL, User: "admin", Token: js.Jenkins.AdminToken()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateCredential(ctx, "", out.Credential.FormJSON); err != nil {
		t.Fatal(err)
	}
	for _, f := range out.Folders {
		if err := c.CreateFolder(ctx, f.Path, f.ConfigXML); err != nil {
			t.Fatal(err)
		}
	}
	for _, j := range out.Jobs {
		if err := c.CreateJob(ctx, j.Name, j.ConfigXML); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("freestyle build", func(t *testing.T) {
		q, err := c.TriggerBuild(ctx, "team-a/fs")
		if err != nil {
			t.Fatal(err)
		}
		n, err := c.WaitForQueueItem(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.WaitForBuild(ctx, "team-a/fs", n)
		if err != nil {
			t.Fatal(err)
		}
		console, _ := c.ConsoleText(ctx, "team-a/fs", n)
		if b.Result != "SUCCESS" || !strings.Contains(string(console), "configured it's fine") {
			t.Fatalf("build %s:\n%s", b.Result, console)
		}
	})

	// The pipeline's Jenkinsfile and the steps, with the real binary.
	token, err := js.Jenkins.IDToken("", s.OIDC.Credential)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	varsDir := filepath.Join(root, "vars")
	for n, b := range out.Vars {
		if err := WriteFileAtomic(filepath.Join(varsDir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	jf := filepath.Join(root, "Jenkinsfile")
	if err := os.WriteFile(jf, jobByName(t, out, "team-a/pipe").Jenkinsfile, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATH": binDir + ":/usr/bin:/bin"}
	secrets := map[string]string{s.OIDC.Credential: token}
	args := map[string]any{"org": cs.Org, "service": svc.Slug, "credentialsId": s.OIDC.Credential, "repo": cs.Repo,
		"formats": []string{"python", "npm"}, "apiUrl": cs.APIURL, "downloadUrl": cs.DownloadURL, "npmUrl": cs.NPMURL,
		"binary": filepath.Join(binDir, "cloudsmith-oidc")}
	execArgs := map[string]any{"command": `test -s "$PIP_CONFIG_FILE" && echo "exec ok"`, "returnStdout": true}
	for k, v := range args {
		execArgs[k] = v
	}
	runScenarios(t, root, varsDir, []*varsScenario{
		{Name: "jenkinsfile with the real binary", Jenkinsfile: jf, Env: env, Secrets: secrets,
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				if !strings.Contains(r.Console, "pipeline body ran") {
					t.Errorf("console:\n%s", r.Console)
				}
			}},
		{Name: "withCloudsmith with the real binary", Step: "withCloudsmith", Args: args, Env: env, Secrets: secrets,
			Body: []string{`test -s "$PIP_CONFIG_FILE"`, `test -s "$NPM_CONFIG_USERCONFIG"`},
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				dir := r.BodyEnv["CLOUDSMITH_CONFIG_DIR"]
				if !strings.HasPrefix(r.BodyEnv["PIP_CONFIG_FILE"], dir+"/") {
					t.Errorf("PIP_CONFIG_FILE %q not under %q", r.BodyEnv["PIP_CONFIG_FILE"], dir)
				}
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("%s not removed", dir)
				}
			}},
		{Name: "cloudsmithExec with the real binary", Step: "cloudsmithExec", Args: execArgs, Env: env, Secrets: secrets,
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				if r.Result != "exec ok\n" {
					t.Errorf("result %q\nconsole:\n%s", r.Result, r.Console)
				}
			}},
	})
}
