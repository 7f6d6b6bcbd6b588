package leaktest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	ocsapp "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/cloudsmith-oidc/app"
	applycmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/apply"
	discoverycmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/discovery"
	doctorcmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/doctor"
	plancmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/plan"
	rendercmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/render"
	rotatecmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/rotate"
	smokecmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/smoke"
	validatecmd "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/validate"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/leaktest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/oidctest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	trusttest.Cleanup()
	os.Exit(code)
}

// step is one CLI invocation of the end-to-end run.
type step struct {
	name    string
	newCmd  func(*cmdutil.Factory) *cobra.Command
	args    []string
	wantErr bool   // the command is expected to fail (its output is still scanned)
	before  func() // runs first, if set
}

// TestNoSecretLeavesTheCLI runs the whole jenkins-cloudsmith workflow on
// both emulators with known secrets and scans everything a person or a log
// could read: every command's stdout and stderr, every file written, and
// the paths and queries both emulators saw.
func TestNoSecretLeavesTheCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run on both emulators")
	}
	if _, err := trusttest.StepBinary(); err != nil {
		t.Fatal(err)
	}
	w := trusttest.Start(t, trusttest.Options{Step: `echo token is "$CLOUDSMITH_API_KEY"; printf '%s' "$CLOUDSMITH_API_KEY" | base64`})

	// The OIDC credential exists before the run with a private key the
	// test knows, as when an administrator imported it.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	importCredential(t, w, key)

	secrets := []string{w.Vars["JENKINS_API_TOKEN"], w.Vars["CLOUDSMITH_API_KEY"]}
	secrets = append(secrets, leaktest.PrivateKeyForms(key)...)

	out := t.TempDir()
	tokenFile := filepath.Join(t.TempDir(), "id-token")
	rendered := filepath.Join(out, "rendered")
	steps := []step{
		{name: "validate", newCmd: validatecmd.NewCmd, args: []string{"-f", w.SpecFile}},
		{name: "validate json", newCmd: validatecmd.NewCmd, args: []string{"-f", w.SpecFile, "--output", "json"}},
		{name: "render", newCmd: rendercmd.NewCmd, args: []string{"-f", w.SpecFile, "-o", rendered}},
		{name: "plan", newCmd: plancmd.NewCmd, args: []string{"-f", w.SpecFile}},
		{name: "apply", newCmd: applycmd.NewCmd, args: []string{"-f", w.SpecFile}},
		{name: "plan json", newCmd: plancmd.NewCmd, args: []string{"-f", w.SpecFile, "--output", "json"}},
		{name: "discovery export", newCmd: discoverycmd.NewCmd, args: []string{"export", "-f", w.SpecFile, "--out", w.Dir}},
		{name: "discovery check", newCmd: discoverycmd.NewCmd, args: []string{"check", "-f", w.SpecFile}},
		{name: "discovery check json", newCmd: discoverycmd.NewCmd, args: []string{"check", "-f", w.SpecFile, "--output", "json"}},
		{name: "doctor", newCmd: doctorcmd.NewCmd, args: []string{"-f", w.SpecFile}},
		{name: "doctor json", newCmd: doctorcmd.NewCmd, args: []string{"-f", w.SpecFile, "--output", "json"}},
		{name: "doctor with a token", newCmd: doctorcmd.NewCmd, args: []string{"-f", w.SpecFile, "--token-file", tokenFile}, before: func() {
			// A token minted the way a build's is, which doctor exchanges
			// for a Cloudsmith token: both must stay out of its report.
			tok, err := w.J.Jenkins.IDToken("deploy", "oidc-token-cred")
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, tok)
			if err := os.WriteFile(tokenFile, []byte(tok), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "smoke", newCmd: smokecmd.NewCmd, args: []string{"-f", w.SpecFile}},
		// The --publish command sees the secrets in its environment (as
		// the CLI's own process does); its output must be masked.
		{name: "rotate", newCmd: rotatecmd.NewCmd, args: []string{"-f", w.SpecFile, "--out", w.Dir, "--poll", "10ms", "--grace", "0s",
			"--publish", `echo "publishing with $JENKINS_API_TOKEN and $CLOUDSMITH_API_KEY"`}, before: func() {
			for k, v := range w.Vars {
				t.Setenv(k, v)
			}
		}},
		{name: "smoke after rotate", newCmd: smokecmd.NewCmd, args: []string{"-f", w.SpecFile}},
		// A wrong API key must fail without quoting the key it was given.
		{name: "plan with a wrong key", newCmd: plancmd.NewCmd, args: []string{"-f", w.SpecFile}, wantErr: true},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		vars := w.Vars
		if s.wantErr {
			vars = map[string]string{"JENKINS_API_TOKEN": w.Vars["JENKINS_API_TOKEN"] + "x", "CLOUDSMITH_API_KEY": w.Vars["CLOUDSMITH_API_KEY"] + "x"}
		}
		stdout, stderr, err := run(vars, s.newCmd, s.args...)
		if (err != nil) != s.wantErr {
			t.Errorf("%s: error %v, want error %v\nstdout:\n%s\nstderr:\n%s", s.name, err, s.wantErr, mask(stdout, secrets), mask(stderr, secrets))
		}
		t.Logf("%s: %d+%d bytes of output, error: %v", s.name, len(stdout), len(stderr), err)
		if os.Getenv("LEAKTEST_DUMP") != "" {
			t.Logf("stdout:\n%s\nstderr:\n%s", mask(stdout, secrets), mask(stderr, secrets))
		}
		leaktest.ScanIn(t, s.name+" stdout", stdout, secrets...)
		leaktest.ScanIn(t, s.name+" stderr", stderr, secrets...)
		if err != nil {
			leaktest.ScanIn(t, s.name+" error", err.Error(), secrets...)
		}
		if strings.HasPrefix(s.name, "smoke") && err == nil && !strings.Contains(stderr, "****") {
			t.Errorf("smoke: the build printed its Cloudsmith token, yet its console shows no mask:\n%s", mask(stderr, secrets))
		}
	}

	leaktest.ScanDir(t, out, nil, secrets...)
	leaktest.ScanDir(t, w.Dir, nil, secrets...)
	leaktest.ScanDir(t, filepath.Dir(w.SpecFile), nil, secrets...)
	checkModes(t, rendered)

	// What apply stored in Jenkins: the job configs as Jenkins serves them.
	for _, path := range []string{"job/app/job/build/config.xml", "job/deploy/config.xml", "job/app/config.xml"} {
		leaktest.ScanIn(t, "Jenkins "+path, get(t, w, path), secrets...)
	}

	for _, r := range w.J.Jenkins.Requests() {
		leaktest.ScanIn(t, "Jenkins request "+r.Method, r.RawPath+"?"+r.Query, secrets...)
		leaktest.ScanIn(t, "Jenkins request "+r.Method, r.Path, secrets...)
	}
	for _, r := range w.CS.Cloudsmith.Requests() {
		leaktest.ScanIn(t, "Cloudsmith request "+r.Method, r.Path+" "+r.Failure, secrets...)
	}
}

