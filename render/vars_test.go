package render

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// The OIDC token the stub's withCredentials binds in the vars tests.
const varsSecret = "eyJ.vars-secret-oidc-token.sig"

// varsScenario is one run of a vars/ step (or a Jenkinsfile using them)
// under testdata/groovy/harness.groovy's pipeline stub.
type varsScenario struct {
	Name        string            `json:"name"`
	Step        string            `json:"step,omitempty"`
	Jenkinsfile string            `json:"jenkinsfile,omitempty"`
	Args        map[string]any    `json:"args,omitempty"`
	Unix        bool              `json:"unix"`
	Env         map[string]string `json:"env"`
	Secrets     map[string]string `json:"secrets"`
	Body        []string          `json:"body,omitempty"`
	BodyFails   bool              `json:"bodyFails,omitempty"`
	BatStdout   string            `json:"batStdout,omitempty"`
	Vars        string            `json:"vars"`
	Tmp         string            `json:"tmp"`

	check func(t *testing.T, r varsResult)
}

type varsResult struct {
	Name      string            `json:"name"`
	Error     *string           `json:"error"`
	Result    any               `json:"result"`
	BodyEnv   map[string]string `json:"bodyEnv"`
	EnvAfter  map[string]string `json:"envAfter"`
	Calls     [][2]string       `json:"calls"`
	Console   string            `json:"console"`
	tmp, logs string
}

// binaryCalls returns the argv of each fake cloudsmith-oidc run, in order.
func (r varsResult) binaryCalls(t *testing.T) [][]string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(r.logs, "call.*"))
	// mktemp names are random: order by modification time.
	sortByMtime(dirs)
	var out [][]string
	for _, d := range dirs {
		out = append(out, readArgv(t, filepath.Join(d, "argv")))
	}
	return out
}

