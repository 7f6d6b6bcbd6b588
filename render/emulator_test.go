package render

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// TestFreestyleOnEmulator loads everything rendered into the Jenkins
// emulator (credential through its form JSON, folders, every job) and
// builds the freestyle job: the emulator's oidc-provider mints a real ID
// token, the SecretBuildWrapper binds it, and the shell step hands it to
// (a fake) cloudsmith-oidc through the environment, never the console.
func TestFreestyleOnEmulator(t *testing.T) {
	needTool(t, "bash")
	for _, kind := range []string{spec.KindString, spec.KindFile} {
		t.Run(kind, func(t *testing.T) {
			logDir := t.TempDir()
			fakebin, _ := filepath.Abs(filepath.Join("testdata", "fakebin"))
			srv, err := jenkinstest.Start(jenkinstest.WithBuildEnv(
				"PATH="+fakebin+":/usr/bin:/bin", "FAKE_CLOUDSMITH_LOG="+logDir))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			c, err := jenkins.New(jenkins.Config{URL: srv.URL, User: "admin", Token: srv.Jenkins.AdminToken()})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			s := sampleSpec()
			s.OIDC.Kind = kind
			s.Cloudsmith.DownloadURL = ""
			s.Jobs[1].Label = ""
			s.Jobs[1].Steps = []string{`echo "step ran in $PWD"`}
			out := mustRender(t, s)

			if err := c.CreateCredential(ctx, "", out.Credential.FormJSON); err != nil {
				t.Fatalf("creating the credential from its form JSON: %v", err)
			}
			for _, f := range out.Folders {
				if err := c.CreateFolder(ctx, f.Path, f.ConfigXML); err != nil {
					t.Fatalf("folder %s: %v", f.Path, err)
				}
			}
			for _, j := range out.Jobs {
				if err := c.CreateJob(ctx, j.Name, j.ConfigXML); err != nil {
					t.Fatalf("job %s: %v", j.Name, err)
				}
			}
			const job = "team-a/sub/fs"
			q, err := c.TriggerBuild(ctx, job)
			if err != nil {
				t.Fatal(err)
			}
			n, err := c.WaitForQueueItem(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.WaitForBuild(ctx, job, n)
			if err != nil {
				t.Fatal(err)
			}
			console, err := c.ConsoleText(ctx, job, n)
			if err != nil {
				t.Fatal(err)
			}
			if b.Result != "SUCCESS" || !strings.Contains(string(console), "step ran in ") {
				t.Fatalf("build %s:\n%s", b.Result, console)
			}

			calls, _ := filepath.Glob(filepath.Join(logDir, "call.*"))
			if len(calls) != 1 {
				t.Fatalf("%d binary runs", len(calls))
			}
			argv := readArgv(t, filepath.Join(calls[0], "argv"))
			if strings.Join(argv[:9], " ") != "exec --org acme --service jenkins-ci --repo python-internal --format python" {
				t.Errorf("argv %q", argv)
			}
			// The binary read the token itself: from OIDC_TOKEN for a string
			// credential, from the file OIDC_TOKEN_FILE names for a file one
			// (whose content no shell variable ever held).
			envb, _ := os.ReadFile(filepath.Join(calls[0], "env"))
			if kind == spec.KindFile && strings.Contains(string(envb), "\x00OIDC_TOKEN=") {
				t.Errorf("the file credential's token was copied into OIDC_TOKEN")
			}
			tokb, _ := os.ReadFile(filepath.Join(calls[0], "token"))
			token := string(tokb)
			_, claims, err := jwtutil.Decode(token)
			if err != nil {
				t.Fatalf("the binary did not get an ID token: %v", err)
			}
			if !strings.Contains(","+toString(claims["aud"])+",", ",jenkins,") {
				t.Errorf("aud %v", claims["aud"])
			}
			if strings.Contains(string(console), token) {
				t.Errorf("the ID token is in the console")
			}
		})
	}
}

// toString flattens a string or array claim, comma-separated.
func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var s []string
		for _, x := range v {
			s = append(s, toString(x))
		}
		return strings.Join(s, ",")
	}
	return ""
}
