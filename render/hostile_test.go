package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// The OIDC token the hostile-value shell runs bind; it must never show in
// the console.
const fakeOIDCToken = "eyJhbGciOiJSUzI1NiJ9.fake-oidc-token.sig"

func hostileBase() *spec.Spec {
	return &spec.Spec{
		Version:    1,
		Jenkins:    spec.Jenkins{URL: "https://jenkins.example.com/", User: "u", Token: spec.NewSecret("JENKINS_API_TOKEN", "jenkins-s3cret")},
		Cloudsmith: spec.Cloudsmith{Org: "acme", Service: "svc"},
		OIDC:       spec.OIDC{Credential: "oidc", Kind: spec.KindString, Audience: "aud", Description: "d"},
		Binary:     spec.Binary{Path: "cloudsmith-oidc"},
		Defaults:   spec.Defaults{Repo: "repo", Formats: []string{"python"}},
		Jobs: []spec.Job{
			{Name: "p", Type: spec.Pipeline, Description: "pd", Label: "lin", Steps: []string{"echo p1", "echo p2"}, Formats: []string{"python", "npm"}},
			{Name: "f", Type: spec.Freestyle, Description: "fd", Label: "lin", Steps: []string{"echo f1"}},
			{Name: "g", Type: spec.Pipeline, SCM: &spec.SCM{URL: "https://git.example.com/x.git", Branch: "main", ScriptPath: "ci/Jenkinsfile", CredentialsID: "gitc"}},
		},
		Seed: &spec.Seed{Name: "seed", SCM: spec.SCM{URL: "https://git.example.com/spec.git", Branch: "main", CredentialsID: "gitc"}, SpecPath: "spec.yaml", Credential: "jenkins-api"},
	}
}

var validSHA = strings.Repeat("0f", 32)

