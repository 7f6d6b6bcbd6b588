package trust_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

// hostileStep is step text with everything Groovy or a careless renderer
// would interpolate or break on; the shell must print it verbatim.
const hostileStep = `printf '%s\n' "it's" 'a"b $HOME ${BUILD_NUMBER} ` + "`id`" + ` \ c'`

// TestSmokePipelines applies a spec with both generated Jenkinsfile kinds
// (inline with hostile step text, and from SCM over git's smart HTTP
// protocol) to the emulator,
// whose global trusted library is vars/, and smoke-builds each: the
// exchange happens, hostile step text reaches the shell verbatim, and no
// secret is interpolated by Groovy.
func TestSmokePipelines(t *testing.T) {
	needStepBinary(t)
	testenv.LookPath(t, "groovy", "--version")
	testenv.LookPath(t, "git", "--version")
	w := trusttest.Start(t, trusttest.Options{PipelineStep: hostileStep, SCM: true})
	w.Apply()
	w.Export()
	w.AddProvider(w.S.IssuerURL(), map[string]any{"aud": "jenkins", "sub": w.S.Jenkins.RootURL() + "job/.*"})
	for _, job := range []string{"deploy", "from-git"} {
		var console bytes.Buffer
		res, err := trust.Smoke(w.Ctx(), w.Env, trust.SmokeOptions{Job: job, Console: &console})
		if err != nil {
			t.Fatal(err)
		}
		c := console.String()
		if !res.OK() {
			t.Fatalf("%s: smoke %+v\nconsole:\n%s", job, res, c)
		}
		wants := []string{"Loading library jenkins-cloudsmith@main\n", "[Pipeline] withCredentials\n"}
		if job == "deploy" {
			wants = append(wants, "\nit's\n", "\na\"b $HOME ${BUILD_NUMBER} `id` \\ c\n")
		} else {
			wants = append(wants, "Obtained ci/Jenkinsfile from git ", "[Pipeline] checkout\n")
		}
		for _, want := range wants {
			if !strings.Contains(c, want) {
				t.Errorf("%s: console lacks %q:\n%s", job, want, c)
			}
		}
		if strings.Contains(c, "Groovy String interpolation") {
			t.Errorf("%s: a secret was interpolated by Groovy:\n%s", job, c)
		}
	}
}
