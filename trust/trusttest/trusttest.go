// Package trusttest starts what the trust commands' tests need: a Jenkins
// emulator, a Cloudsmith emulator, a plain static file server over an
// export directory (as users host a custom issuer with nginx), a spec file
// pointing at all three, and the cloudsmith-oidc step binary on the
// emulated builds' PATH.
package trusttest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/connect"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/gitserve"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/world"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// StepBinary builds cmd/cloudsmith-oidc once per test process into a
// temporary directory and returns its path. Call Cleanup from TestMain.
func StepBinary() (string, error) {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trusttest-bin-")
		if err != nil {
			binErr = err
			return
		}
		bin := filepath.Join(dir, "cloudsmith-oidc")
		cmd := exec.Command("go", "build", "-o", bin, "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/cloudsmith-oidc")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("building cloudsmith-oidc: %w\n%s", err, out)
			return
		}
		binPath = bin
	})
	return binPath, binErr
}

// Cleanup removes the step binary StepBinary built.
func Cleanup() {
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
}

// World is the running setup.
type World struct {
	T  testing.TB
	J  *jenkinstest.Server
	CS *cloudsmithtest.Server
	// Dir is the export directory, served as is at Issuer.
	Dir    string
	Issuer string
	// SpecFile is the spec's path; Env maps its ${VAR}s.
	SpecFile string
	Vars     map[string]string
	S        *spec.Spec
	Env      *trust.Env
	// Service is the Cloudsmith service account's slug.
	Service string

	git    *gitserve.Server // the from-git job's repository host (Options.SCM)
	folder string           // Options.Folder
}

// Options shape a World.
type Options struct {
	// DefaultIssuer uses Jenkins' own issuer instead of the static server.
	DefaultIssuer bool
	// Claims is cloudsmith.provider.claims as a YAML flow map (default
	// {aud: jenkins}).
	Claims string
	// Step is the freestyle job app/build's shell step (default: an echo).
	Step string
	// PipelineStep is the inline pipeline job deploy's step (default: an
	// echo).
	PipelineStep string
	// SCM adds the pipeline job from-git, whose Jenkinsfile Apply commits
	// to a repository served over git's smart HTTP protocol.
	SCM bool
	// Folder puts every job under this folder (any name Jenkins allows)
	// and the OIDC credential in its store (oidc.folder), so tokens come
	// from the folder's issuer with DefaultIssuer.
	Folder string
}

