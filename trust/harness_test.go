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