// run runs one command in-process, as trusttest.World.Run does, with vars
// as its environment.
func run(vars map[string]string, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (stdout, stderr string, err error) {
	ios, _, out, errOut := iostreams.Test(vars)
	cmd := newCmd(&cmdutil.Factory{IO: ios, Version: "test"})
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// get fetches path from the Jenkins emulator as the admin.
func get(t *testing.T, w *trusttest.World, path string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(w.J.URL, "/")+"/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", w.Vars["JENKINS_API_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", path, resp.Status, err)
	}
	return string(body)
}

// importCredential creates the spec's OIDC credential from XML with key,
// the way Jenkins' CLI create-credentials-by-xml does, marked as the spec's
// (so apply manages it without --adopt).
func importCredential(t *testing.T, w *trusttest.World, key *rsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`<io.jenkins.plugins.oidc__provider.IdTokenStringCredentials>
  <scope>GLOBAL</scope><id>oidc-token-cred</id><description>OIDC token for Cloudsmith
%s</description>
  <privateKey>%s</privateKey><issuer>%s</issuer><audience>jenkins</audience>
</io.jenkins.plugins.oidc__provider.IdTokenStringCredentials>`, html.EscapeString(render.Marker(w.S.Identity())), base64.StdEncoding.EncodeToString(der), w.Issuer)
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(w.J.URL, "/")+"/credentials/store/system/domain/_/createCredentials", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/xml")
	req.SetBasicAuth("admin", w.Vars["JENKINS_API_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		t.Fatalf("importing the credential: %s\n%s", resp.Status, msg)
	}
}

// checkModes fails for any rendered file others can write.
func checkModes(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if fi, err := d.Info(); err == nil && fi.Mode().Perm()&0o022 != 0 {
			t.Errorf("%s is writable by others (%v)", path, fi.Mode().Perm())
		}
		return nil
	})
}