// hostileFields puts a value in each spec field (and option) that reaches
// a template.
var hostileFields = []struct {
	name string
	set  func(s *spec.Spec, o *Options, v string)
	// errOK is in the error for a value the renderer may refuse.
	errOK string
}{
	{"job name", func(s *spec.Spec, o *Options, v string) { s.Jobs[0].Name = "folder/" + v; s.Jobs[1].Name = v + "-f" }, ""},
	{"description", func(s *spec.Spec, o *Options, v string) { s.Jobs[0].Description = v; s.Jobs[1].Description = v }, ""},
	{"label", func(s *spec.Spec, o *Options, v string) { s.Jobs[0].Label = v; s.Jobs[1].Label = v }, ""},
	{"repo", func(s *spec.Spec, o *Options, v string) { s.Jobs[0].Repo = v; s.Jobs[1].Repo = v }, ""},
	{"defaults repo", func(s *spec.Spec, o *Options, v string) { s.Defaults.Repo = v }, ""},
	{"formats", func(s *spec.Spec, o *Options, v string) {
		s.Jobs[0].Formats = []string{v, "go"}
		s.Jobs[1].Formats = []string{v}
	}, ""},
	{"steps", func(s *spec.Spec, o *Options, v string) {
		s.Jobs[0].Steps = []string{v, "echo ok"}
		s.Jobs[1].Steps = []string{v, v}
	}, ""},
	{"scm url", func(s *spec.Spec, o *Options, v string) { s.Jobs[2].SCM.URL = v }, ""},
	{"scm branch", func(s *spec.Spec, o *Options, v string) { s.Jobs[2].SCM.Branch = v }, ""},
	{"scm script path", func(s *spec.Spec, o *Options, v string) { s.Jobs[2].SCM.ScriptPath = v }, ""},
	{"scm credentials", func(s *spec.Spec, o *Options, v string) { s.Jobs[2].SCM.CredentialsID = v }, ""},
	{"org", func(s *spec.Spec, o *Options, v string) { s.Cloudsmith.Org = v }, ""},
	{"service", func(s *spec.Spec, o *Options, v string) { s.Cloudsmith.Service = v }, ""},
	{"api url", func(s *spec.Spec, o *Options, v string) { s.Cloudsmith.APIURL = v }, ""},
	{"download url", func(s *spec.Spec, o *Options, v string) { s.Cloudsmith.DownloadURL = v }, ""},
	{"npm url", func(s *spec.Spec, o *Options, v string) { s.Cloudsmith.NPMURL = v }, ""},
	{"go url", func(s *spec.Spec, o *Options, v string) { s.Cloudsmith.GoURL = v }, ""},
	{"oidc credential", func(s *spec.Spec, o *Options, v string) { s.OIDC.Credential = v }, ""},
	{"oidc file credential", func(s *spec.Spec, o *Options, v string) { s.OIDC.Credential = v; s.OIDC.Kind = spec.KindFile }, ""},
	{"audience", func(s *spec.Spec, o *Options, v string) { s.OIDC.Audience = v }, ""},
	{"oidc description", func(s *spec.Spec, o *Options, v string) { s.OIDC.Description = v }, ""},
	{"issuer", func(s *spec.Spec, o *Options, v string) { s.OIDC.Issuer = v }, ""},
	{"binary path", func(s *spec.Spec, o *Options, v string) { s.Binary.Path = v }, "binary.path"},
	{"binary url", func(s *spec.Spec, o *Options, v string) { s.Binary = spec.Binary{URL: v, SHA256: validSHA} }, ""},
	{"binary sha256", func(s *spec.Spec, o *Options, v string) {
		s.Binary = spec.Binary{URL: "https://dl.example.com/cloudsmith-oidc", SHA256: v}
	}, ""},
	{"binary platforms", func(s *spec.Spec, o *Options, v string) {
		d := spec.Download{URL: v, SHA256: v}
		s.Binary = spec.Binary{Platforms: map[string]spec.Download{"linux/amd64": d, "linux/arm64": d, "darwin/arm64": d, "windows/amd64": d}}
	}, ""},
	{"library name", func(s *spec.Spec, o *Options, v string) { s.Library = &spec.Library{Name: v} }, ""},
	{"library remote", func(s *spec.Spec, o *Options, v string) {
		s.Library = &spec.Library{Remote: v, Version: "v1", CredentialsID: "gitc"}
	}, ""},
	{"library version", func(s *spec.Spec, o *Options, v string) {
		s.Library = &spec.Library{Remote: "https://git.example.com/lib.git", Version: v}
	}, ""},
	{"library credentials", func(s *spec.Spec, o *Options, v string) {
		s.Library = &spec.Library{Remote: "https://git.example.com/lib.git", Version: "v1", CredentialsID: v}
	}, ""},
	{"jenkins user", func(s *spec.Spec, o *Options, v string) { s.Jenkins.User = v }, ""},
	{"jenkins user variable", func(s *spec.Spec, o *Options, v string) { s.Jenkins.UserRef = v }, ""},
	{"seed cloudsmith credential", func(s *spec.Spec, o *Options, v string) {
		s.Cloudsmith.APIKey = spec.NewSecret("CLOUDSMITH_API_KEY", "k")
		s.Seed.CloudsmithCredential = v
	}, ""},
	{"cloudsmith api key variable", func(s *spec.Spec, o *Options, v string) {
		s.Cloudsmith.APIKey = spec.NewSecret(v, "k")
		s.Seed.CloudsmithCredential = "cs-key"
	}, ""},
	{"seed name", func(s *spec.Spec, o *Options, v string) { s.Seed.Name = "ops/" + v }, ""},
	{"seed spec path", func(s *spec.Spec, o *Options, v string) { s.Seed.SpecPath = v }, ""},
	{"seed credential", func(s *spec.Spec, o *Options, v string) { s.Seed.Credential = v }, ""},
	{"seed scm url", func(s *spec.Spec, o *Options, v string) { s.Seed.SCM.URL = v }, ""},
	{"seed scm branch", func(s *spec.Spec, o *Options, v string) { s.Seed.SCM.Branch = v }, ""},
	{"seed scm credentials", func(s *spec.Spec, o *Options, v string) { s.Seed.SCM.CredentialsID = v }, ""},
	{"jenkins token variable", func(s *spec.Spec, o *Options, v string) { s.Jenkins.Token = spec.NewSecret(v, "x") }, ""},
	{"library", func(s *spec.Spec, o *Options, v string) { o.Library = v }, ""},
}

// groovyCase is a rendered Jenkinsfile and the step calls that evaluating
// it must record.
type groovyCase struct {
	name  string
	calls []any
	// eval asks for the evaluation (every file is parsed).
	eval bool
}