// Start starts a World; everything stops when the test ends. Builds find
// cloudsmith-oidc on PATH when StepBinary succeeds.
func Start(t testing.TB, o Options) *World {
	t.Helper()
	w := &World{T: t, Dir: t.TempDir(), folder: o.Folder}
	// Both emulators as emulate and the demo start them (vars/ as the
	// global trusted library included). The world's provider requires aud
	// (the seed guide's setup), which a current plugin's array aud
	// satisfies only where Cloudsmith matches any element; apply's own
	// provider does not depend on it.
	wo := world.Options{Cloudsmith: []cloudsmithtest.Option{cloudsmithtest.WithClaimArrayElementMatch()}}
	if bin, err := StepBinary(); err == nil {
		wo.BuildEnv = []string{"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH")}
	}
	ew, err := world.Start(context.Background(), wo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ew.Close() })
	js, cs := ew.Jenkins, ew.Cloudsmith
	w.J = js
	pipelineStep := o.PipelineStep
	if pipelineStep == "" {
		pipelineStep = "echo deploy"
	}
	scmJob := ""
	if o.SCM {
		gs, err := gitserve.Start(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = gs.Close() })
		w.git = gs
		scmJob = fmt.Sprintf("  - {name: %q, type: pipeline, scm: {url: %q, branch: main, script_path: ci/Jenkinsfile}}\n", w.JobName("from-git"), gs.URL+"app.git")
	}
	w.CS = cs
	svc, err := cs.Cloudsmith.AddService(cloudsmithtest.Service{Name: "jenkins-ci"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Cloudsmith.GrantPrivilege(cs.Cloudsmith.Org(), cs.Cloudsmith.Repo(), svc.Slug, cloudsmithtest.PrivilegeRead); err != nil {
		t.Fatal(err)
	}
	w.Service = svc.Slug
	static := httptest.NewServer(http.FileServer(http.Dir(w.Dir)))
	t.Cleanup(static.Close)
	w.Issuer = static.URL

	issuerLine := fmt.Sprintf("issuer: %q,", w.Issuer)
	if o.DefaultIssuer {
		issuerLine = ""
	}
	claims := o.Claims
	if claims == "" {
		claims = "{aud: jenkins}"
	}
	step := o.Step
	if step == "" {
		step = "echo built with $CLOUDSMITH_ORG"
	}
	yaml := fmt.Sprintf(`version: 1
jenkins: {url: %q, user: admin, token: "${JENKINS_API_TOKEN}"}
cloudsmith: {org: %s, service: %s, api_url: %q, download_url: %q, npm_url: %q, go_url: %q, api_key: "${CLOUDSMITH_API_KEY}",
  provider: {name: jenkins, claims: %s}}
oidc: {credential: oidc-token-cred, audience: jenkins, %s %s description: OIDC token for Cloudsmith}
binary: {path: cloudsmith-oidc}
defaults: {repo: %s, formats: [raw]}
jobs:
  - {name: %q, type: freestyle, steps: [%q]}
  - {name: %q, type: pipeline, steps: [%q]}
%s`, js.URL, cs.Org, w.Service, cs.APIURL, cs.DownloadURL, cs.NPMURL, cs.GoURL, claims, issuerLine, folderLine(o.Folder), cs.Repo,
		w.JobName("app/build"), step, w.JobName("deploy"), pipelineStep, scmJob)
	w.SpecFile = filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(w.SpecFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	w.Vars = map[string]string{"JENKINS_API_TOKEN": js.Jenkins.AdminToken(), "CLOUDSMITH_API_KEY": cs.APIKey}
	s, err := spec.Load(w.SpecFile, func(k string) string { return w.Vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	w.S = s
	if w.Env, err = trust.NewEnv(s, connect.New(s, connect.Options{Logger: logger()})); err != nil {
		t.Fatal(err)
	}
	return w
}

// logger logs HTTP requests to stderr when TRUST_TEST_LOG is set.
func logger() *slog.Logger {
	if os.Getenv("TRUST_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Ctx is a context bounded by a minute and the test.
func (w *World) Ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	w.T.Cleanup(cancel)
	return ctx
}

// JobName is the full name of the World's job name (app/build, deploy,
// from-git): under Options.Folder when set.
func (w *World) JobName(name string) string {
	if w.folder == "" {
		return name
	}
	return w.folder + "/" + name
}

func folderLine(folder string) string {
	if folder == "" {
		return ""
	}
	return fmt.Sprintf("folder: %q,", folder)
}

// Apply makes Jenkins match the spec (credential, folders, jobs).
func (w *World) Apply() {
	w.T.Helper()
	r, err := render.New(render.Options{})
	if err != nil {
		w.T.Fatal(err)
	}
	out, err := r.Render(w.S)
	if err != nil {
		w.T.Fatal(err)
	}
	for _, j := range out.Jobs {
		// The SCM job's Jenkinsfile goes where its scm block points.
		if j.Name == w.JobName("from-git") && w.git != nil {
			files := fstest.MapFS{"ci/Jenkinsfile": {Data: j.Jenkinsfile}}
			if _, err := gitserve.Publish(w.Ctx(), w.git.Root, "app", "main", "Jenkinsfile", files); err != nil {
				w.T.Fatal(err)
			}
		}
	}
	p, err := plan.Compute(w.Ctx(), plan.Input{Spec: w.S, Output: out, Jenkins: w.Env.Jenkins}, plan.Options{})
	if err != nil {
		w.T.Fatal(err)
	}
	if _, err := apply.Execute(w.Ctx(), w.Env.Jenkins, nil, p, apply.Options{}); err != nil {
		w.T.Fatal(err)
	}
}

// AddProvider registers a Cloudsmith provider linked to the service.
func (w *World) AddProvider(url string, claims map[string]any) {
	w.T.Helper()
	if _, err := w.CS.Cloudsmith.AddProvider(cloudsmithtest.ProviderSettings{Name: "jenkins", ProviderURL: url,
		Claims: claims, Enabled: true, ServiceAccounts: []string{w.Service}}); err != nil {
		w.T.Fatal(err)
	}
}

// Export publishes what Jenkins signs with into Dir.
func (w *World) Export() *trust.Documents {
	w.T.Helper()
	d, err := trust.FromJenkins(w.Ctx(), w.Env.Jenkins, w.S)
	if err != nil {
		w.T.Fatal(err)
	}
	if _, err := trust.Export(w.Dir, d); err != nil {
		w.T.Fatal(err)
	}
	return d
}

// Run runs the command newCmd builds with args, the World's environment
// and test streams, and returns what it wrote to stdout and stderr.
func (w *World) Run(newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (stdout, stderr string, err error) {
	ios, _, out, errOut := iostreams.Test(w.Vars)
	cmd := newCmd(&cmdutil.Factory{IO: ios})
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}
