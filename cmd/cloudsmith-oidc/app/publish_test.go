package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
)

// Round trips: a real client publishes through `cloudsmith-oidc exec`,
// then a real client installs the published version, with nothing on
// either command line but what a build would type.

// pipEnv keeps pip quiet and away from the user's site and cache.
var pipEnv = []string{"PIP_NO_CACHE_DIR=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1", "PYTHONNOUSERSITE=1"}

func TestEndToEndTwineRoundTrip(t *testing.T) {
	needTool(t, "twine", "--version")
	needTool(t, "python3", "-m", "pip", "--version")
	w, oidc, tok := start(t)
	name, wheel, err := cloudsmithtest.Wheel("hello-published", "2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(w.dir, "dist")
	writeFiles(t, map[string]string{filepath.Join(dist, name): string(wheel)})
	w.execOK(t, w.dir, oidc, tok, []string{"TWINE_NON_INTERACTIVE=1"}, "exec", "--format", "python", "--",
		"twine", "upload", "--disable-progress-bar", filepath.Join(dist, name))
	// The same upload again is refused, not stored twice.
	if out, errOut, code := w.run(t, w.dir, []string{"OIDC_TOKEN=" + oidc, "TWINE_NON_INTERACTIVE=1"}, "exec", "--format", "python", "--",
		"twine", "upload", "--disable-progress-bar", filepath.Join(dist, name)); code == 0 {
		t.Errorf("a second upload of the same file succeeded:\n%s%s", out, errOut)
	}
	target := filepath.Join(w.dir, "site")
	w.execOK(t, w.dir, oidc, tok, pipEnv, "exec", "--format", "python", "--",
		"python3", "-m", "pip", "install", "--no-deps", "--target", target, "hello-published==2.0.0")
	if _, err := os.Stat(filepath.Join(target, "hello_published-2.0.0.dist-info")); err != nil {
		t.Errorf("the published wheel was not installed: %v", err)
	}
}

// TestEndToEndTwineConfigFile: outside exec, configure's pypirc is what
// twine reads (twine has no variable for a config file).
func TestEndToEndTwineConfigFile(t *testing.T) {
	needTool(t, "twine", "--version")
	w, oidc, tok := start(t)
	name, wheel, err := cloudsmithtest.Wheel("hello-configured", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(w.dir, name)
	writeFiles(t, map[string]string{file: string(wheel)})
	out := w.execOK(t, w.dir, oidc, tok, nil, "configure", "python", "--dir", filepath.Join(w.dir, "cfg"))
	if strings.Contains(out, "TWINE_PASSWORD") || strings.Contains(out, "TWINE_REPOSITORY_URL") {
		t.Errorf("configure printed exec-only variables:\n%s", out)
	}
	pypirc := filepath.Join(w.dir, "cfg", "pypirc")
	if fi, err := os.Stat(pypirc); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("pypirc: %v %v", fi, err)
	}
	cmd := []string{"sh", "-c", `twine upload --non-interactive --disable-progress-bar --config-file "$0" -r cloudsmith "$1"`, pypirc, file}
	w.execOK(t, w.dir, oidc, tok, nil, append([]string{"exec", "--"}, cmd...)...)
	found := false
	for _, p := range w.cs.Cloudsmith.Packages(w.cs.Org, w.cs.Repo) {
		found = found || p.Format == "python" && p.Name == "hello-configured"
	}
	if !found {
		t.Error("the upload through the pypirc was not stored")
	}
}

// npmEnv keeps npm's cache, global config and update checks out of the
// user's home.
func npmEnv(dir string) []string {
	return []string{"NPM_CONFIG_CACHE=" + filepath.Join(dir, "npm-cache"), "NPM_CONFIG_GLOBALCONFIG=" + filepath.Join(dir, "global-npmrc"),
		"NPM_CONFIG_UPDATE_NOTIFIER=false", "NPM_CONFIG_FETCH_RETRIES=0", "NPM_CONFIG_AUDIT=false", "NPM_CONFIG_FUND=false"}
}

func TestEndToEndNPMPublishRoundTrip(t *testing.T) {
	needTool(t, "npm", "--version")
	w, oidc, tok := start(t)
	lib := filepath.Join(w.dir, "lib")
	writeFiles(t, map[string]string{
		filepath.Join(lib, "package.json"): `{"name":"hello-published","version":"2.0.0","main":"index.js","license":"MIT"}`,
		filepath.Join(lib, "index.js"):     "module.exports = () => 'published';\n",
	})
	w.execOK(t, lib, oidc, tok, npmEnv(w.dir), "exec", "--format", "npm", "--", "npm", "publish")
	scoped := filepath.Join(w.dir, "scoped")
	writeFiles(t, map[string]string{
		filepath.Join(scoped, "package.json"): `{"name":"@acme/hello-scoped","version":"1.2.0","main":"index.js","license":"MIT"}`,
		filepath.Join(scoped, "index.js"):     "module.exports = () => 'scoped';\n",
	})
	w.execOK(t, scoped, oidc, tok, npmEnv(w.dir), "exec", "--format", "npm", "--", "npm", "publish", "--access", "restricted")
	if _, _, code := w.run(t, lib, append([]string{"OIDC_TOKEN=" + oidc}, npmEnv(w.dir)...), "exec", "--format", "npm", "--", "npm", "publish"); code == 0 {
		t.Error("publishing the same version twice succeeded")
	}
	// A prerelease under another dist-tag leaves latest where it was.
	writeFiles(t, map[string]string{filepath.Join(lib, "package.json"): `{"name":"hello-published","version":"3.0.0-beta.1","main":"index.js","license":"MIT"}`})
	w.execOK(t, lib, oidc, tok, npmEnv(w.dir), "exec", "--format", "npm", "--", "npm", "publish", "--tag", "beta")
	app := filepath.Join(w.dir, "app")
	writeFiles(t, map[string]string{filepath.Join(app, "package.json"): `{"name":"consumer","version":"0.0.0","private":true}`})
	w.execOK(t, app, oidc, tok, npmEnv(w.dir), "exec", "--format", "npm", "--", "npm", "install", "hello-published", "@acme/hello-scoped@1.2.0")
	if b, err := os.ReadFile(filepath.Join(app, "node_modules", "hello-published", "package.json")); err != nil || !strings.Contains(string(b), `"2.0.0"`) {
		t.Errorf("npm install of the latest dist-tag: %v %s; want 2.0.0, not the beta", err, b)
	}
	if _, err := os.Stat(filepath.Join(app, "node_modules", "@acme", "hello-scoped", "index.js")); err != nil {
		t.Errorf("the scoped package was not installed: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(app, "node_modules", "hello-published", "index.js")); err != nil || !strings.Contains(string(b), "published") {
		t.Fatalf("installed index.js: %v %q", err, b)
	}
}

// TestEndToEndYarnClassic installs with Debian's yarnpkg (Yarn 1), which
// sends the token for an unscoped package only with always-auth.
func TestEndToEndYarnClassic(t *testing.T) {
	yarn := yarnpkg(t)
	w, oidc, tok := start(t)
	app := filepath.Join(w.dir, "app")
	writeFiles(t, map[string]string{filepath.Join(app, "package.json"): `{"name":"consumer","version":"0.0.0","private":true,"license":"MIT"}`})
	env := []string{"YARN_CACHE_FOLDER=" + filepath.Join(w.dir, "yarn-cache"), "YARN_ENABLE_TELEMETRY=0", "NODE_PATH=" + debianNodePath}
	w.execOK(t, app, oidc, tok, env, "exec", "--format", "npm", "--", yarn, "add", "--non-interactive", "--no-progress", "hello-cloudsmith@1.0.0")
	if b, err := os.ReadFile(filepath.Join(app, "node_modules", "hello-cloudsmith", "package.json")); err != nil || !strings.Contains(string(b), `"1.0.0"`) {
		t.Fatalf("installed package.json: %v %q", err, b)
	}
	lock, _ := os.ReadFile(filepath.Join(app, "yarn.lock"))
	if !strings.Contains(string(lock), w.cs.NPMRegistryURL()) {
		t.Errorf("yarn.lock does not resolve from the Cloudsmith registry:\n%s", lock)
	}
}

// debianNodePath is where Debian's node modules live: Debian's node looks
// there itself, a node from elsewhere (NodeSource) needs NODE_PATH for
// Debian's yarnpkg to find its dependencies.
const debianNodePath = "/usr/share/nodejs"

func yarnpkg(t *testing.T) string {
	t.Helper()
	t.Setenv("NODE_PATH", debianNodePath) // for the probe
	return testenv.LookPath(t, "yarnpkg", "--version")
}

// TestEndToEndGoDebian fetches the demo module with Debian's Go (1.19),
// older than the toolchain running the tests: netrc matching and GOPROXY
// handling must suit the go commands agents actually have.
func TestEndToEndGoDebian(t *testing.T) {
	goBin := debianGo(t)
	w, oidc, tok := start(t, cloudsmithtest.WithTLS(cloudsmithtest.HostGo))
	proj := filepath.Join(w.dir, "proj")
	ca := filepath.Join(w.dir, "ca.pem")
	writeFiles(t, map[string]string{
		filepath.Join(proj, "go.mod"): "module consumer\n\ngo 1.19\n\nrequire " + cloudsmithtest.DemoGoModule + " " + cloudsmithtest.DemoGoVersion + "\n",
		filepath.Join(proj, "go.sum"): w.cs.Cloudsmith.GoSum(),
		ca:                            string(w.cs.CACertPEM),
	})
	env := []string{"SSL_CERT_FILE=" + ca, "GOFLAGS=-modcacherw", "GOTOOLCHAIN=local", "GOENV=off", "GOROOT=",
		"GOPATH=" + filepath.Join(w.dir, "gopath"), "GOMODCACHE=" + filepath.Join(w.dir, "modcache"), "GOCACHE=" + filepath.Join(w.dir, "gocache")}
	out := w.execOK(t, proj, oidc, tok, env, "exec", "--format", "go", "--go-nosumdb", "example.com", "--",
		goBin, "mod", "download", "-json", cloudsmithtest.DemoGoModule+"@"+cloudsmithtest.DemoGoVersion)
	if !strings.Contains(out, `"Version": "v1.0.0"`) || strings.Contains(out, `"Error"`) {
		t.Fatalf("go mod download:\n%s", out)
	}
	fetched := false
	for _, r := range w.cs.Cloudsmith.Requests() {
		fetched = fetched || r.Host == cloudsmithtest.HostGo && strings.HasSuffix(r.Path, ".zip") && r.Status == 200 && r.Auth == "token"
	}
	if !fetched {
		t.Error("Debian's go did not fetch the module zip from the Go proxy with the token")
	}
}

// debianGo finds Debian's packaged Go (golang-1.19-go installs it beside,
// not over, the toolchain on PATH).
func debianGo(t *testing.T) string {
	t.Helper()
	matches, _ := filepath.Glob("/usr/lib/go-1.*/bin/go")
	p := "/usr/lib/go-1.19/bin/go"
	if len(matches) > 0 {
		p = matches[0]
	}
	return testenv.LookPath(t, p, "version")
}

// pushScript uploads $1 as format $2 (name $3, version $4) the way
// `cloudsmith push` does, with curl and jq: request an upload, send the
// file to the pre-signed URL, create the package. The token goes to curl
// on stdin (-K -), never on its command line.
const pushScript = `set -eu
api="$CLOUDSMITH_API_HOST/v1"
auth() { printf 'header = "X-Api-Key: %s"\n' "$CLOUDSMITH_API_KEY"; }
md5=$(md5sum "$1" | cut -d' ' -f1)
up=$(auth | curl -fsS -K - -H 'Content-Type: application/json' \
  -d "{\"filename\":\"$(basename "$1")\",\"md5_checksum\":\"$md5\"}" "$api/files/$CLOUDSMITH_ORG/$CLOUDSMITH_REPO/")
id=$(printf '%s' "$up" | jq -r .identifier)
curl -fsS -F "key=$(printf '%s' "$up" | jq -r .upload_fields.key)" -F "file=@$1" "$(printf '%s' "$up" | jq -r .upload_url)"
auth | curl -fsS -K - -H 'Content-Type: application/json' \
  -d "{\"package_file\":\"$id\",\"name\":\"$3\",\"version\":\"$4\"}" "$api/packages/$CLOUDSMITH_ORG/$CLOUDSMITH_REPO/upload/$2/" >/dev/null
`

func TestEndToEndRawPushRoundTrip(t *testing.T) {
	needTool(t, "curl", "--version")
	needTool(t, "jq", "--version")
	w, oidc, tok := start(t)
	file := filepath.Join(w.dir, "notes.txt")
	writeFiles(t, map[string]string{file: "published notes\n"})
	w.execOK(t, w.dir, oidc, tok, nil, "exec", "--format", "raw", "--", "sh", "-c", pushScript, "push", file, "raw", "notes", "2.0.0")
	out := w.execOK(t, w.dir, oidc, tok, nil, "exec", "--format", "raw", "--",
		"sh", "-c", `curl -fsS --netrc-file "$NETRC" "${CLOUDSMITH_RAW_URL%files/}names/notes/versions/2.0.0/notes.txt"`)
	if out != "published notes\n" {
		t.Errorf("downloaded %q", out)
	}
	// configure leaves the Cloudsmith CLI a credentials file, not the token in the environment.
	env := w.execOK(t, w.dir, oidc, tok, nil, "configure", "raw", "--dir", filepath.Join(w.dir, "cfg"))
	creds := filepath.Join(w.dir, "cfg", "cloudsmith", "credentials.ini")
	if b, err := os.ReadFile(creds); err != nil || !strings.Contains(string(b), "api_key = "+tok) || !strings.Contains(env, "CLOUDSMITH_CREDENTIALS_FILE="+creds) {
		t.Errorf("credentials.ini: %v; env:\n%s", err, env)
	}
}

func TestEndToEndHelm(t *testing.T) {
	helm := helmBinary(t)
	needTool(t, "curl", "--version")
	needTool(t, "jq", "--version")
	w, oidc, tok := start(t)
	env := []string{"HELM_CACHE_HOME=" + filepath.Join(w.dir, "helm-cache"), "HELM_CONFIG_HOME=" + filepath.Join(w.dir, "helm-config"), "HELM_DATA_HOME=" + filepath.Join(w.dir, "helm-data")}
	// Install side: the demo chart through the configured repository.
	pulled := filepath.Join(w.dir, "pulled")
	w.execOK(t, w.dir, oidc, tok, env, "exec", "--format", "helm", "--", "sh", "-c",
		`mkdir -p "$1" && "$0" repo update && "$0" pull cloudsmith/hello-cloudsmith --version 1.0.0 -d "$1"`, helm, pulled)
	if _, err := os.Stat(filepath.Join(pulled, "hello-cloudsmith-1.0.0.tgz")); err != nil {
		t.Fatal(err)
	}
	// Publish side: helm package, push as `cloudsmith push helm` does, pull it back.
	chart := filepath.Join(w.dir, "mychart")
	writeFiles(t, map[string]string{
		filepath.Join(chart, "Chart.yaml"):  "apiVersion: v2\nname: mychart\nversion: 0.3.0\n",
		filepath.Join(chart, "values.yaml"): "{}\n",
	})
	w.execOK(t, w.dir, oidc, tok, env, "exec", "--format", "helm", "--", "sh", "-c",
		`mkdir -p "$2/back" && "$0" package "$1" -d "$2" && sh -c "$3" push "$2/mychart-0.3.0.tgz" helm mychart 0.3.0 && "$0" repo update && "$0" pull cloudsmith/mychart --version 0.3.0 -d "$2/back"`,
		helm, chart, filepath.Join(w.dir, "pkg"), pushScript)
	if _, err := os.Stat(filepath.Join(w.dir, "pkg", "back", "mychart-0.3.0.tgz")); err != nil {
		t.Fatal(err)
	}
}

// helmBinary finds helm. Helm has no Debian package, and building it from
// its module (go install helm.sh/helm/v3/cmd/helm@v3.16.4) took 6m42s
// with a cold module cache on two cores: too slow for CI. So, unlike the
// other clients, a missing helm skips even under CI; cloudsmithtest's
// TestHelmRepositoryAsHelmReadsIt checks the chart repository protocol
// without it.
func helmBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("helm")
	if err != nil {
		t.Skip("helm is not installed (no Debian package; build it with go install helm.sh/helm/v3/cmd/helm@v3.16.4)")
	}
	return p
}
