package smoke

import (
	"os"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	trusttest.Cleanup()
	os.Exit(code)
}

func TestSmoke(t *testing.T) {
	if _, err := trusttest.StepBinary(); err != nil {
		t.Fatal(err)
	}
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	w.Export()
	w.AddProvider(w.S.IssuerURL(), map[string]any{"aud": "jenkins"})

	out, errOut, err := w.Run(NewCmd, "-f", w.SpecFile)
	if err != nil {
		t.Fatalf("smoke: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "token used:      yes") || !strings.Contains(errOut, "Finished: SUCCESS") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}
