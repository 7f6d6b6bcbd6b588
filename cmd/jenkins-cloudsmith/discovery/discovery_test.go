package discovery

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

func run(w *trusttest.World, args ...string) (string, string, error) {
	return w.Run(NewCmd, args...)
}

func TestExportThenCheck(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()

	_, stderr, err := run(w, "check", "-f", w.SpecFile)
	if err == nil || !strings.Contains(err.Error(), "answers 404") {
		t.Fatalf("check before export: %v\n%s", err, stderr)
	}
	out, _, err := run(w, "export", "-f", w.SpecFile, "--out", w.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, filepath.Join(w.Dir, "jwks")) || !strings.Contains(out, "oidc-token-cred") {
		t.Errorf("export output:\n%s", out)
	}
	out, stderr, err = run(w, "check", "-f", w.SpecFile)
	if err != nil || !strings.HasPrefix(out, "ok: ") || !strings.Contains(stderr, "warning: ") {
		t.Fatalf("check after export: %v\n%s\n%s", err, out, stderr)
	}

	// Re-save the credential: check fails and names the stale key.
	r, _ := render.New(render.Options{})
	o, err := r.Render(w.S)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Env.Jenkins.UpdateCredential(w.Ctx(), "", "oidc-token-cred", o.Credential.FormJSON); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(w, "check", "-f", w.SpecFile, "--output", "json")
	if err == nil || !strings.Contains(out, `"ok": false`) || !strings.Contains(out, `stale key for kid \"oidc-token-cred\"`) {
		t.Fatalf("check after re-save: %v\n%s", err, out)
	}
	for _, s := range w.Vars {
		if strings.Contains(out, s) {
			t.Fatal("a secret was printed")
		}
	}
}

func TestDefaultIssuer(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{DefaultIssuer: true})
	dir := t.TempDir()
	out, _, err := run(w, "export", "-f", w.SpecFile, "--out", dir)
	if err != nil || !strings.Contains(out, "Nothing to host") || !strings.Contains(out, w.J.URL+"oidc/jwks") {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("export wrote %v for the default issuer", entries)
	}
	if _, _, err := run(w, "serve", "-f", w.SpecFile); err == nil || !strings.Contains(err.Error(), "serves itself") {
		t.Fatalf("serve: %v", err)
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, c := range NewCmd(&cmdutil.Factory{}).Commands() {
		if c.Example == "" {
			t.Errorf("discovery %s has no examples", c.Name())
		}
	}
}
