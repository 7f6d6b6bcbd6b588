package rotate

import (
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

func run(w *trusttest.World, args ...string) (string, string, error) {
	return w.Run(NewCmd, args...)
}

func TestRotateCustomIssuer(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	w.Export()
	if _, _, err := run(w, "-f", w.SpecFile, "--publish", "true"); err == nil || !strings.Contains(err.Error(), "--publish needs --out") {
		t.Fatalf("--publish without --out: %v", err)
	}
	out, stderr, err := run(w, "-f", w.SpecFile, "--out", w.Dir, "--publish", "echo synced", "--poll", "10ms", "--grace", "0s")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(out, "rotated oidc-token-cred → oidc-token-cred--r2") || !strings.Contains(stderr, "synced") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, stderr)
	}
}

func TestRotateDefaultIssuer(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{DefaultIssuer: true})
	w.Apply()
	if _, _, err := run(w, "-f", w.SpecFile, "--out", t.TempDir()); err == nil || !strings.Contains(err.Error(), "Jenkins' own") {
		t.Fatalf("--out with the default issuer: %v", err)
	}
	out, stderr, err := run(w, "-f", w.SpecFile, "--poll", "10ms", "--grace", "0s")
	if err != nil || !strings.Contains(out, "→ oidc-token-cred--r2") {
		t.Fatalf("%v\n%s\n%s", err, out, stderr)
	}
	ids, err := w.Env.Jenkins.CredentialIDs(w.Ctx(), "")
	if err != nil || strings.Join(ids, ",") != "oidc-token-cred--r2" {
		t.Fatalf("credentials %v %v", ids, err)
	}
}
