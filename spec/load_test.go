package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// base is a valid spec; cases edit it line by line. Line numbers:
//
//	1 version  2 jenkins  3 url  4 user  5 token  6 cloudsmith  7 org
//	8 service  9 oidc  10 credential  11 audience  12 jobs  13 - name
//	14 type  15 repo  16 formats  17 steps
const base = `version: 1
jenkins:
  url: https://jenkins.example.com/
  user: automation
  token: ${JENKINS_API_TOKEN}
cloudsmith:
  org: acme
  service: jenkins-ci
oidc:
  credential: oidc-token-cred
  audience: jenkins
jobs:
  - name: build-wheel
    type: freestyle
    repo: python-internal
    formats: [python]
    steps: ["pip install -r requirements.txt"]
`

var testEnv = map[string]string{"JENKINS_API_TOKEN": "jenkins-secret-value", "CLOUDSMITH_API_KEY": "cs-secret-value"}

func getenv(k string) string { return testEnv[k] }

// edit replaces old with new in base (each pair once) and fails loudly when
// old is not there, so a changed base cannot silently make a case vacuous.
func edit(t testing.TB, pairs ...string) string {
	t.Helper()
	s := base
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("edit: %q not in base", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func asErrors(t *testing.T, err error) Errors {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want spec.Errors: %v", err, err)
	}
	for _, e := range es {
		if e.Pos.Line < 1 || e.Pos.Column < 1 || e.Pos.File != "spec.yaml" {
			t.Errorf("error without a position: %v", e)
		}
		if e.Hint == "" {
			t.Errorf("error without a fix: %v", e)
		}
		if !strings.HasPrefix(e.Error(), fmt.Sprintf("spec.yaml:%d:%d: ", e.Pos.Line, e.Pos.Column)) {
			t.Errorf("rendering %q does not start with file:line:col", e.Error())
		}
	}
	return es
}

func TestExamplesLoad(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) < 3 {
		t.Fatalf("want the example specs in testdata, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f, getenv)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Jobs) == 0 || s.File != f {
				t.Errorf("jobs=%d file=%q", len(s.Jobs), s.File)
			}
			for _, j := range s.Jobs {
				if j.Repo == "" || len(j.Formats) == 0 || j.Pos.Line == 0 || j.Pos.File != f {
					t.Errorf("job %q not defaulted or positioned: %+v", j.Name, j)
				}
			}
		})
	}
}

func TestDefaultsApplied(t *testing.T) {
	src := edit(t, "jobs:", "defaults: {repo: dflt, formats: [npm, go]}\njobs:",
		"    repo: python-internal\n    formats: [python]\n", "")
	s, err := Parse("spec.yaml", []byte(src), getenv)
	if err != nil {
		t.Fatal(err)
	}
	j := s.Jobs[0]
	if j.Repo != "dflt" || !reflect.DeepEqual(j.Formats, []string{"npm", "go"}) {
		t.Errorf("job defaults not applied: %+v", j)
	}
	if s.OIDC.Kind != KindString || s.Binary.Path != DefaultBinaryPath {
		t.Errorf("kind=%q binary=%+v", s.OIDC.Kind, s.Binary)
	}
	if s.Jenkins.Token.Value() != "jenkins-secret-value" || s.Jenkins.Token.Ref != "JENKINS_API_TOKEN" {
		t.Errorf("token not resolved: %#v", s.Jenkins.Token)
	}
	// Defaults are copied, not shared: editing one job must not edit another.
	j.Formats[0] = "raw"
	if s.Defaults.Formats[0] != "npm" {
		t.Error("job formats alias defaults.formats")
	}
}

