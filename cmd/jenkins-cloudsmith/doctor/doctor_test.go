package doctor

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
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

// doctor --token-file exchanges through cloudsmith.proxy, as builds and
// apply do: the exchange client is the spec's Cloudsmith client, not a
// second one built without the proxy.
func TestDoctorTokenFileUsesCloudsmithProxy(t *testing.T) {
	var seen atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The token travels over https: the proxy sees a CONNECT for the
		// API host, and refuses to tunnel it.
		seen.Store(r.Method + " " + r.Host)
		http.Error(w, "no tunnel", http.StatusForbidden)
	}))
	defer proxy.Close()

	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.yaml")
	// Jenkins is unreachable (doctor skips its links); the API host does
	// not resolve, so only the proxy can be reached.
	yaml := fmt.Sprintf(`version: 1
jenkins: {url: "http://127.0.0.1:1/", user: admin, token: "${JENKINS_API_TOKEN}"}
cloudsmith: {org: acme, service: jenkins-ci, api_url: "https://api.cloudsmith.invalid", proxy: %q,
  provider: {name: jenkins, claims: {aud: jenkins}}}
oidc: {credential: oidc-token-cred, audience: jenkins}
binary: {path: cloudsmith-oidc}
defaults: {repo: r, formats: [raw]}
jobs:
  - {name: build, type: freestyle, steps: ["echo hi"]}
`, proxy.URL)
	if err := os.WriteFile(specFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	claims := fmt.Sprintf(`{"iss":"http://127.0.0.1:1/oidc","aud":"jenkins","sub":"http://127.0.0.1:1/job/build/","exp":%d,"iat":%d}`,
		time.Now().Add(time.Hour).Unix(), time.Now().Unix())
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(b64([]byte(`{"alg":"RS256","kid":"oidc-token-cred"}`))+"."+b64([]byte(claims))+"."+b64([]byte("sig"))), 0o600); err != nil {
		t.Fatal(err)
	}

	ios, _, out, _ := iostreams.Test(map[string]string{"JENKINS_API_TOKEN": "t0ken"})
	cmd := NewCmd(&cmdutil.Factory{IO: ios})
	cmd.SetArgs([]string{"-f", specFile, "--token-file", tokenFile})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	_ = cmd.Execute()
	if got, _ := seen.Load().(string); got != "CONNECT api.cloudsmith.invalid:443" {
		t.Errorf("the proxy saw %q, want the exchange's CONNECT\n%s", got, out)
	}
}
