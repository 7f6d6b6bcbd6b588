package app

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func needShell(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("uses sh")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
}

func TestExecMasksAndPropagates(t *testing.T) {
	needShell(t)
	f := newFake(t)
	oidc := mintJWT(t, time.Hour, nil)
	env := f.env(t, oidc)
	// The child prints the token whole, split across two writes with a
	// pause, on stderr, base64-encoded as in a Basic header, and prints
	// where its configuration lives; then fails with status 7.
	script := `printf 'whole=%s\n' "$CLOUDSMITH_API_KEY"
printf 'split=%s' "$(printf %s "$CLOUDSMITH_API_KEY" | cut -c1-20)"; sleep 0.1
printf '%s\n' "$(printf %s "$CLOUDSMITH_API_KEY" | cut -c21-)"
printf 'err=%s\n' "$CLOUDSMITH_API_KEY" >&2
printf 'b64=%s\n' "$(printf 'token:%s' "$CLOUDSMITH_API_KEY" | base64 | tr -d '\n')"
cat "$NPM_CONFIG_USERCONFIG"
printf 'oidc=%s\n' "${OIDC_TOKEN:-unset}"
printf 'dir=%s\n' "$CLOUDSMITH_CONFIG_DIR"
exit 7`
	r := runApp(t, env, "", "exec", "--format", "npm", "--", "sh", "-c", script)
	if r.code != 7 {
		t.Fatalf("exit %d, want the child's 7; stderr:\n%s", r.code, r.errOut)
	}
	tok := f.lastToken(t)
	assertNoSecrets(t, []string{tok, oidc}, r.out, r.errOut)
	for _, want := range []string{"whole=****\n", "split=****\n", "b64=****\n", ":_authToken=****\n", "oidc=unset\n"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.out)
		}
	}
	if !strings.Contains(r.errOut, "err=****") {
		t.Errorf("stderr not masked:\n%s", r.errOut)
	}
	i := strings.Index(r.out, "dir=")
	dir := strings.TrimSpace(r.out[i+4:])
	if dir == "" {
		t.Fatal("the child saw no CLOUDSMITH_CONFIG_DIR")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after exec (%v)", dir, err)
	}
}

func TestExecCommandNotFound(t *testing.T) {
	f := newFake(t)
	r := runApp(t, f.env(t, mintJWT(t, time.Hour, nil)), "", "exec", "--", "no-such-command-cloudsmith-oidc")
	if r.code != 127 {
		t.Errorf("exit %d, want 127; %s", r.code, r.errOut)
	}
}

func TestExecForwardsSignalsAndCleansUp(t *testing.T) {
	needShell(t)
	f := newFake(t)
	oidc := mintJWT(t, time.Hour, nil)
	ws := t.TempDir()
	cmd := exec.Command(binPath, "exec", "--format", "python", "--", "sh", "-c", `echo "ready $CLOUDSMITH_CONFIG_DIR"; exec sleep 30`)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "OIDC_TOKEN=" + oidc, "CLOUDSMITH_ORG=acme", "CLOUDSMITH_SERVICE_SLUG=ci",
		"CLOUDSMITH_REPO=demo", "CLOUDSMITH_API_URL=" + f.URL, "WORKSPACE_TMP=" + ws, "CLOUDSMITH_DOWNLOAD_URL=http://127.0.0.1:1"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _ := stdout.Read(buf)
	line := string(buf[:n])
	if !strings.HasPrefix(line, "ready ") {
		t.Fatalf("child said %q; stderr %s", line, stderr.String())
	}
	dir := strings.TrimSpace(strings.TrimPrefix(line, "ready "))
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("config dir missing while the child runs: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if got := cmd.ProcessState.ExitCode(); got != 128+int(syscall.SIGTERM) {
		t.Errorf("exit %d (%v), want %d", got, err, 128+int(syscall.SIGTERM))
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s survived the signal (%v)", dir, err)
	}
	assertNoSecrets(t, []string{oidc, f.lastToken(t)}, line, stderr.String())
}

// The command sees none of the variables the OIDC credential may be bound
// to: neither token variable nor the file credential's path.
func TestExecHidesTheBoundToken(t *testing.T) {
	needShell(t)
	for _, bound := range []string{"CLOUDSMITH_OIDC_TOKEN", "OIDC_TOKEN_FILE"} {
		t.Run(bound, func(t *testing.T) {
			f := newFake(t)
			oidc := mintJWT(t, time.Hour, nil)
			env := f.env(t, "")
			delete(env, "OIDC_TOKEN")
			env[bound] = oidc
			if bound == "OIDC_TOKEN_FILE" {
				file := filepath.Join(t.TempDir(), "id_token")
				if err := os.WriteFile(file, []byte(oidc), 0o400); err != nil {
					t.Fatal(err)
				}
				env[bound] = file
			}
			r := runApp(t, env, "", "exec", "--", "sh", "-c", `printf '%s|%s|%s\n' "${OIDC_TOKEN:-unset}" "${CLOUDSMITH_OIDC_TOKEN:-unset}" "${OIDC_TOKEN_FILE:-unset}"`)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.errOut)
			}
			if r.out != "unset|unset|unset\n" {
				t.Errorf("the command saw %q", r.out)
			}
		})
	}
}