// TestAcceptedValues: hostile-looking text is legal where Jenkins and
// Cloudsmith accept it, and reaches the renderer byte for byte.
func TestAcceptedValues(t *testing.T) {
	huge := strings.Repeat("x'\"${y}]]>", 100_000) // ~1 MB step
	cases := []struct {
		name, yaml string
		got        func(*Spec) string
		want       string
	}{
		{"triple quotes", edit(t, `steps: ["pip install -r requirements.txt"]`, `steps: ["echo '''a''' \"\"\"b\"\"\""]`),
			func(s *Spec) string { return s.Jobs[0].Steps[0] }, `echo '''a''' """b"""`},
		{"dollar brace in step", edit(t, `steps: ["pip install -r requirements.txt"]`, `steps: ['echo ${HOME} $((1+2)) ${']`),
			func(s *Spec) string { return s.Jobs[0].Steps[0] }, `echo ${HOME} $((1+2)) ${`},
		{"cdata end and markup", edit(t, "    type: freestyle\n", "    type: freestyle\n    description: \"]]> <x a='1'>&amp;</x> <!-- -->\"\n"),
			func(s *Spec) string { return s.Jobs[0].Description }, `]]> <x a='1'>&amp;</x> <!-- -->`},
		{"groovy escapes", edit(t, `steps: ["pip install -r requirements.txt"]`, `steps: ['a\b\\c \u0041 $x "q" ''s''']`),
			func(s *Spec) string { return s.Jobs[0].Steps[0] }, `a\b\\c \u0041 $x "q" 's'`},
		{"multiline step", edit(t, `steps: ["pip install -r requirements.txt"]`, "steps:\n      - |\n        set -e\n        \tindented\n"),
			func(s *Spec) string { return s.Jobs[0].Steps[0] }, "set -e\n\tindented\n"},
		{"unicode job name", edit(t, "name: build-wheel", `name: "Ünïcødé/日本語 (v2) + it's =,"`),
			func(s *Spec) string { return s.Jobs[0].Name }, "Ünïcødé/日本語 (v2) + it's =,"},
		{"emoji and rtl in description", edit(t, "    type: freestyle\n", "    type: freestyle\n    description: \"🚀 \u202eevil\u202c שלום\"\n"),
			func(s *Spec) string { return s.Jobs[0].Description }, "🚀 \u202eevil\u202c שלום"},
		{"huge step", edit(t, `steps: ["pip install -r requirements.txt"]`, "steps: ['"+strings.ReplaceAll(huge, "'", "''")+"']"),
			func(s *Spec) string { return s.Jobs[0].Steps[0] }, huge},
		{"numeric user taken verbatim", edit(t, "user: automation", "user: 00123"),
			func(s *Spec) string { return s.Jenkins.User }, "00123"},
		{"hash and colon quoted", edit(t, "audience: jenkins", `audience: "a: b #c"`),
			func(s *Spec) string { return s.OIDC.Audience }, "a: b #c"},
		{"utf8 bom", "\xEF\xBB\xBF" + base, func(s *Spec) string { return s.Jenkins.User }, "automation"},
		{"crlf line ends", strings.ReplaceAll(base, "\n", "\r\n"), func(s *Spec) string { return s.Jobs[0].Steps[0] }, "pip install -r requirements.txt"},
		{"http loopback v4", edit(t, "https://jenkins.example.com/", "http://127.0.0.1:8080"),
			func(s *Spec) string { return s.IssuerURL() }, "http://127.0.0.1:8080/oidc"},
		{"http loopback v6", edit(t, "https://jenkins.example.com/", "http://[::1]:8080/"),
			func(s *Spec) string { return s.Jenkins.RootURL() }, "http://[::1]:8080/"},
		{"http localhost issuer", edit(t, "audience: jenkins", "audience: jenkins\n  issuer: http://localhost:9000/issuer"),
			func(s *Spec) string { return s.IssuerURL() }, "http://localhost:9000/issuer"},
		{"label expression", edit(t, "    type: freestyle\n", "    type: freestyle\n    label: \"linux && !windows || (a:b)\"\n"),
			func(s *Spec) string { return s.Jobs[0].Label }, "linux && !windows || (a:b)"},
		{"claims with wildcard", edit(t, "  service: jenkins-ci", "  service: jenkins-ci\n  provider: {claims: {sub: \"https://j/job/.*\", aud: jenkins}}"),
			func(s *Spec) string { return s.Cloudsmith.Provider.Claims["sub"] }, "https://j/job/.*"},
		{"audience with quotes and cdata end", edit(t, "audience: jenkins", `audience: "a'''\"]]><&"`),
			func(s *Spec) string { return s.OIDC.Audience }, `a'''"]]><&`},
		{"credential description free text", edit(t, "audience: jenkins", "audience: jenkins\n  description: \"${NOT_EXPANDED} ''' ]]>\""),
			func(s *Spec) string { return s.OIDC.Description }, "${NOT_EXPANDED} ''' ]]>"},
		{"provider name free text", edit(t, "  service: jenkins-ci", "  service: jenkins-ci\n  provider: {name: \"Jenkins ${prod} <x>\"}"),
			func(s *Spec) string { return s.Cloudsmith.Provider.Name }, "Jenkins ${prod} <x>"},
		{"null optional", edit(t, "  audience: jenkins", "  audience: jenkins\n  issuer:\n  folder: ~"),
			func(s *Spec) string { return s.IssuerURL() }, "https://jenkins.example.com/oidc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("spec.yaml", []byte(tc.yaml), getenv)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.got(s); got != tc.want {
				if len(got) > 200 {
					got = got[:200] + "..."
				}
				t.Errorf("got %q", got)
			}
		})
	}
}

