package trust_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

func TestSmokeFreestyle(t *testing.T) {
	needStepBinary(t)
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	w.Export()
	w.AddProvider(w.S.IssuerURL(), map[string]any{"aud": "jenkins", "sub": w.S.Jenkins.RootURL() + "job/.*"})

	var console bytes.Buffer
	res, err := trust.Smoke(w.Ctx(), w.Env, trust.SmokeOptions{Console: &console})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Job != "app/build" {
		t.Fatalf("smoke %+v\nconsole:\n%s", res, console.String())
	}
	t.Logf("console:\n%s", console.String())
	if !strings.Contains(console.String(), "built with") {
		t.Errorf("console lacks the job's output:\n%s", console.String())
	}
}

func TestSmokeReportsFailedExchange(t *testing.T) {
	needStepBinary(t)
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	w.Export()
	// The provider requires a claim no job satisfies: the exchange fails.
	w.AddProvider(w.S.IssuerURL(), map[string]any{"aud": "someone-else"})

	var console bytes.Buffer
	res, err := trust.Smoke(w.Ctx(), w.Env, trust.SmokeOptions{Console: &console})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || !res.Bound || res.Exchanged || !strings.Contains(res.Problem, "the exchange failed") {
		t.Fatalf("smoke %+v\nconsole:\n%s", res, console.String())
	}
}

func TestSmokeJob(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	if j, err := trust.SmokeJob(w.S, ""); err != nil || j != "app/build" {
		t.Fatal(j, err)
	}
	if _, err := trust.SmokeJob(w.S, "nope"); err == nil || !strings.Contains(err.Error(), "not in the spec") {
		t.Fatal(err)
	}
}
