package spec

import (
	"strings"
	"testing"
)

const seedYAML = "seed: {name: admin/seed, scm: {url: \"https://git.example.com/spec.git\"}, credential: jenkins-api}\n"

// TestPipelinesRules covers the library block, per-platform binaries and
// the seed job's secrets and placement: each case's errors (refused) or
// warnings (accepted), by line and message.
func TestPipelinesRules(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	cases := []struct {
		name     string
		yaml     string
		env      map[string]string
		errs     []wantErr
		warnings []wantErr
	}{
		{"library remote", base + "library: {remote: \"https://git.example.com/lib.git\", version: v1.2.0, credentials_id: git}\n", nil, nil, nil},
		{"library name only", base + "library: {name: my-lib}\n", nil, nil, nil},
		{"library from a local repository", base + "library: {remote: \"file:///srv/git/lib.git\", version: v1}\n", nil, nil,
			[]wantErr{{18, 19, "library.remote is a local repository: the git plugin refuses to check it out on the controller since SECURITY-2478"}}},
		{"library from a local path", base + "library: {remote: /srv/git/lib.git, version: v1}\n", nil, nil,
			[]wantErr{{18, 19, "is a local repository"}}},
		{"library over scp-like ssh", base + "library: {remote: \"git@git.example.com:platform/lib.git\", version: v1}\n", nil, nil, nil},
		{"library remote without version", base + "library: {remote: \"https://git.example.com/lib.git\"}\n", nil,
			[]wantErr{{18, 10, "library.remote needs version"}}, nil},
		{"library name with @", base + "library: {name: \"lib@v1\"}\n", nil, []wantErr{{18, 17, "not a plain library name"}}, nil},
		{"library version with a quote", base + "library: {remote: \"https://h/l.git\", version: \"v1'\"}\n", nil,
			[]wantErr{{18, 47, "is not a git ref"}}, nil},
		{"library credentials without remote", base + "library: {credentials_id: git}\n", nil,
			[]wantErr{{18, 27, "only used with library.remote"}}, nil},
		{"library remote with a password", base + "library: {remote: \"https://u:p@h/l.git\", version: v1}\n", nil,
			[]wantErr{{18, 19, "library.remote contains a password"}}, nil},
		{"platforms", base + "binary:\n  platforms:\n    linux/amd64: {url: \"https://dl/l\", sha256: " + sha + "}\n    windows/amd64: {url: \"https://dl/w.exe\", sha256: " + strings.ToUpper(sha) + "}\n", nil, nil, nil},
		{"platform unknown", base + "binary:\n  platforms:\n    plan9/386: {url: \"https://dl/p\", sha256: " + sha + "}\n", nil,
			[]wantErr{{20, 16, "unknown platform \"plan9/386\""}}, nil},
		{"platform bad sha", base + "binary:\n  platforms:\n    linux/arm64: {url: \"https://dl/l\", sha256: abc}\n", nil,
			[]wantErr{{20, 48, "sha256 is not 64 hex digits"}}, nil},
		{"platform missing sha", base + "binary:\n  platforms:\n    linux/arm64: {url: \"https://dl/l\"}\n", nil,
			[]wantErr{{20, 5, "missing required key \"sha256\""}}, nil},
		{"platforms and url", base + "binary:\n  url: \"https://dl/x\"\n  sha256: " + sha + "\n  platforms:\n    linux/amd64: {url: \"https://dl/l\", sha256: " + sha + "}\n", nil,
			[]wantErr{{19, 3, "more than one of path, url and platforms"}}, nil},
		{"seed with api key but no credential", strings.Replace(base, "  service: jenkins-ci\n", "  service: jenkins-ci\n  api_key: ${CLOUDSMITH_API_KEY}\n", 1) + seedYAML, nil,
			[]wantErr{{19, 7, "the seed job cannot bind cloudsmith.api_key"}}, nil},
		{"seed with api key and its credential", strings.Replace(base, "  service: jenkins-ci\n", "  service: jenkins-ci\n  api_key: ${CLOUDSMITH_API_KEY}\n", 1) +
			strings.Replace(seedYAML, "credential: jenkins-api}", "credential: jenkins-api, cloudsmith_credential: cs-key}", 1), nil,
			nil, []wantErr{{4, 9, "jenkins.user is a literal"}}},
		{"seed credential without api key", base + strings.Replace(seedYAML, "credential: jenkins-api}", "credential: jenkins-api, cloudsmith_credential: cs-key}", 1), nil,
			[]wantErr{{18, 122, "only used with cloudsmith.api_key"}}, nil},
		{"seed user from its credential", strings.Replace(base, "user: automation", "user: ${JENKINS_USER}", 1) + seedYAML,
			map[string]string{"JENKINS_USER": "bot"}, nil, nil},
		{"user reference unset", strings.Replace(base, "user: automation", "user: ${JENKINS_USER}", 1), nil,
			[]wantErr{{4, 9, "environment variable JENKINS_USER (used by jenkins.user) is not set"}}, nil},
		{"user reference with more text", strings.Replace(base, "user: automation", "user: x${JENKINS_USER}", 1), nil,
			[]wantErr{{4, 9, "literal or a single ${VAR} reference"}}, nil},
		{"seed at the top level", strings.Replace(base, "user: automation", "user: ${JENKINS_USER}", 1) + strings.Replace(seedYAML, "admin/seed", "seed", 1),
			map[string]string{"JENKINS_USER": "bot"}, nil, []wantErr{{18, 14, "the seed job is at the top level"}}},
		{"seed next to team jobs", strings.Replace(strings.Replace(base, "user: automation", "user: ${JENKINS_USER}", 1), "name: build-wheel", "name: team/build-wheel", 1) +
			strings.Replace(seedYAML, "admin/seed", "team/seed", 1),
			map[string]string{"JENKINS_USER": "bot"}, nil, []wantErr{{18, 14, "also holds job \"team/build-wheel\""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := func(k string) string {
				if v, ok := tc.env[k]; ok {
					return v
				}
				return testEnv[k]
			}
			s, err := Parse("spec.yaml", []byte(tc.yaml), env)
			var got Errors
			if err != nil {
				got = asErrors(t, err)
			} else {
				got = s.Warnings
			}
			want := tc.errs
			if len(tc.errs) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				want = tc.warnings
			}
			if len(got) != len(want) {
				t.Errorf("got %d, want %d:\n%v", len(got), len(want), got)
			}
			for _, w := range want {
				found := false
				for _, e := range got {
					if strings.Contains(e.Msg, w.msg) && e.Pos.Line == w.line && e.Pos.Column == w.col {
						found = true
					}
				}
				if !found {
					t.Errorf("want %d:%d: %s; got:\n%v", w.line, w.col, w.msg, got)
				}
			}
		})
	}
}

// TestUserReference: jenkins.user may be a ${VAR} reference; the seed
// binds the credential's user to that variable.
func TestUserReference(t *testing.T) {
	y := strings.Replace(base, "user: automation", "user: ${JENKINS_USER}", 1)
	s, err := Parse("spec.yaml", []byte(y), func(k string) string { return map[string]string{"JENKINS_USER": "bot", "JENKINS_API_TOKEN": "t"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if s.Jenkins.User != "bot" || s.Jenkins.UserRef != "JENKINS_USER" {
		t.Errorf("user %q ref %q", s.Jenkins.User, s.Jenkins.UserRef)
	}
	s, err = ParseWith("spec.yaml", []byte(y), nil, Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Jenkins.UserRef != "JENKINS_USER" {
		t.Errorf("offline ref %q", s.Jenkins.UserRef)
	}
}
