package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/world"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// binary is jenkins-cloudsmith built by TestMain: the demo links it as
// cloudsmith-oidc, which only works for the real multi-call program (not
// for this test binary).
var binary string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "demo-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "jenkins-cloudsmith")
		if runtime.GOOS == "windows" {
			binary += ".exe"
		}
		out, err := exec.Command("go", "build", "-o", binary, "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go build jenkins-cloudsmith: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

// needPip skips when the build could not install anything, except in CI.
func needPip(t *testing.T) {
	t.Helper()
	_, err := checkTools(context.Background())
	testenv.Require(t, err, "the demo's tools (bash, python3, pip)")
}

// run runs the built binary with args and returns stdout, stderr and the
// exit status.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Dir = t.TempDir()
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// noSecrets fails when text holds anything token-shaped.
func noSecrets(t *testing.T, where, text string) {
	t.Helper()
	if found := leaks(where, []byte(text), nil); len(found) > 0 {
		t.Errorf("%s", strings.Join(found, "; "))
	}
}

// TestDemoCommand is the README's first command, as a user runs it.
func TestDemoCommand(t *testing.T) {
	t.Parallel()
	needPip(t)
	stdout, stderr, code := run(t, "demo")
	if code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"==> Apply the spec", "==> Build " + world.FreestyleJob, world.InstalledMarker, "==> Build " + world.PipelineJob, "[Pipeline] withCredentials",
		"token:****@", // pip's index URL, masked by cloudsmith-oidc exec
		"Finished: SUCCESS", "Demo passed",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	noSecrets(t, "stdout", stdout)
	noSecrets(t, "stderr", stderr)
	if strings.Contains(stdout, "jenkins-cloudsmith-demo-") {
		// The temp dir was printed; it must be gone (no --keep).
		for _, f := range strings.Fields(stdout) {
			if strings.Contains(f, "jenkins-cloudsmith-demo-") && strings.HasSuffix(f, ".yaml") {
				if _, err := os.Stat(f); err == nil {
					t.Errorf("%s was left behind without --keep", f)
				}
			}
		}
	}
}

// TestDemoJSON checks the report for scripts and that progress then goes
// to stderr.
func TestDemoJSON(t *testing.T) {
	t.Parallel()
	needPip(t)
	stdout, stderr, code := run(t, "demo", "--output", "json", "--keep")
	if code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var r Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, stdout)
	}
	if !r.OK || r.Failed != "" || r.Build == nil || r.Build.Result != "SUCCESS" || len(r.Steps) < 8 {
		t.Errorf("report = %+v", r)
	}
	for _, s := range r.Steps {
		if !s.OK {
			t.Errorf("step %q not ok: %s", s.Name, s.Error)
		}
	}
	if !strings.Contains(stderr, "==> ") {
		t.Errorf("progress missing from stderr:\n%s", stderr)
	}
	// --keep leaves the spec, which must hold references, never values.
	b, err := os.ReadFile(r.Spec)
	if err != nil {
		t.Fatalf("--keep did not keep the spec: %v", err)
	}
	defer os.RemoveAll(filepath.Dir(r.Spec))
	if !bytes.Contains(b, []byte("${"+world.JenkinsEnv+"}")) || !bytes.Contains(b, []byte("${"+world.CloudsmithEnv+"}")) {
		t.Errorf("kept spec lacks the ${VAR} references:\n%s", b)
	}
	noSecrets(t, "stdout", stdout)
	noSecrets(t, "stderr", stderr)
}