// binaryToken returns the OIDC token the only fake binary run read.
func (r varsResult) binaryToken(t *testing.T) string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(r.logs, "call.*"))
	if len(dirs) != 1 {
		t.Fatalf("%d binary runs, want 1", len(dirs))
	}
	b, err := os.ReadFile(filepath.Join(dirs[0], "token"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// binaryEnv returns the environment of the only fake binary run.
func (r varsResult) binaryEnv(t *testing.T) map[string]string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(r.logs, "call.*"))
	if len(dirs) != 1 {
		t.Fatalf("%d binary runs, want 1", len(dirs))
	}
	b, err := os.ReadFile(filepath.Join(dirs[0], "env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

func (r varsResult) steps() []string {
	var s []string
	for _, c := range r.Calls {
		s = append(s, c[0])
	}
	return s
}

func sortByMtime(paths []string) {
	mt := func(p string) int64 {
		st, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return st.ModTime().UnixNano()
	}
	for i := 1; i < len(paths); i++ {
		for j := i; j > 0 && mt(paths[j]) < mt(paths[j-1]); j-- {
			paths[j], paths[j-1] = paths[j-1], paths[j]
		}
	}
}

func wantErr(t *testing.T, r varsResult, want string) {
	t.Helper()
	if r.Error == nil || !strings.Contains(*r.Error, want) {
		t.Fatalf("error = %v, want %q", r.Error, want)
	}
}

func noErr(t *testing.T, r varsResult) {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("error: %s\nconsole:\n%s", *r.Error, r.Console)
	}
}

// configDir returns the directory withCloudsmith configured, from the
// binary's --dir, and checks it is a fresh one under WORKSPACE_TMP.
func configDir(t *testing.T, r varsResult, argv []string) string {
	t.Helper()
	for i, a := range argv {
		if a == "--dir" && i+1 < len(argv) {
			d := argv[i+1]
			if !strings.HasPrefix(d, filepath.Join(r.tmp, "wstmp", "cloudsmith-")) {
				t.Errorf("config dir %s is not a fresh directory under WORKSPACE_TMP", d)
			}
			return d
		}
	}
	t.Fatalf("no --dir in %q", argv)
	return ""
}

func cleanedUp(t *testing.T, r varsResult, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after the step (err %v)", dir, err)
	}
	if last := r.Calls[len(r.Calls)-1]; last[0] != "sh" || !strings.Contains(last[1], "rm -rf") {
		t.Errorf("last step %v, want the rm -rf cleanup", last)
	}
}

// TestVarsSteps runs the generated vars/ steps and a generated Jenkinsfile
// under plain Groovy (one JVM for every scenario) with a stub pipeline DSL
// whose sh runs real /bin/sh, and a fake cloudsmith-oidc that records its
// argv and environment.
func TestVarsSteps(t *testing.T) {
	needTool(t, "bash")
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	varsDir := filepath.Join(root, "vars")
	vars, err := r.Vars()
	if err != nil {
		t.Fatal(err)
	}
	for n, b := range vars {
		if err := WriteFileAtomic(filepath.Join(varsDir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fakebin, _ := filepath.Abs(filepath.Join("testdata", "fakebin"))
	failrm, _ := filepath.Abs(filepath.Join("testdata", "failrm"))
	fakeSHA := sha256Hex(t, filepath.Join(fakebin, "cloudsmith-oidc"))

	// A Jenkinsfile rendered from a spec, run with the real steps.
	s := sampleSpec()
	s.Cloudsmith.DownloadURL = ""
	s.Jobs[0].Steps = []string{`test -f "$PIP_CONFIG_FILE"`, `echo "jenkinsfile step ran with $NPM_CONFIG_USERCONFIG"`}
	out, err := r.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	jenkinsfile := filepath.Join(root, "Jenkinsfile")
	if err := os.WriteFile(jenkinsfile, jobByName(t, out, "team-a/build-wheel").Jenkinsfile, 0o644); err != nil {
		t.Fatal(err)
	}

	base := map[string]any{"org": "acme", "service": "svc", "credentialsId": "oidc", "repo": "r", "formats": []string{"python", "npm"}}
	with := func(extra map[string]any, drop ...string) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		for _, k := range drop {
			delete(m, k)
		}
		return m
	}
	const hostile = `it's "q" $(touch pwned) ${x} \ '''`

	scenarios := []*varsScenario{
		{Name: "string credential", Step: "withCloudsmith", Args: with(map[string]any{"apiUrl": "http://127.0.0.1:9/api"}),
			Env:  map[string]string{"PIP_INDEX_URL": "https://pypi.example/simple"},
			Body: []string{`test -f "$PIP_CONFIG_FILE"`, `echo "body ran"`},
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				if r.Result != "body result" {
					t.Errorf("result %v", r.Result)
				}
				calls := r.binaryCalls(t)
				if len(calls) != 1 {
					t.Fatalf("binary runs %q", calls)
				}
				dir := configDir(t, r, calls[0])
				want := []string{"configure", "--dir", dir, "--org", "acme", "--service", "svc", "--repo", "r", "python,npm"}
				if !reflect.DeepEqual(calls[0], want) {
					t.Errorf("argv %q, want %q", calls[0], want)
				}
				env := r.binaryEnv(t)
				if env["OIDC_TOKEN"] != varsSecret || env["CLOUDSMITH_API_URL"] != "http://127.0.0.1:9/api" || env["CLOUDSMITH_ORG"] != "acme" {
					t.Errorf("binary env: OIDC_TOKEN set %v, API URL %q", env["OIDC_TOKEN"] == varsSecret, env["CLOUDSMITH_API_URL"])
				}
				if _, ok := env["CLOUDSMITH_DOWNLOAD_URL"]; ok {
					t.Errorf("unset URL passed as an empty variable")
				}
				for k, v := range map[string]string{"PIP_CONFIG_FILE": dir + "/pip.conf", "NPM_CONFIG_USERCONFIG": dir + "/npmrc", "GONOSUMDB": "example.com/*"} {
					if r.BodyEnv[k] != v {
						t.Errorf("body env %s = %q, want %q", k, r.BodyEnv[k], v)
					}
				}
				if _, ok := r.EnvAfter["PIP_CONFIG_FILE"]; ok {
					t.Errorf("configuration leaked out of the block")
				}
				if _, ok := r.BodyEnv["PIP_INDEX_URL"]; ok {
					t.Errorf("PIP_INDEX_URL not unset in the block")
				}
				if r.EnvAfter["PIP_INDEX_URL"] != "https://pypi.example/simple" {
					t.Errorf("PIP_INDEX_URL not restored after the block")
				}
				if !strings.Contains(r.Console, "body ran") {
					t.Errorf("body did not run:\n%s", r.Console)
				}
				cleanedUp(t, r, dir)
			}},
		{Name: "file credential", Step: "withCloudsmith", Args: with(map[string]any{"kind": "file"}),
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				env := r.binaryEnv(t)
				// The file stays a file: the binary reads it; its content is
				// never put in a variable (Jenkins masks only the path).
				if _, ok := env["OIDC_TOKEN"]; ok || env["OIDC_TOKEN_FILE"] == "" {
					t.Errorf("binary env: OIDC_TOKEN set %v, OIDC_TOKEN_FILE %q", ok, env["OIDC_TOKEN_FILE"])
				}
				if tok := r.binaryToken(t); tok != varsSecret {
					t.Errorf("binary read %q from the bound file", tok)
				}
				if r.Calls[1][0] != "withCredentials" || !strings.Contains(r.Calls[1][1], `"type":"file"`) {
					t.Errorf("calls %v", r.Calls)
				}
				cleanedUp(t, r, configDir(t, r, r.binaryCalls(t)[0]))
			}},
		{Name: "body fails", Step: "withCloudsmith", Args: base, BodyFails: true,
			check: func(t *testing.T, r varsResult) {
				wantErr(t, r, "body failed")
				cleanedUp(t, r, configDir(t, r, r.binaryCalls(t)[0]))
			}},
		{Name: "configure fails", Step: "withCloudsmith", Args: base, Secrets: map[string]string{"oidc": ""},
			check: func(t *testing.T, r varsResult) {
				wantErr(t, r, "exit code 3")
				if r.BodyEnv != nil {
					t.Errorf("body ran")
				}
				cleanedUp(t, r, configDir(t, r, r.binaryCalls(t)[0]))
			}},
		{Name: "missing org", Step: "withCloudsmith", Args: with(nil, "org"),
			check: func(t *testing.T, r varsResult) {
				wantErr(t, r, "withCloudsmith: 'org' is required (or set CLOUDSMITH_ORG)")
				if len(r.binaryCalls(t)) != 0 || strings.Contains(strings.Join(r.steps(), " "), "sh") {
					t.Errorf("ran something: %v", r.steps())
				}
			}},
		{Name: "missing credentialsId", Step: "cloudsmithExec", Args: with(map[string]any{"command": "true"}, "credentialsId"),
			check: func(t *testing.T, r varsResult) { wantErr(t, r, "cloudsmithExec: 'credentialsId' is required") }},
		{Name: "unknown argument", Step: "withCloudsmith", Args: with(map[string]any{"orgg": "x"}),
			check: func(t *testing.T, r varsResult) { wantErr(t, r, "withCloudsmith: unknown argument 'orgg'") }},
		{Name: "unknown format", Step: "withCloudsmith", Args: with(map[string]any{"formats": []string{"pypi"}}),
			check: func(t *testing.T, r varsResult) { wantErr(t, r, "unknown format 'pypi'") }},
		{Name: "bad kind", Step: "withCloudsmith", Args: with(map[string]any{"kind": "jwt"}),
			check: func(t *testing.T, r varsResult) { wantErr(t, r, "'kind' must be 'string'") }},
		{Name: "binaryUrl without sha", Step: "withCloudsmith", Args: with(map[string]any{"binaryUrl": "https://x"}),
			check: func(t *testing.T, r varsResult) { wantErr(t, r, "'binaryUrl' needs 'binarySha256'") }},
		{Name: "defaults from env", Step: "withCloudsmith", Args: map[string]any{},
			Env: map[string]string{"CLOUDSMITH_ORG": "env-org", "CLOUDSMITH_SERVICE_SLUG": "env-svc", "CLOUDSMITH_REPO": "env-repo",
				"CLOUDSMITH_OIDC_CREDENTIALS_ID": "oidc", "CLOUDSMITH_FORMATS": "go raw"},
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				argv := r.binaryCalls(t)[0]
				want := []string{"configure", "--dir", configDir(t, r, argv), "--org", "env-org", "--service", "env-svc", "--repo", "env-repo", "go,raw"}
				if !reflect.DeepEqual(argv, want) {
					t.Errorf("argv %q, want %q", argv, want)
				}
			}},
		{Name: "hostile values stay values", Step: "withCloudsmith", Args: with(map[string]any{"org": hostile, "repo": "${env.SECRET}"}),
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				argv := r.binaryCalls(t)[0]
				if argv[4] != hostile || argv[8] != "${env.SECRET}" {
					t.Errorf("argv %q", argv)
				}
				if _, err := os.Stat(filepath.Join(r.tmp, "ws", "pwned")); err == nil {
					t.Errorf("command substitution ran")
				}
			}},
		{Name: "cloudsmithExec", Step: "cloudsmithExec",
			Args: with(map[string]any{"command": `echo "exec ran" '${x}' "$CLOUDSMITH_ORG"`, "returnStdout": true}),
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				if r.Result != "exec ran ${x} acme\n" {
					t.Errorf("result %q", r.Result)
				}
				want := []string{"exec", "--org", "acme", "--service", "svc", "--repo", "r", "--format", "python,npm", "--", "/bin/sh", "-e", "-c", `echo "exec ran" '${x}' "$CLOUDSMITH_ORG"`}
				if got := r.binaryCalls(t); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
					t.Errorf("argv %q, want %q", got, want)
				}
				if r.binaryEnv(t)["OIDC_TOKEN"] != varsSecret {
					t.Errorf("binary did not get the token")
				}
			}},
		{Name: "cloudsmithExec status", Step: "cloudsmithExec", Args: with(map[string]any{"command": "exit 7", "returnStatus": true}),
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				if r.Result != float64(7) {
					t.Errorf("result %v", r.Result)
				}
			}},
		{Name: "cloudsmithExec needs command", Step: "cloudsmithExec", Args: base,
			check: func(t *testing.T, r varsResult) { wantErr(t, r, "cloudsmithExec: 'command' is required") }},
		{Name: "binary download", Step: "withCloudsmith",
			Args: with(map[string]any{"binaryUrl": "https://dl.example.com/cloudsmith-oidc", "binarySha256": fakeSHA}),
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				curls, _ := filepath.Glob(filepath.Join(r.logs, "curl.*"))
				if len(curls) != 1 {
					t.Fatalf("%d downloads", len(curls))
				}
				argv := readArgv(t, filepath.Join(curls[0], "argv"))
				if argv[len(argv)-1] != "https://dl.example.com/cloudsmith-oidc" {
					t.Errorf("curl %q", argv)
				}
				cleanedUp(t, r, configDir(t, r, r.binaryCalls(t)[0]))
			}},
		{Name: "binary checksum mismatch", Step: "withCloudsmith",
			Args: with(map[string]any{"binaryUrl": "https://dl.example.com/cloudsmith-oidc", "binarySha256": strings.Repeat("0", 64)}),
			check: func(t *testing.T, r varsResult) {
				wantErr(t, r, "exit code")
				if n := len(r.binaryCalls(t)); n != 0 {
					t.Errorf("ran an unverified binary %d times", n)
				}
				if !strings.Contains(r.Console, "FAILED") {
					t.Errorf("console:\n%s", r.Console)
				}
			}},
		{Name: "windows", Step: "withCloudsmith", Args: base,
			BatStdout: "export PIP_CONFIG_FILE=C:\\ws\\pip.conf\r\nexport NPM_CONFIG_USERCONFIG='C:\\w s\\npmrc'\r\nnoise\r\n",
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				if r.BodyEnv["PIP_CONFIG_FILE"] != `C:\ws\pip.conf` || r.BodyEnv["NPM_CONFIG_USERCONFIG"] != `C:\w s\npmrc` {
					t.Errorf("body env %v", r.BodyEnv)
				}
				var bats []string
				for _, c := range r.Calls {
					if c[0] == "bat" {
						bats = append(bats, c[1])
					}
					if c[0] == "sh" {
						t.Errorf("sh used on Windows")
					}
				}
				if len(bats) != 2 || !strings.Contains(bats[0], `\"%cloudsmith_oidc%\" configure`) || !strings.Contains(bats[1], "rmdir /s /q") {
					t.Errorf("bat calls %q", bats)
				}
				if r.Calls[0][0] != "withEnv" || !strings.Contains(r.Calls[0][1], "CLOUDSMITH_OIDC_BIN=cloudsmith-oidc.exe") {
					t.Errorf("calls %v", r.Calls[:2])
				}
			}},
		{Name: "format names as the binary takes them", Step: "withCloudsmith", Args: with(map[string]any{"formats": []string{"PIP", "Npm", "uv", " python "}}),
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				if argv := r.binaryCalls(t)[0]; argv[len(argv)-1] != "python,npm" {
					t.Errorf("formats %q, want python,npm", argv[len(argv)-1])
				}
			}},
		{Name: "configure output decoded as UTF-8", Step: "withCloudsmith", Args: base,
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				var sh map[string]any
				for _, c := range r.Calls {
					if c[0] == "sh" && strings.Contains(c[1], "configure") {
						if err := json.Unmarshal([]byte(c[1]), &sh); err != nil {
							t.Fatal(err)
						}
					}
				}
				if sh["encoding"] != "UTF-8" || sh["returnStdout"] != true {
					t.Errorf("configure's sh step %v, want returnStdout with encoding UTF-8", sh)
				}
			}},
		{Name: "binaries per platform", Step: "withCloudsmith",
			Args: with(map[string]any{"binaries": map[string]any{
				"linux/" + runtime.GOARCH: map[string]any{"url": "https://dl.example.com/linux", "sha256": strings.ToUpper(fakeSHA)},
				"darwin/arm64":            map[string]any{"url": "https://dl.example.com/darwin", "sha256": fakeSHA},
				"windows/amd64":           map[string]any{"url": "https://dl.example.com/windows.exe", "sha256": fakeSHA},
			}}),
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				curls, _ := filepath.Glob(filepath.Join(r.logs, "curl.*"))
				if len(curls) != 1 {
					t.Fatalf("%d downloads", len(curls))
				}
				if argv := readArgv(t, filepath.Join(curls[0], "argv")); argv[len(argv)-1] != "https://dl.example.com/linux" {
					t.Errorf("downloaded %q, want this agent's platform", argv[len(argv)-1])
				}
				cleanedUp(t, r, configDir(t, r, r.binaryCalls(t)[0]))
			}},
		{Name: "binaries without this platform", Step: "withCloudsmith",
			Args: with(map[string]any{"binaries": map[string]any{"darwin/arm64": map[string]any{"url": "https://dl.example.com/darwin", "sha256": fakeSHA}}}),
			check: func(t *testing.T, r varsResult) {
				wantErr(t, r, "exit code 1")
				if !strings.Contains(r.Console, "binary.platforms has no entry for this agent (linux/"+runtime.GOARCH+"); it has: darwin/arm64") {
					t.Errorf("console:\n%s", r.Console)
				}
			}},
		{Name: "binaries unknown platform", Step: "withCloudsmith",
			Args:  with(map[string]any{"binaries": map[string]any{"plan9/386": map[string]any{"url": "https://x", "sha256": fakeSHA}}}),
			check: func(t *testing.T, r varsResult) { wantErr(t, r, "unknown platform 'plan9/386'") }},
		{Name: "cleanup fails after the body succeeded", Step: "withCloudsmith", Args: base,
			Env: map[string]string{"PATH": failrm + ":" + fakebin + ":/usr/bin:/bin"},
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				if r.Result != "body result" || !strings.Contains(r.Console, "cloudsmith: could not remove ") {
					t.Errorf("result %v; console:\n%s", r.Result, r.Console)
				}
			}},
		{Name: "cleanup fails after the body failed", Step: "withCloudsmith", Args: base, BodyFails: true,
			Env: map[string]string{"PATH": failrm + ":" + fakebin + ":/usr/bin:/bin"},
			check: func(t *testing.T, r varsResult) {
				// The body's exception, not the cleanup's, fails the build.
				wantErr(t, r, "body failed")
			}},
		{Name: "abort during cleanup", Step: "withCloudsmith", Args: base, Env: map[string]string{"FAKE_ABORT_CLEANUP": "1"},
			check: func(t *testing.T, r varsResult) {
				wantErr(t, r, "org.jenkinsci.plugins.workflow.steps.FlowInterruptedException: aborted during cleanup")
			}},
		{Name: "windows refuses double quotes", Step: "withCloudsmith", Args: with(map[string]any{"org": `a"b`}),
			check: func(t *testing.T, r varsResult) { wantErr(t, r, "must not contain a double quote on Windows") }},
		{Name: "jenkinsfile", Jenkinsfile: jenkinsfile, Secrets: map[string]string{"oidc-token-cred": varsSecret},
			check: func(t *testing.T, r varsResult) {
				noErr(t, r)
				if !strings.Contains(r.Console, "jenkinsfile step ran with ") {
					t.Errorf("steps did not run:\n%s", r.Console)
				}
				calls := r.binaryCalls(t)
				if len(calls) != 1 || calls[0][0] != "configure" || calls[0][4] != "acme" {
					t.Errorf("binary runs %q", calls)
				}
				cleanedUp(t, r, configDir(t, r, calls[0]))
			}},
	}
	runScenarios(t, root, varsDir, scenarios)
}

