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

// unusualFolder is a folder name Jenkins accepts (checkGoodName refuses
// only ?*/\%!@#$^&|<>[]:; and controls) with Unicode, spaces, quotes and
// URL-significant characters, percent-encoded in every URL and JOB_URL.
const unusualFolder = "Ünï cødé (x) + 'q' \"d\" ~ = , {} ` ✓"

// TestSmokeUnusualNames applies a spec whose jobs and folder-scoped OIDC
// credential sit in a folder with an unusual name, then smoke-builds the
// freestyle and the pipeline job, with a custom issuer and with the
// folder's own issuer (<root>job/<folder>/oidc, which Cloudsmith fetches
// percent-encoded).
func TestSmokeUnusualNames(t *testing.T) {
	needStepBinary(t)
	testenv.LookPath(t, "groovy", "--version")
	for _, defaultIssuer := range []bool{false, true} {
		w := trusttest.Start(t, trusttest.Options{Folder: unusualFolder, DefaultIssuer: defaultIssuer})
		w.Apply()
		if !defaultIssuer {
			w.Export()
		}
		w.AddProvider(w.S.IssuerURL(), map[string]any{"aud": "jenkins"})
		for _, job := range []string{w.JobName("app/build"), w.JobName("deploy")} {
			var console bytes.Buffer
			res, err := trust.Smoke(w.Ctx(), w.Env, trust.SmokeOptions{Job: job, Console: &console})
			if err != nil {
				t.Fatalf("%s: %v", job, err)
			}
			if !res.OK() {
				t.Fatalf("default issuer %v, %s: smoke %+v\nconsole:\n%s", defaultIssuer, job, res, console.String())
			}
		}
	}
}