// TestDemoInProcess runs Run itself (with the built binary as the step
// binary, since this test binary cannot be cloudsmith-oidc) and checks that
// the secrets the demo holds never reach its output.
func TestDemoInProcess(t *testing.T) {
	t.Parallel()
	needPip(t)
	ios, _, out, errOut := iostreams.Test(nil)
	err := Run(context.Background(), ios, Options{Output: "text", Binary: binary, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatalf("Run: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	noSecrets(t, "stdout", out.String())
	if !strings.Contains(out.String(), "Demo passed") {
		t.Errorf("output lacks the verdict:\n%s", out)
	}
}

// TestDemoFailsNamingTheStep: a broken step binary fails the demo with
// exit 1 and says which step failed.
func TestDemoFailsNamingTheStep(t *testing.T) {
	stdout, stderr, code := run(t, "demo", "--binary", filepath.Join(t.TempDir(), "missing"))
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, `demo step "`) || !strings.Contains(stdout, "Demo failed at step:") {
		t.Errorf("failure does not name the step\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}

func TestDemoRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--output", "yaml"}, {"--fault-rate", "2"}} {
		_, stderr, code := run(t, append([]string{"demo"}, args...)...)
		if code != 1 || !strings.Contains(stderr, args[0]) {
			t.Errorf("demo %v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// TestMultiCall: the binary is cloudsmith-oidc when called by that name.
func TestMultiCall(t *testing.T) {
	link, err := world.LinkStepBinary(context.Background(), t.TempDir(), binary)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(link, "--help").CombinedOutput()
	if !strings.Contains(string(out), "exchange") || !strings.Contains(string(out), "exec") {
		t.Errorf("%s --help (err %v) does not look like cloudsmith-oidc:\n%s", link, err, out)
	}
}

// TestExampleSpec: the spec the demo writes passes spec.Load's validation,
// with hostile-looking paths kept as one value.
func TestExampleSpec(t *testing.T) {
	for _, bin := range []string{"/tmp/x/bin/cloudsmith-oidc", `/tmp/a b/"q" 'x' #c/cloudsmith-oidc`} {
		b, err := world.ExampleSpec(world.SpecValues{
			JenkinsURL: "http://127.0.0.1:1", Org: "acme", Repo: "demo",
			Hosts: map[string]string{"api_url": "http://127.0.0.1:2", "download_url": "http://127.0.0.1:3", "npm_url": "http://127.0.0.1:4", "go_url": "http://127.0.0.1:5",
				"docker_registry": "127.0.0.1:7"},
			Issuer: "http://127.0.0.1:6/issuer", Binary: bin,
		})
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{world.JenkinsEnv: "jt", world.CloudsmithEnv: "ck"}
		s, err := spec.Parse("demo.yaml", b, func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("example spec does not load: %v\n%s", err, b)
		}
		if s.Binary.Path != bin || s.OIDC.Issuer != "http://127.0.0.1:6/issuer" || len(s.Jobs) != 2 ||
			s.Jenkins.Token.Value() != "jt" || s.Cloudsmith.APIKey.Value() != "ck" || s.Cloudsmith.DockerRegistry != "127.0.0.1:7" {
			t.Errorf("spec = %+v", s)
		}
	}
}

func TestLeaks(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwOi8vIn0.c2lnbmF0dXJl"
	tests := []struct {
		text string
		want int
	}{
		{"clean output, token:****@host", 0},
		{"Authorization: " + jwt, 1},
		{"key=k3y-secret", 1},
		{"key=k3y-secret and " + jwt, 2},
		{"eyJ alone is not a token", 0},
	}
	for _, tt := range tests {
		if got := leaks("x", []byte(tt.text), map[string]string{"the key": "k3y-secret"}); len(got) != tt.want {
			t.Errorf("leaks(%q) = %q, want %d finds", tt.text, got, tt.want)
		}
	}
}

func TestIndent(t *testing.T) {
	var b bytes.Buffer
	w := indent(&b, "  | ")
	for _, p := range []string{"a\nb", "c\n", "\nd\n"} {
		_, _ = w.Write([]byte(p))
	}
	if want := "  | a\n  | bc\n  | \n  | d\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestRecorderMasks(t *testing.T) {
	var b bytes.Buffer
	r := newRecorder(&b, "s3cret")
	fmt.Fprintf(r, "a s3")
	fmt.Fprintf(r, "cret b\n")
	_ = r.Flush()
	if strings.Contains(b.String(), "s3cret") || !strings.Contains(string(r.Raw()), "s3cret") {
		t.Errorf("printed %q, recorded %q", b.String(), r.Raw())
	}
}

func TestPipEnv(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string
	}{
		{nil, []string{"PIP_ROOT_USER_ACTION=ignore"}},
		{map[string]string{"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/w"}, []string{"PIP_ROOT_USER_ACTION=ignore", "PIP_NO_INDEX=false"}},
	}
	for _, tt := range tests {
		got := world.PipEnv(func(k string) string { return tt.env[k] })
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("world.PipEnv(%v) = %v, want %v", tt.env, got, tt.want)
		}
	}
}

// TestStepBinaryRefusesTestBinary: linking a go test binary as
// cloudsmith-oidc would re-run the tests; it is refused with the fix.
func TestStepBinaryRefusesTestBinary(t *testing.T) {
	_, err := world.LinkStepBinary(context.Background(), t.TempDir(), "")
	if err == nil || !strings.Contains(err.Error(), "Options.Binary") {
		t.Errorf("err = %v, want a refusal naming Options.Binary", err)
	}
}