// runScenarios fills each scenario's defaults (fake binary first on PATH,
// a WORKSPACE_TMP and log directory of its own, the OIDC secret), runs
// them all in one JVM and checks each in a subtest, after checking that
// the secret never reached Groovy or the console.
func runScenarios(t *testing.T, root, varsDir string, scenarios []*varsScenario) {
	fakebin, _ := filepath.Abs(filepath.Join("testdata", "fakebin"))
	for _, sc := range scenarios {
		sc.Vars = varsDir
		sc.Tmp = filepath.Join(root, "scenarios", strings.ReplaceAll(sc.Name, " ", "-"))
		sc.Unix = !strings.HasPrefix(sc.Name, "windows")
		env := map[string]string{
			"PATH":                 fakebin + ":/usr/bin:/bin",
			"WORKSPACE_TMP":        filepath.Join(sc.Tmp, "wstmp"),
			"FAKE_CLOUDSMITH_LOG":  filepath.Join(sc.Tmp, "log"),
			"FAKE_DOWNLOAD_SOURCE": filepath.Join(fakebin, "cloudsmith-oidc"),
		}
		for k, v := range sc.Env {
			env[k] = v
		}
		sc.Env = env
		if sc.Secrets == nil {
			sc.Secrets = map[string]string{"oidc": varsSecret}
		}
	}
	input, err := json.Marshal(scenarios)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(root, "scenarios.json")
	if err := os.WriteFile(in, input, 0o644); err != nil {
		t.Fatal(err)
	}
	var results []varsResult
	if err := json.Unmarshal(runGroovy(t, "vars", in), &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != len(scenarios) {
		t.Fatalf("%d results for %d scenarios", len(results), len(scenarios))
	}
	for i, sc := range scenarios {
		res := results[i]
		res.tmp, res.logs = sc.Tmp, filepath.Join(sc.Tmp, "log")
		t.Run(sc.Name, func(t *testing.T) {
			// The secret never passes through Groovy: not in any recorded
			// step argument, environment seen by Groovy, result or console.
			all, _ := json.Marshal([]any{res.Calls, res.BodyEnv, res.EnvAfter, res.Result, res.Error})
			for _, secret := range sc.Secrets {
				if secret == "" {
					continue
				}
				if strings.Contains(string(all), secret) {
					t.Errorf("the OIDC token reached Groovy: %s", all)
				}
				if strings.Contains(res.Console, secret) {
					t.Errorf("the OIDC token is in the console:\n%s", res.Console)
				}
			}
			sc.check(t, res)
		})
	}
}