type wantErr struct {
	line, col int
	msg       string // substring of Msg
}

func TestRejected(t *testing.T) {
	step := `steps: ["pip install -r requirements.txt"]`
	cases := []struct {
		name string
		yaml string
		env  map[string]string
		want []wantErr
	}{
		// Whole-file problems.
		{"empty file", "", nil, []wantErr{{1, 1, "file is empty"}}},
		{"whitespace only", " \n\n  \n", nil, []wantErr{{1, 1, "file is empty"}}},
		{"comments only", "# nothing\n", nil, []wantErr{{1, 1, "no content"}}},
		{"list at top", "- version: 1\n- jobs: []\n", nil, []wantErr{{1, 1, "expected a mapping of keys at the top level, got a list"}}},
		{"scalar at top", "hello\n", nil, []wantErr{{1, 1, "got text"}}},
		{"two documents", base + "---\nversion: 1\n", nil, []wantErr{{18, 1, "more than one YAML document"}}},
		{"tab indentation", strings.Replace(base, "  url:", "\turl:", 1), nil, []wantErr{{3, 1, "tab character"}}},
		{"syntax error", edit(t, "user: automation", `user: "automation`), nil, []wantErr{{0, 0, "YAML syntax error"}}},
		// yaml.v3 reports these a line early; the prefix scan finds line 2.
		{"unquoted ${} in flow mapping", "version: 1\njenkins: {url: \"https://j/\", token: ${JENKINS_API_TOKEN}}\n", nil, []wantErr{{2, 1, "YAML syntax error"}}},
		{"unclosed flow sequence", "version: 1\njenkins: [1,2\n", nil, []wantErr{{2, 1, "YAML syntax error"}}},
		{"invalid utf8", edit(t, "user: automation", "user: auto\xffmation"), nil, []wantErr{{4, 13, "invalid UTF-8"}}},
		{"utf16", "\xFF\xFEv\x00", nil, []wantErr{{1, 1, "UTF-16"}}},
		{"raw control char", edit(t, "user: automation", "user: auto\x01mation"), nil, []wantErr{{4, 13, "control character U+0001"}}},
		{"spec id with a space", "id: team a\n" + base, nil, []wantErr{{1, 5, `id "team a" is not a valid spec id`}}},
		{"spec id ending the marker", "id: a-->x\n" + base, nil, []wantErr{{1, 5, "is not a valid spec id"}}},
		{"too big", base + "# " + strings.Repeat("x", MaxFileSize), nil, []wantErr{{1, 1, "larger than"}}},

		// Structure.
		{"unknown key suggests", edit(t, "  audience: jenkins", "  audiance: jenkins"), nil,
			[]wantErr{{9, 1, `missing required key "audience" in oidc`}, {11, 3, `unknown key "audiance" in oidc`}}},
		{"unknown top key", edit(t, "jobs:", "job:"), nil, []wantErr{{1, 1, `missing required key "jobs"`}, {12, 1, `unknown key "job"`}}},
		{"wrong case key", edit(t, "  url:", "  URL:"), nil, []wantErr{{2, 1, `missing required key "url"`}, {3, 3, `unknown key "URL"`}}},
		{"duplicate key", edit(t, "  user: automation", "  user: automation\n  user: other"), nil, []wantErr{{5, 3, `duplicate key "user" (first defined at line 4, column 3)`}}},
		{"missing version", edit(t, "version: 1\n", ""), nil, []wantErr{{1, 1, `missing required key "version" at the top level`}}},
		{"version 2", edit(t, "version: 1", "version: 2"), nil, []wantErr{{1, 10, "unsupported spec version 2"}}},
		{"version string", edit(t, "version: 1", `version: "1"`), nil, []wantErr{{1, 10, "expected an integer, got text"}}},
		{"section is a list", edit(t, "cloudsmith:\n  org: acme\n  service: jenkins-ci\n", "cloudsmith: [acme]\n"), nil, []wantErr{{6, 13, "expected a mapping of keys, got a list"}}},
		{"jobs is a mapping", base[:strings.Index(base, "jobs:")] + "jobs: {a: 1}\n", nil, []wantErr{{12, 7, "expected a list, got a mapping"}}},
		{"boolean for text", edit(t, "user: automation", "user: true"), nil, []wantErr{{4, 9, "expected text, got the boolean true"}}},
		{"null required", edit(t, "user: automation", "user:"), nil, []wantErr{{4, 3, "jenkins.user is required but empty"}}},
		{"empty required", edit(t, "user: automation", `user: ""`), nil, []wantErr{{4, 9, "jenkins.user must not be empty"}}},
		{"steps not a list", edit(t, step, `steps: "make"`), nil, []wantErr{{17, 12, "expected a list, got text"}}},
		{"empty list item", edit(t, step, "steps:\n      -\n      - make"), nil, []wantErr{{18, 8, "empty list item"}}},
		{"empty step", edit(t, step, `steps: ["  "]`), nil, []wantErr{{17, 13, "step is empty"}}},
		{"alias", edit(t, "  org: acme", "  org: &o acme", "    repo: python-internal", "    repo: *o"), nil, []wantErr{{15, 11, "aliases (*o) are not supported"}}},
		{"merge key", edit(t, "  - name: build-wheel", "  - <<: {repo: x}\n    name: build-wheel"), nil, []wantErr{{13, 5, "merge keys (<<) are not supported"}}},
		{"billion laughs", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n" + base, nil,
			[]wantErr{{1, 1, `unknown key "a"`}, {2, 1, `unknown key "b"`}, {3, 1, `unknown key "c"`}, {4, 1, `unknown key "d"`}}},
		{"custom tag", edit(t, "user: automation", "user: !env USER"), nil, []wantErr{{4, 9, "YAML tag !env is not supported"}}},
		{"complex key", edit(t, "  user: automation", "  user: automation\n  ? [a]\n  : b"), nil, []wantErr{{5, 5, "a key must be a name, got a list"}}},
		{"control char escape", edit(t, "name: build-wheel", `name: "build\u0007wheel"`), nil, []wantErr{{13, 11, "control character U+0007"}}},
		{"newline in name", edit(t, "name: build-wheel", `name: "build\nwheel"`), nil, []wantErr{{13, 11, "control character U+000A"}}},
		{"c1 control", edit(t, "audience: jenkins", `audience: "a\u0085b"`), nil, []wantErr{{11, 13, "control character U+0085"}}},
		{"xml non-character", edit(t, step, `steps: ["a\uFFFEb"]`), nil, []wantErr{{17, 13, "non-character U+FFFE"}}},

		// Secrets.
		{"literal token", edit(t, "${JENKINS_API_TOKEN}", "11f0e4cafe"), nil, []wantErr{{5, 10, "jenkins.token holds a literal secret"}}},
		{"unset var", base, map[string]string{}, []wantErr{{5, 10, "environment variable JENKINS_API_TOKEN (used by jenkins.token) is not set"}}},
		{"bare var", edit(t, "${JENKINS_API_TOKEN}", "$JENKINS_API_TOKEN"), nil, []wantErr{{5, 10, "must use the ${VAR} form"}}},
		{"embedded var", edit(t, "${JENKINS_API_TOKEN}", `"Bearer ${JENKINS_API_TOKEN}"`), nil, []wantErr{{5, 10, "must be a single ${VAR} reference"}}},
		{"bad var name", edit(t, "${JENKINS_API_TOKEN}", `"${1TOKEN}"`), nil, []wantErr{{5, 10, "single ${VAR}"}}},
		{"secret with newline", base, map[string]string{"JENKINS_API_TOKEN": "tok\n"}, []wantErr{{5, 10, "contains a newline"}}},
		{"literal api key", edit(t, "  service: jenkins-ci", "  service: jenkins-ci\n  api_key: abcdef"), nil, []wantErr{{9, 12, "cloudsmith.api_key holds a literal secret"}}},
		{"var in non-secret", edit(t, "https://jenkins.example.com/", "${JENKINS_URL}"), nil, []wantErr{{3, 8, "${...} is not expanded in jenkins.url"}}},

		// URLs.
		{"http remote", edit(t, "https://jenkins.example.com/", "http://jenkins.example.com/"), nil, []wantErr{{3, 8, "plain http for a remote host"}}},
		{"not absolute", edit(t, "https://jenkins.example.com/", "jenkins.example.com"), nil, []wantErr{{3, 8, "not an absolute URL"}}},
		{"ftp", edit(t, "https://jenkins.example.com/", "ftp://jenkins.example.com/"), nil, []wantErr{{3, 8, `scheme "ftp"`}}},
		{"url credentials", edit(t, "https://jenkins.example.com/", "https://admin:pw@jenkins.example.com/"), nil, []wantErr{{3, 8, "contains credentials"}}},
		{"url query", edit(t, "https://jenkins.example.com/", "https://jenkins.example.com/?a=b"), nil, []wantErr{{3, 8, "query string"}}},
		{"issuer is jenkins' own", edit(t, "audience: jenkins", "audience: jenkins\n  issuer: https://jenkins.example.com/oidc"), nil, []wantErr{{12, 11, "oidc.issuer https://jenkins.example.com/oidc is Jenkins' own issuer"}}},
		{"issuer is a folder's", edit(t, "audience: jenkins", "audience: jenkins\n  issuer: https://JENKINS.example.com:443/oidc/job/team%20a/job/b"), nil, []wantErr{{12, 11, "is Jenkins' own issuer"}}},
		{"issuer trailing slash", edit(t, "audience: jenkins", "audience: jenkins\n  issuer: https://oidc.example.com/"), nil, []wantErr{{12, 11, "oidc.issuer ends with '/'"}}},
		{"issuer query", edit(t, "audience: jenkins", "audience: jenkins\n  issuer: https://oidc.example.com?x=1"), nil, []wantErr{{12, 11, "query string"}}},
		{"issuer fragment", edit(t, "audience: jenkins", "audience: jenkins\n  issuer: https://oidc.example.com#x"), nil, []wantErr{{12, 11, "fragment"}}},
		{"issuer http remote", edit(t, "audience: jenkins", "audience: jenkins\n  issuer: http://oidc.example.com"), nil, []wantErr{{12, 11, "plain http"}}},
		{"cloudsmith url", edit(t, "  service: jenkins-ci", "  service: jenkins-ci\n  api_url: http://api.example.com"), nil, []wantErr{{9, 12, "cloudsmith.api_url uses plain http"}}},
		{"proxy credentials", edit(t, "  user: automation", "  user: automation\n  proxy: http://u:p@proxy:3128"), nil, []wantErr{{5, 10, "jenkins.proxy contains credentials"}}},
		{"cloudsmith proxy scheme", edit(t, "  service: jenkins-ci", "  service: jenkins-ci\n  proxy: ftp://proxy:21"), nil, []wantErr{{9, 10, `cloudsmith.proxy has scheme "ftp"`}}},

		// Jenkins and Cloudsmith rules.
		{"user with colon", edit(t, "user: automation", "user: a:b"), nil, []wantErr{{4, 9, "contains ':'"}}},
		{"credential id", edit(t, "credential: oidc-token-cred", `credential: "oidc token"`), nil, []wantErr{{10, 15, "not a valid Jenkins credential id"}}},
		{"kind", edit(t, "audience: jenkins", "audience: jenkins\n  kind: jwt"), nil, []wantErr{{12, 9, `oidc.kind "jwt"`}}},
		{"org slug", edit(t, "org: acme", `org: "acme corp"`), nil, []wantErr{{7, 8, "not a valid Cloudsmith organisation slug"}}},
		{"service slug", edit(t, "service: jenkins-ci", "service: -ci"), nil, []wantErr{{8, 12, "service account slug"}}},
		{"claim not scalar", edit(t, "  service: jenkins-ci", "  service: jenkins-ci\n  provider:\n    claims: {build_number: 1.5}"), nil, []wantErr{{10, 28, "text, a whole number or true/false"}}},
		{"claim wildcard middle", edit(t, "  service: jenkins-ci", "  service: jenkins-ci\n  provider:\n    claims: {sub: \"a.*b\"}"), nil, []wantErr{{10, 19, "'.*' before the end"}}},
		{"claim star", edit(t, "  service: jenkins-ci", "  service: jenkins-ci\n  provider:\n    claims: {sub: \"a/*\"}"), nil, []wantErr{{10, 19, "ends with '*'"}}},
		{"oidc folder bad", edit(t, "audience: jenkins", "audience: jenkins\n  folder: a//b"), nil, []wantErr{{12, 11, "empty segment"}}},
		{"job outside folder", edit(t, "audience: jenkins", "audience: jenkins\n  folder: team-a"), nil, []wantErr{{14, 11, `outside oidc.folder "team-a"`}}},
		{"binary both", edit(t, "jobs:", "binary: {path: x, url: https://h/x, sha256: "+strings.Repeat("a", 64)+"}\njobs:"), nil, []wantErr{{12, 9, "more than one of path, url and platforms"}}},
		{"binary empty", edit(t, "jobs:", "binary: {}\njobs:"), nil, []wantErr{{12, 9, "one of path, url or platforms"}}},
		{"binary no sha", edit(t, "jobs:", "binary: {url: https://h/x}\njobs:"), nil, []wantErr{{12, 15, "needs sha256"}}},
		{"binary bad sha", edit(t, "jobs:", "binary: {url: https://h/x, sha256: abc}\njobs:"), nil, []wantErr{{12, 36, "not 64 hex digits"}}},
		{"binary sha only", edit(t, "jobs:", "binary: {path: x, sha256: "+strings.Repeat("a", 64)+"}\njobs:"), nil, []wantErr{{12, 27, "only used with binary.url"}}},

		// Jobs.
		{"type", edit(t, "type: freestyle", "type: maven"), nil, []wantErr{{14, 11, `job type "maven"`}}},
		{"missing type", edit(t, "    type: freestyle\n", ""), nil, []wantErr{{13, 5, `missing required key "type" in jobs[0]`}}},
		{"unknown format", edit(t, "formats: [python]", "formats: [pythn]"), nil, []wantErr{{16, 15, `unknown format "pythn"`}}},
		{"format twice", edit(t, "formats: [python]", "formats: [python, python]"), nil, []wantErr{{16, 23, "listed twice"}}},
		{"no repo", edit(t, "    repo: python-internal\n", ""), nil, []wantErr{{13, 5, `job "build-wheel" has no repo`}}},
		{"repo slug", edit(t, "repo: python-internal", "repo: python/internal"), nil, []wantErr{{15, 11, "repository slug"}}},
		{"freestyle scm", edit(t, step, "scm: {url: https://g/x.git}"), nil, []wantErr{{17, 10, "scm is only for pipeline jobs"}}},
		{"pipeline scm and steps", edit(t, "type: freestyle", "type: pipeline", step, step+"\n    scm: {url: https://g/x.git}"), nil, []wantErr{{17, 12, "steps would be ignored"}}},
		{"no steps", edit(t, "    "+step+"\n", ""), nil, []wantErr{{13, 5, `job "build-wheel" has no steps`}}},
		{"script path escapes", edit(t, "type: freestyle", "type: pipeline", step, "scm: {url: https://g/x.git, script_path: ../../etc/Jenkinsfile}"), nil, []wantErr{{17, 46, "leaves the repository"}}},
		{"scm password", edit(t, "type: freestyle", "type: pipeline", step, "scm: {url: \"https://u:pw@g/x.git\"}"), nil, []wantErr{{17, 16, "contains a password"}}},
		{"duplicate job ci", base + "  - name: Build-Wheel\n    type: freestyle\n    repo: r\n    formats: [go]\n    steps: [make]\n", nil, []wantErr{{18, 11, `job "Build-Wheel" is already defined at line 13`}}},
		{"job is a folder", base + "  - name: build-wheel/inner\n    type: freestyle\n    repo: r\n    formats: [go]\n    steps: [make]\n", nil, []wantErr{{13, 11, `job "build-wheel" is also a folder of jobs[1]`}}},
		{"leading space name", edit(t, "name: build-wheel", `name: " build-wheel"`), nil, []wantErr{{13, 11, "leading or trailing whitespace"}}},
		{"dot name", edit(t, "name: build-wheel", `name: "a/.."`), nil, []wantErr{{13, 11, "which Jenkins reserves"}}},
		{"empty segment", edit(t, "name: build-wheel", "name: a//b"), nil, []wantErr{{13, 11, "empty segment"}}},
		{"trailing slash", edit(t, "name: build-wheel", "name: a/"), nil, []wantErr{{13, 11, "starts or ends with '/'"}}},
		{"long segment", edit(t, "name: build-wheel", "name: "+strings.Repeat("n", 256)), nil, []wantErr{{13, 11, "256 bytes long"}}},
	}
	for _, r := range unsafeNameChars {
		if r == '/' {
			continue
		}
		name := fmt.Sprintf(`name: "a%cb"`, r)
		if r == '\\' {
			name = `name: 'a\b'`
		}
		cases = append(cases, struct {
			name string
			yaml string
			env  map[string]string
			want []wantErr
		}{"unsafe char " + string(r), edit(t, "name: build-wheel", name), nil, []wantErr{{13, 11, fmt.Sprintf("contains %q", r)}}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := getenv
			if tc.env != nil {
				env = func(k string) string { return tc.env[k] }
			}
			s, err := Parse("spec.yaml", []byte(tc.yaml), env)
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			es := asErrors(t, err)
			if len(es) != len(tc.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(es), len(tc.want), err)
			}
			for _, w := range tc.want {
				found := false
				for _, e := range es {
					if strings.Contains(e.Msg, w.msg) && (w.line == 0 || (e.Pos.Line == w.line && e.Pos.Column == w.col)) {
						found = true
					}
				}
				if !found {
					t.Errorf("want %d:%d: %s; got:\n%v", w.line, w.col, w.msg, err)
				}
			}
			for _, secret := range []string{"11f0e4cafe", "abcdef", "jenkins-secret-value", "tok\n"} {
				if strings.Contains(err.Error(), secret) && !strings.Contains(tc.yaml, "echo "+secret) {
					t.Errorf("error leaks a secret %q: %v", secret, err)
				}
			}
		})
	}
}