// hostileCase is one spec to render: one field set to one value, or every
// field at once.
type hostileCase struct {
	name  string
	spec  *spec.Spec
	opts  Options
	errOK string
	all   bool
}

func hostileCases() []hostileCase {
	var cases []hostileCase
	for i, v := range hostileValues {
		for _, f := range hostileFields {
			s, opts := hostileBase(), Options{}
			f.set(s, &opts, v)
			cases = append(cases, hostileCase{name: fmt.Sprintf("%s/%d", f.name, i), spec: s, opts: opts, errOK: f.errOK})
		}
		// Every field at once (the binary fields overwrite each other; the
		// last, binary sha256, wins).
		s, opts := hostileBase(), Options{}
		for _, f := range hostileFields {
			f.set(s, &opts, v)
		}
		cases = append(cases, hostileCase{name: fmt.Sprintf("all fields/%d", i), spec: s, opts: opts, all: true})
	}
	return cases
}

// TestHostileValues renders every hostile value in every field and checks
// that the XML parses and gives the value back, the JSON too, and the
// freestyle shell step passes it to the binary unchanged (run by bash).
// Then one JVM parses every distinct Jenkinsfile (Groovy 2.4, parse-only)
// and evaluates those with every field hostile at once against a stub of
// the pipeline DSL, whose recorded arguments must equal the spec values.
func TestHostileValues(t *testing.T) {
	bash := needTool(t, "bash")
	var mu sync.Mutex
	jenkinsfiles := map[string]*groovyCase{} // content → case
	commands := map[string]bool{}            // freestyle commands already run
	start := time.Now()
	t.Run("render", func(t *testing.T) {
		for _, c := range hostileCases() {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				r, err := New(c.opts)
				if err != nil {
					t.Fatal(err)
				}
				out, err := r.Render(c.spec)
				if err != nil {
					if c.errOK == "" || !strings.Contains(err.Error(), c.errOK) {
						t.Fatal(err)
					}
					return
				}
				checkOutput(t, c.spec, c.opts, out, func(command string) bool {
					mu.Lock()
					defer mu.Unlock()
					key := c.spec.OIDC.Kind + "\x00" + command
					seen := commands[key]
					commands[key] = true
					return !seen
				}, bash, func(jf []byte, calls []any) {
					mu.Lock()
					defer mu.Unlock()
					if g, ok := jenkinsfiles[string(jf)]; ok {
						if !reflect.DeepEqual(g.calls, calls) {
							t.Errorf("same Jenkinsfile as %s, different expectations", g.name)
						}
						g.eval = g.eval || c.all
						return
					}
					jenkinsfiles[string(jf)] = &groovyCase{name: c.name, calls: calls, eval: c.all}
				})
			})
		}
	})
	t.Logf("render, XML, JSON and shell checks: %v (%d distinct freestyle commands run)", time.Since(start), len(commands))
	if t.Failed() {
		return
	}

	groovyDir := t.TempDir()
	keys := make([]string, 0, len(jenkinsfiles))
	for k := range jenkinsfiles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lines []string
	byPath := map[string]*groovyCase{}
	for i, content := range keys {
		p := filepath.Join(groovyDir, fmt.Sprintf("case%04d.Jenkinsfile", i))
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		g := jenkinsfiles[content]
		byPath[p] = g
		flag := "P"
		if g.eval {
			flag = "E"
		}
		lines = append(lines, flag+"\t"+p)
	}
	// The vars/ steps are parsed in the same JVM, and a broken file shows
	// the check does catch errors.
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	vars, err := r.Vars()
	if err != nil {
		t.Fatal(err)
	}
	var varsFiles []string
	for n, b := range vars {
		if strings.HasSuffix(n, ".groovy") {
			p := filepath.Join(groovyDir, n)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			varsFiles = append(varsFiles, p)
			lines = append(lines, "P\t"+p)
		}
	}
	broken := filepath.Join(groovyDir, "broken.Jenkinsfile")
	if err := os.WriteFile(broken, []byte("node {\n    sh 'unterminated\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lines = append(lines, "P\t"+broken)

	start = time.Now()
	var results map[string]struct {
		ParseError *string
		EvalError  *string
		Calls      [][2]string
	}
	if err := json.Unmarshal(runGroovy(t, "jenkinsfiles", writeList(t, lines)), &results); err != nil {
		t.Fatal(err)
	}
	t.Logf("groovy: %d distinct Jenkinsfiles parsed, some evaluated, in %v", len(keys), time.Since(start))
	if results[broken].ParseError == nil {
		t.Errorf("the parse check accepted a broken file")
	}
	for _, p := range varsFiles {
		if e := results[p].ParseError; e != nil {
			t.Errorf("vars/%s does not compile: %s", filepath.Base(p), *e)
		}
	}
	evaluated := 0
	for p, g := range byPath {
		got := results[p]
		if got.ParseError != nil {
			t.Errorf("%s (%s) does not compile: %s", g.name, p, *got.ParseError)
			continue
		}
		if !g.eval {
			continue
		}
		evaluated++
		if got.EvalError != nil {
			t.Errorf("%s: evaluating %s: %s", g.name, p, *got.EvalError)
			continue
		}
		calls := make([]any, len(got.Calls))
		for i, call := range got.Calls {
			var args any
			if err := json.Unmarshal([]byte(call[1]), &args); err != nil {
				t.Fatal(err)
			}
			calls[i] = []any{call[0], args}
		}
		if !reflect.DeepEqual(calls, g.calls) {
			gj, _ := json.Marshal(calls)
			wj, _ := json.Marshal(g.calls)
			t.Errorf("%s: %s evaluated to\n%.3000s\nwant\n%.3000s", g.name, p, gj, wj)
		}
	}
	if evaluated < len(hostileValues) {
		t.Errorf("only %d Jenkinsfiles evaluated", evaluated)
	}
}

// checkOutput checks one rendered spec; firstRun says whether a freestyle
// command has not been run yet; addGroovy queues a Jenkinsfile
// with its expected calls for the batched JVM run.
func checkOutput(t *testing.T, s *spec.Spec, opts Options, out *Output, firstRun func(string) bool, bash string, addGroovy func([]byte, []any)) {
	for _, f := range out.Folders {
		if got := parseXML(t, f.ConfigXML).textAt(t, "description"); got != Marker(s.Identity()) {
			t.Errorf("folder %q description %q", f.Path, got)
		}
	}
	jobs := append([]spec.Job(nil), s.Jobs...)
	for i, j := range out.Jobs {
		x := parseXML(t, j.ConfigXML)
		if i == len(jobs) { // the seed
			if j.Name != s.Seed.Name {
				t.Fatalf("seed name %q", j.Name)
			}
			addGroovy(j.Jenkinsfile, seedCalls(s))
			if got := x.textAt(t, "definition/script"); got != string(j.Jenkinsfile) {
				t.Errorf("seed script does not decode to its Jenkinsfile")
			}
			continue
		}
		sj := jobs[i]
		if j.Name != sj.Name {
			t.Errorf("job name %q, want %q", j.Name, sj.Name)
		}
		wantDesc := Marker(s.Identity())
		if sj.Description != "" {
			wantDesc = sj.Description + "\n" + wantDesc
		}
		if got := x.textAt(t, "description"); got != wantDesc {
			t.Errorf("%s: description %.80q, want %.80q", sj.Name, got, wantDesc)
		}
		switch sj.Type {
		case spec.Freestyle:
			if got := x.textAt(t, "assignedNode"); got != sj.Label {
				t.Errorf("assignedNode %.80q, want %.80q", got, sj.Label)
			}
			kind := "StringBinding"
			if s.OIDC.Kind == spec.KindFile {
				kind = "FileBinding"
			}
			if got := x.textAt(t, bindingPrefix+kind+"/credentialsId"); got != s.OIDC.Credential {
				t.Errorf("credentialsId %.80q", got)
			}
			if cmd := x.textAt(t, "builders/hudson.tasks.Shell/command"); firstRun(cmd) {
				runFreestyle(t, bash, s, sj, cmd)
			}
		case spec.Pipeline:
			d := x.one(t, "definition")
			if sj.SCM != nil {
				scm := scmOf(*sj.SCM)
				want := map[string]string{
					"scm/userRemoteConfigs/hudson.plugins.git.UserRemoteConfig/url":           scm.URL,
					"scm/userRemoteConfigs/hudson.plugins.git.UserRemoteConfig/credentialsId": scm.CredentialsID,
					"scm/branches/hudson.plugins.git.BranchSpec/name":                         scm.Branch,
					"scriptPath": scm.ScriptPath,
				}
				for p, v := range want {
					if got := d.textAt(t, p); got != v {
						t.Errorf("%s = %.80q, want %.80q", p, got, v)
					}
				}
			} else if got := d.textAt(t, "script"); got != string(j.Jenkinsfile) {
				t.Errorf("%s: script does not decode to its Jenkinsfile", sj.Name)
			}
			addGroovy(j.Jenkinsfile, pipelineCalls(s, opts, sj))
		}
	}

	var form struct {
		Credentials map[string]string `json:"credentials"`
	}
	if err := json.Unmarshal(out.Credential.FormJSON, &form); err != nil {
		t.Fatalf("credential JSON: %v", err)
	}
	c := form.Credentials
	credDesc, _ := withMarker(s.OIDC.Description, s.Identity())
	if c["id"] != s.OIDC.Credential || c["description"] != credDesc || c["audience"] != s.OIDC.Audience || c["issuer"] != s.OIDC.Issuer {
		t.Errorf("credential JSON does not give the values back: %.300v", c)
	}
	x := parseXML(t, out.Credential.XML)
	if x.textAt(t, "id") != s.OIDC.Credential || x.textAt(t, "description") != credDesc || x.textAt(t, "audience") != s.OIDC.Audience {
		t.Errorf("credential XML does not give the values back")
	}
}

func pipelineCalls(s *spec.Spec, opts Options, j spec.Job) []any {
	var label any
	if j.Label != "" {
		label = j.Label
	}
	var calls []any
	if l := s.Library; l != nil && l.Remote != "" {
		id := LibraryName
		if opts.Library != "" {
			id = opts.Library
		} else if l.Name != "" {
			id = l.Name
		}
		retriever := map[string]any{"$class": "GitSCMSource", "remote": l.Remote}
		if l.CredentialsID != "" {
			retriever["credentialsId"] = l.CredentialsID
		}
		calls = append(calls, []any{"library", map[string]any{"identifier": id + "@" + l.Version, "retriever": retriever}})
	}
	calls = append(calls, []any{"node", label})
	if j.SCM != nil {
		calls = append(calls, []any{"checkout", map[string]any{"$class": "stub-scm"}})
	}
	repo, formats := j.Repo, j.Formats
	if repo == "" {
		repo = s.Defaults.Repo
	}
	if len(formats) == 0 {
		formats = s.Defaults.Formats
	}
	f := make([]any, len(formats))
	for i, v := range formats {
		f[i] = v
	}
	args := map[string]any{"org": s.Cloudsmith.Org, "service": s.Cloudsmith.Service, "credentialsId": s.OIDC.Credential,
		"kind": kindOf(s), "repo": repo, "formats": f}
	for k, v := range map[string]string{"apiUrl": s.Cloudsmith.APIURL, "downloadUrl": s.Cloudsmith.DownloadURL,
		"npmUrl": s.Cloudsmith.NPMURL, "goUrl": s.Cloudsmith.GoURL} {
		if v != "" {
			args[k] = v
		}
	}
	if b, _ := binaryOf(s); len(b.Platforms) > 0 {
		m := map[string]any{}
		for p, d := range b.Platforms {
			m[p] = map[string]any{"url": d.URL, "sha256": strings.ToLower(d.SHA256)}
		}
		args["binaries"] = m
	} else if b.URL != "" {
		args["binaryUrl"], args["binarySha256"] = b.URL, b.SHA256
	} else {
		args["binary"] = b.Path
	}
	calls = append(calls, []any{"withCloudsmith", args})
	for _, st := range j.Steps {
		calls = append(calls, []any{"sh", map[string]any{"script": st}})
	}
	return calls
}

func seedCalls(s *spec.Spec) []any {
	scm := scmOf(s.Seed.SCM)
	remote := map[string]any{"url": scm.URL}
	if scm.CredentialsID != "" {
		remote["credentialsId"] = scm.CredentialsID
	}
	tokenEnv := s.Jenkins.Token.Ref
	if tokenEnv == "" {
		tokenEnv = "JENKINS_API_TOKEN"
	}
	userEnv, env := s.Jenkins.UserRef, []any{"JENKINS_CLOUDSMITH_SPEC=" + s.Seed.SpecPath}
	if userEnv == "" {
		userEnv = "JENKINS_CLOUDSMITH_USER"
		if s.Jenkins.User != "" {
			env = append(env, "JENKINS_CLOUDSMITH_SPEC_USER="+s.Jenkins.User)
		}
	}
	bindings := []any{map[string]any{"type": "usernamePassword", "credentialsId": s.Seed.Credential,
		"usernameVariable": userEnv, "passwordVariable": tokenEnv}}
	if s.Cloudsmith.APIKey.IsSet() {
		bindings = append(bindings, map[string]any{"type": "string", "credentialsId": s.Seed.CloudsmithCredential,
			"variable": s.Cloudsmith.APIKey.Ref})
	}
	return []any{
		[]any{"node", nil},
		[]any{"checkout", map[string]any{"$class": "GitSCM", "branches": []any{map[string]any{"name": scm.Branch}},
			"userRemoteConfigs": []any{remote}}},
		[]any{"withCredentials", bindings},
		[]any{"withEnv", env},
		[]any{"sh", map[string]any{"script": seedScript}},
	}
}

// seedScript is the seed job's one shell step (a constant: every value
// reaches it through withEnv).
const seedScript = `set +x
if [ -n "${JENKINS_CLOUDSMITH_SPEC_USER:-}" ] && [ "$JENKINS_CLOUDSMITH_USER" != "$JENKINS_CLOUDSMITH_SPEC_USER" ]; then
    echo "jenkins-cloudsmith seed: the seed credential belongs to user $JENKINS_CLOUDSMITH_USER but the spec's jenkins.user is $JENKINS_CLOUDSMITH_SPEC_USER; make jenkins.user a reference to the variable the seed binds (user: followed by a dollar-brace JENKINS_USER reference) or fix either" >&2
    exit 1
fi
jenkins-cloudsmith apply -f "$JENKINS_CLOUDSMITH_SPEC"
`

// runFreestyle runs a freestyle job's shell step the way Jenkins does,
// sh -xe with dash (Debian's /bin/sh), with fake cloudsmith-oidc, curl and
// sha256sum on PATH, and checks what each received. A hostile binary.path
// (a command that is not found) runs under bash instead, whose
// command_not_found_handle records it; dash -n still parses that script.
func runFreestyle(t *testing.T, bash string, s *spec.Spec, j spec.Job, command string) {
	t.Helper()
	dir := t.TempDir()
	logDir := filepath.Join(dir, "log")
	script := filepath.Join(dir, "script.sh")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(command), 0o644); err != nil {
		t.Fatal(err)
	}
	fakebin, _ := filepath.Abs(filepath.Join("testdata", "fakebin"))
	fakesha, _ := filepath.Abs(filepath.Join("testdata", "fakesha"))
	env := []string{
		"PATH=" + fakesha + ":" + fakebin + ":/usr/bin:/bin",
		"BASH_ENV=" + filepath.Join(fakesha, "bash_env"),
		"WORKSPACE_TMP=" + dir,
		"FAKE_CLOUDSMITH_LOG=" + logDir,
		"FAKE_NO_EXEC=1",
		"FAKE_DOWNLOAD_SOURCE=" + filepath.Join(fakebin, "cloudsmith-oidc"),
	}
	if s.OIDC.Kind == spec.KindFile {
		tok := filepath.Join(dir, "id_token")
		os.WriteFile(tok, []byte(fakeOIDCToken), 0o400)
		env = append(env, "OIDC_TOKEN_FILE="+tok)
	} else {
		env = append(env, "OIDC_TOKEN="+fakeOIDCToken)
	}
	bin, _ := binaryOf(s)
	wantURL, wantSHA := bin.URL, bin.SHA256
	if d, ok := bin.Platforms["linux/"+runtime.GOARCH]; ok {
		wantURL, wantSHA = d.URL, strings.ToLower(d.SHA256)
	}
	env = append(env, "FAKE_SHA256="+wantSHA)
	dash := needTool(t, "dash")
	if out, err := exec.Command(dash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("dash -n: the shell step is not POSIX sh: %v\n%s", err, out)
	}
	shell := dash
	if bin.Path != "" && bin.Path != spec.DefaultBinaryPath {
		shell = bash
	}
	cmd := exec.Command(shell, "-xe", script)
	cmd.Env = env
	outb, err := cmd.CombinedOutput()
	if wantURL != "" && strings.Contains(wantSHA, " ") {
		// No download has a SHA-256 with a space in it: the script must
		// refuse to run what it fetched.
		if err == nil || !strings.Contains(string(outb), "refusing to run it") {
			t.Fatalf("sha256 %.80q accepted (%v):\n%.3000s", wantSHA, err, outb)
		}
		return
	}
	if err != nil {
		t.Fatalf("shell step failed: %v\n%.3000s", err, outb)
	}
	if strings.Contains(string(outb), fakeOIDCToken) {
		t.Errorf("the OIDC token shows in the console:\n%.3000s", outb)
	}

	formats, repo := j.Formats, j.Repo
	if len(formats) == 0 {
		formats = s.Defaults.Formats
	}
	if repo == "" {
		repo = s.Defaults.Repo
	}
	steps := strings.Join(j.Steps, "\n")
	if steps == "" {
		steps = "true"
	}
	want := []string{"exec", "--org", s.Cloudsmith.Org, "--service", s.Cloudsmith.Service, "--repo", repo,
		"--format", strings.Join(formats, ","), "--", "/bin/sh", "-e", "-c", steps}

	calls, _ := filepath.Glob(filepath.Join(logDir, "call.*"))
	notFound, _ := filepath.Glob(filepath.Join(logDir, "notfound.*"))
	switch {
	case len(calls) == 1 && len(notFound) == 0:
		if got := readArgv(t, filepath.Join(calls[0], "argv")); !reflect.DeepEqual(got, want) {
			t.Errorf("binary argv\n%.500q\nwant\n%.500q", got, want)
		}
		envb, _ := os.ReadFile(filepath.Join(calls[0], "env"))
		benv := map[string]string{}
		for _, kv := range strings.Split(string(envb), "\x00") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				benv[k] = v
			}
		}
		if tok, _ := os.ReadFile(filepath.Join(calls[0], "token")); string(tok) != fakeOIDCToken {
			t.Errorf("binary did not get the OIDC token")
		}
		if s.OIDC.Kind == spec.KindFile {
			// The file credential stays a file: its content is never put in
			// a variable, where tracing or an env dump would print it.
			if _, ok := benv["OIDC_TOKEN"]; ok {
				t.Errorf("the file credential's token was copied into OIDC_TOKEN")
			}
			if benv["OIDC_TOKEN_FILE"] == "" {
				t.Errorf("binary did not get OIDC_TOKEN_FILE")
			}
		}
		for k, v := range map[string]string{"CLOUDSMITH_API_URL": s.Cloudsmith.APIURL, "CLOUDSMITH_DOWNLOAD_URL": s.Cloudsmith.DownloadURL,
			"CLOUDSMITH_NPM_URL": s.Cloudsmith.NPMURL, "CLOUDSMITH_GO_URL": s.Cloudsmith.GoURL} {
			if benv[k] != v {
				t.Errorf("binary env %s = %.80q, want %.80q", k, benv[k], v)
			}
		}
	case len(calls) == 0 && len(notFound) == 1:
		if got := readArgv(t, filepath.Join(notFound[0], "argv")); !reflect.DeepEqual(got, append([]string{s.Binary.Path}, want...)) {
			t.Errorf("command run\n%.500q\nwant %.80q %.500q", got, s.Binary.Path, want)
		}
	default:
		t.Fatalf("%d binary calls, %d unknown commands; console:\n%.3000s", len(calls), len(notFound), outb)
	}

	if wantURL != "" {
		curls, _ := filepath.Glob(filepath.Join(logDir, "curl.*"))
		shas, _ := filepath.Glob(filepath.Join(logDir, "sha.*"))
		if len(curls) != 1 || len(shas) != 1 {
			t.Fatalf("%d curl and %d sha256sum calls", len(curls), len(shas))
		}
		argv := readArgv(t, filepath.Join(curls[0], "argv"))
		if argv[len(argv)-1] != wantURL {
			t.Errorf("curl URL %.80q, want %.80q", argv[len(argv)-1], wantURL)
		}
	}
}

// sha256Hex is the SHA-256 of a file, as binary.sha256 holds it.
func sha256Hex(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
