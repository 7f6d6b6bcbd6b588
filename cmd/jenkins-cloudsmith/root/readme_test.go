package root_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cmd/jenkins-cloudsmith/root"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/iostreams"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

// readmeSection returns the README's "Using it on a real controller"
// section up to its first subsection.
func readmeSection(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Using it on a real controller\n")
	if !ok {
		t.Fatal(`README has no "## Using it on a real controller" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n### ")
	return sec
}

// readmeCommands lists the jenkins-cloudsmith command lines of the sh
// blocks in sec, in order, as argument lists without the program name;
// comments are dropped. It stops at the custom-issuer step, which the
// emulate spec (Jenkins' own issuer) has nothing to publish for.
func readmeCommands(sec string) [][]string {
	sec, _, _ = strings.Cut(sec, "With a custom issuer")
	var cmds [][]string
	in := false
	for _, line := range strings.Split(sec, "\n") {
		l := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(l, "```"):
			in = !in && l == "```sh"
			continue
		case !in:
			continue
		}
		if i := strings.Index(l, " #"); i >= 0 {
			l = l[:i]
		}
		// "cd try && . ./emulator.env": the test does both itself.
		for _, part := range strings.Split(l, "&&") {
			if f := strings.Fields(part); len(f) > 1 && f[0] == "jenkins-cloudsmith" {
				cmds = append(cmds, f[1:])
			}
		}
	}
	return cmds
}

// TestREADMEAgainstEmulate runs the README's "Using it on a real
// controller" as written against `emulate --write-spec`: the emulate line,
// then, in the directory it wrote and with its env file's secrets, every
// command up to the custom-issuer step.
func TestREADMEAgainstEmulate(t *testing.T) {
	testenv.LookPath(t, "python3")
	bin, err := trusttest.StepBinary()
	if err != nil {
		t.Skipf("no cloudsmith-oidc step binary: %v", err)
	}
	cmds := readmeCommands(readmeSection(t))
	if len(cmds) < 7 || cmds[0][0] != "emulate" {
		t.Fatalf("the README's commands changed shape: %q", cmds)
	}
	t.Chdir(t.TempDir())

	// The emulate line as written, plus --binary: a test binary cannot
	// stand in for cloudsmith-oidc.
	ios, _, _, _ := iostreams.Test(nil)
	pr, pw := io.Pipe()
	ios.Out, ios.ErrOut = pw, io.Discard
	emu := root.New(&cmdutil.Factory{IO: ios, Version: "test"})
	emu.SetArgs(append(cmds[0], "--binary", bin))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- emu.ExecuteContext(ctx); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("emulate: %v", err)
		}
	})
	if _, err := bufio.NewReader(pr).ReadString('\n'); err != nil {
		t.Fatalf("emulate printed no endpoints line: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	dir := cmds[0][len(cmds[0])-1]
	t.Chdir(dir)
	env := sourceEnv(t, "emulator.env")
	for _, args := range cmds[1:] {
		t.Logf("jenkins-cloudsmith %s", strings.Join(args, " "))
		ios, _, out, errOut := iostreams.Test(env)
		cmd := root.New(&cmdutil.Factory{IO: ios, Version: "test"})
		cmd.SetArgs(args)
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Minute)
		err := cmd.ExecuteContext(cctx)
		ccancel()
		if err != nil {
			t.Fatalf("jenkins-cloudsmith %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
		}
		for _, secret := range env {
			if bytes.Contains(out.Bytes(), []byte(secret)) || bytes.Contains(errOut.Bytes(), []byte(secret)) {
				t.Errorf("jenkins-cloudsmith %s printed a secret of emulator.env", strings.Join(args, " "))
			}
		}
	}
	if fi, err := os.Stat("emulator.env"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("emulator.env: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join("out")); err != nil {
		t.Errorf("render -o out/ wrote nothing: %v", err)
	}
}

// sourceEnv reads the export lines of an env file emulate wrote.
func sourceEnv(t *testing.T, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		env[k] = strings.Trim(v, "'")
	}
	if len(env) != 2 {
		t.Fatalf("%s holds %d exports, want 2:\n%s", name, len(env), b)
	}
	return env
}