func TestSuggestion(t *testing.T) {
	_, err := Parse("spec.yaml", []byte(edit(t, "  audience: jenkins", "  audiance: jenkins")), getenv)
	es := asErrors(t, err)
	if es[1].Hint != `did you mean "audience"?` {
		t.Errorf("hint = %q", es[1].Hint)
	}
	// A key already set is never suggested: renaming to it makes a duplicate.
	_, err = Parse("spec.yaml", []byte(edit(t, "  audience: jenkins", "  audience: jenkins\n  audiance: other")), getenv)
	es = asErrors(t, err)
	if es[0].Hint != `remove it: "audience", the key it looks like, is already set here` {
		t.Errorf("hint = %q", es[0].Hint)
	}
	_, err = Parse("spec.yaml", []byte(edit(t, "  credential: oidc-token-cred", "  credential: oidc-token-cred\n  credentials: x")), getenv)
	es = asErrors(t, err)
	if strings.Contains(es[0].Hint, `did you mean "credential"`) {
		t.Errorf("hint suggests a key already set: %q", es[0].Hint)
	}
	_, err = Parse("spec.yaml", []byte(edit(t, "  audience: jenkins", "  audience: jenkins\n  zzzzzzzzzz: 1")), getenv)
	es = asErrors(t, err)
	if !strings.Contains(es[0].Hint, "known keys here: credential, kind, audience") {
		t.Errorf("hint = %q", es[0].Hint)
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	src := edit(t, "version: 1", "version: 3", "https://jenkins.example.com/", "http://jenkins.example.com/",
		"${JENKINS_API_TOKEN}", "literal", "audience: jenkins", "audiance: jenkins", "type: freestyle", "type: fs")
	_, err := Parse("spec.yaml", []byte(src), getenv)
	es := asErrors(t, err)
	if len(es) != 6 {
		t.Fatalf("got %d errors, want 6:\n%v", len(es), err)
	}
	for i := 1; i < len(es); i++ {
		if es[i].Pos.Line < es[i-1].Pos.Line {
			t.Errorf("errors not in file order:\n%v", err)
		}
	}
	if lines := strings.Count(err.Error(), "\n") + 1; lines != 6 {
		t.Errorf("want one line per error, got %d lines", lines)
	}
}

func TestOffline(t *testing.T) {
	s, err := ParseWith("spec.yaml", []byte(base), nil, Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Jenkins.Token.Ref != "JENKINS_API_TOKEN" || s.Jenkins.Token.Value() != "" {
		t.Errorf("offline token = %#v", s.Jenkins.Token)
	}
	// Offline still refuses literals.
	_, err = ParseWith("spec.yaml", []byte(edit(t, "${JENKINS_API_TOKEN}", "lit")), nil, Options{Offline: true})
	if err == nil {
		t.Error("offline accepted a literal token")
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), getenv)
	var es Errors
	if !errors.Is(err, os.ErrNotExist) || errors.As(err, &es) {
		t.Errorf("err = %v", err)
	}
}

// Load (from a file) checks the local files the spec names, relative to it,
// so validate catches what render and plan would trip over later.
func TestLoadChecksLocalFiles(t *testing.T) {
	dir := t.TempDir()
	y := strings.Replace(base, "  user: automation", "  user: automation\n  ca_bundle: missing-ca.pem", 1)
	path := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, func(string) string { return "tok" })
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Pos.Line != 5 ||
		!strings.Contains(errs[0].Msg, "missing-ca.pem does not exist") {
		t.Fatalf("got %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "missing-ca.pem"), []byte("pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, func(string) string { return "tok" }); err != nil {
		t.Fatalf("with the file present: %v", err)
	}
}
