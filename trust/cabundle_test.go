package trust_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/world"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

// TestGoJobTrustsCABundle: a Go-format freestyle job against a Cloudsmith
// whose Go host is https with a private CA (the emulator's, as emulate
// runs it) builds when the spec names the CA in cloudsmith.ca_bundle: the
// bundle reaches the build and the go command, with no SSL_CERT_FILE on
// the agent.
func TestGoJobTrustsCABundle(t *testing.T) {
	needStepBinary(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	bin, _ := trusttest.StepBinary()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w, err := world.Start(ctx, world.Options{TLS: []cloudsmithtest.Host{cloudsmithtest.HostGo},
		Cloudsmith: []cloudsmithtest.Option{cloudsmithtest.WithClaimArrayElementMatch()},
		BuildEnv:   []string{"PATH=" + filepath.Dir(bin) + ":" + filepath.Dir(goBin) + ":/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dir := t.TempDir()
	ca, err := w.WriteCA(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cs := w.Cloudsmith
	svc, err := cs.Cloudsmith.AddService(cloudsmithtest.Service{Name: "jenkins-ci"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Cloudsmith.GrantPrivilege(cs.Org, cs.Repo, svc.Slug, cloudsmithtest.PrivilegeRead); err != nil {
		t.Fatal(err)
	}
	step := `export GOFLAGS=-modcacherw GOTOOLCHAIN=local GOENV=off GOSUMDB=off GOPATH="$WORKSPACE/gopath" GOCACHE="$WORKSPACE/gocache"
printf 'module consumer\n\ngo 1.21\n' > go.mod
go mod download -json ` + cloudsmithtest.DemoGoModule + "@" + cloudsmithtest.DemoGoVersion
	specFile := filepath.Join(dir, "spec.yaml")
	y := fmt.Sprintf(`version: 1
jenkins: {url: %q, user: admin, token: "${JENKINS_API_TOKEN}"}
cloudsmith: {org: %s, service: %s, api_url: %q, go_url: %q, ca_bundle: %s}
oidc: {credential: oidc-token-cred, audience: jenkins}
binary: {path: cloudsmith-oidc}
jobs:
  - name: go-build
    type: freestyle
    repo: %s
    formats: [go]
    steps:
      - |
%s
  - name: go-pipeline
    type: pipeline
    repo: %s
    formats: [go]
    steps:
      - |
%s
`, w.Jenkins.URL, cs.Org, svc.Slug, cs.APIURL, cs.GoURL, filepath.Base(ca), cs.Repo, indentLines(step, "        "), cs.Repo, indentLines(step, "        "))
	if err := os.WriteFile(specFile, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	sess, err := apply.Load(apply.LoadOptions{File: specFile, Getenv: w.Getenv, Plan: plan.Options{Parallel: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Apply(ctx, apply.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Cloudsmith.AddProvider(cloudsmithtest.ProviderSettings{Name: "jenkins", ProviderURL: sess.Spec.IssuerURL(),
		Claims: map[string]any{"aud": "jenkins"}, Enabled: true, ServiceAccounts: []string{svc.Slug}}); err != nil {
		t.Fatal(err)
	}
	env, err := trust.NewEnv(sess.Spec, sess.Clients)
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"go-build", "go-pipeline"} {
		var console bytes.Buffer
		res, err := trust.Smoke(ctx, env, trust.SmokeOptions{Job: job, Console: &console, Poll: 100 * time.Millisecond})
		if err != nil || !res.OK() {
			t.Fatalf("%s: %+v %v\n%s", job, res, err, console.String())
		}
		if !bytes.Contains(console.Bytes(), []byte(`"Version": "`+cloudsmithtest.DemoGoVersion+`"`)) {
			t.Errorf("%s: go mod download did not fetch the module:\n%s", job, console.String())
		}
	}
}

func indentLines(s, prefix string) string {
	var b bytes.Buffer
	for _, l := range bytes.Split([]byte(s), []byte("\n")) {
		b.WriteString(prefix)
		b.Write(l)
		b.WriteByte('\n')
	}
	return string(bytes.TrimRight(b.Bytes(), "\n"))
}
