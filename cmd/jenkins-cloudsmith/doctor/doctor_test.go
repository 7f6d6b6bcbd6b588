package doctor

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

func run(w *trusttest.World, args ...string) (string, error) {
	out, _, err := w.Run(NewCmd, args...)
	return out, err
}

func TestDoctor(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	w.Export()
	w.AddProvider(w.S.IssuerURL()+"/", map[string]any{"aud": "jenkins"})

	out, err := run(w, "-f", w.SpecFile)
	if cmdutil.ExitCode(err) != 1 || !strings.Contains(out, "FAIL  provider url") || strings.Count(out, "FAIL") != 1 {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	out, err = run(w, "-f", w.SpecFile, "--output", "json")
	var rep struct {
		OK    bool `json:"ok"`
		Links []struct {
			Name, Status string
		}
	}
	if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil || rep.OK || cmdutil.ExitCode(err) != 1 {
		t.Fatalf("json: %v %v\n%s", jerr, err, out)
	}
	if !strings.Contains(NewCmd(&cmdutil.Factory{}).Example, "doctor -f") {
		t.Error("no examples")
	}
}
