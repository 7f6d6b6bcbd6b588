package trust_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

func TestMain(m *testing.M) {
	if _, err := trusttest.StepBinary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	code := m.Run()
	trusttest.Cleanup()
	os.Exit(code)
}

func needStepBinary(t *testing.T) {
	t.Helper()
	if _, err := trusttest.StepBinary(); err != nil {
		t.Fatal(err)
	}
}

// trustedWorld is a World whose whole chain holds: the spec applied, the
// issuer's documents exported, a Cloudsmith provider trusting them.
func trustedWorld(t *testing.T, o trusttest.Options) *trusttest.World {
	t.Helper()
	needStepBinary(t)
	w := trusttest.Start(t, o)
	w.Apply()
	w.Export()
	w.AddProvider(w.S.IssuerURL(), map[string]any{"aud": "jenkins"})
	return w
}