// mask hides secrets in text shown in a failure message.
func mask(text string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "****")
		}
	}
	return text
}

// TestExecChildArgv runs cloudsmith-oidc exec in-process with a child that
// records its own /proc argv and its token: the token must reach the child
// through its environment only, and what the child prints must be masked.
func TestExecChildArgv(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("no /proc on this system")
	}
	iss, err := oidctest.Start("oidc-token-cred")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = iss.Close() })
	cs, err := cloudsmithtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	if _, err := cs.Cloudsmith.AddService(cloudsmithtest.Service{Name: "jenkins", Slug: "jenkins"}); err != nil {
		t.Fatal(err)
	}
	if err := cs.Cloudsmith.GrantPrivilege(cs.Cloudsmith.Org(), cs.Cloudsmith.Repo(), "jenkins", cloudsmithtest.PrivilegeRead); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Cloudsmith.AddProvider(cloudsmithtest.ProviderSettings{Name: "Jenkins", ProviderURL: iss.URL, Enabled: true,
		Claims: map[string]any{"aud": "cloudsmith"}, ServiceAccounts: []string{"jenkins"}}); err != nil {
		t.Fatal(err)
	}
	oidc, err := iss.Mint("cloudsmith", "https://jenkins.example/job/build/", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	ios, _, stdout, stderr := iostreams.Test(map[string]string{
		"OIDC_TOKEN": oidc, "CLOUDSMITH_ORG": cs.Org, "CLOUDSMITH_SERVICE_SLUG": "jenkins", "CLOUDSMITH_REPO": cs.Repo,
		"CLOUDSMITH_API_URL": cs.APIURL, "CLOUDSMITH_DOWNLOAD_URL": cs.DownloadURL, "CLOUDSMITH_NPM_URL": cs.NPMURL,
		"CLOUDSMITH_GO_URL": cs.GoURL, "CLOUDSMITH_OIDC_CACHE_DIR": cache,
	})
	argvFile, tokenFile := filepath.Join(dir, "argv"), filepath.Join(dir, "token")
	// $$ is the shell exec started, so /proc/$$/cmdline is the child's argv
	// as every process on the agent sees it.
	script := `cat /proc/$$/cmdline > "$1"; printf '%s' "$CLOUDSMITH_API_KEY" > "$2"; ` +
		`echo "token: $CLOUDSMITH_API_KEY"; echo "oidc: ${OIDC_TOKEN:-unset}" >&2`
	code := ocsapp.Main(context.Background(), []string{"cloudsmith-oidc", "exec", "--format", "python,npm", "--", "sh", "-c", script, "sh", argvFile, tokenFile}, ios)
	if code != 0 {
		t.Fatalf("exec exit %d\n%s", code, mask(stderr.String(), []string{oidc}))
	}
	argv, err := os.ReadFile(argvFile)
	if err != nil {
		t.Fatal(err)
	}
	token, err := os.ReadFile(tokenFile)
	if err != nil || len(token) == 0 {
		t.Fatalf("the child got no CLOUDSMITH_API_KEY (%v)", err)
	}
	secrets := []string{string(token), oidc}
	leaktest.ScanIn(t, "child argv", string(bytes.ReplaceAll(argv, []byte{0}, []byte{' '})), secrets...)
	leaktest.ScanIn(t, "exec stdout", stdout.String(), secrets...)
	leaktest.ScanIn(t, "exec stderr", stderr.String(), secrets...)
	if !strings.Contains(stdout.String(), "token: ****") {
		t.Errorf("the child's output is not masked: %q", mask(stdout.String(), secrets))
	}
	if !strings.Contains(stderr.String(), "oidc: unset") {
		t.Errorf("the child saw OIDC_TOKEN: %q", mask(stderr.String(), secrets))
	}
	// The cache is meant to hold the token: it must be private.
	_ = filepath.WalkDir(cache, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if perm := fi.Mode().Perm(); (d.IsDir() && perm&0o077 != 0) || (!d.IsDir() && perm != 0o600) {
			t.Errorf("token cache %s has mode %v", path, perm)
		}
		return nil
	})
	leaktest.ScanDir(t, dir, func(p string) bool { return p == tokenFile || strings.HasPrefix(p, cache) }, secrets...)
}
