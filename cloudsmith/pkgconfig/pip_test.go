package pkgconfig

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
)

// TestPipKeepsUsersConfig: the user's pip.conf settings survive (pip skips
// the user's files once PIP_CONFIG_FILE is set), their indexes do not, and
// a real pip reads the merged file without configparser's duplicate
// errors.
func TestPipKeepsUsersConfig(t *testing.T) {
	home := t.TempDir()
	user := "[global]\ntimeout = 42\nindex-url = https://pypi.example/simple\nextra-index-url =\n    https://a.example/simple\n    https://b.example/simple\ntrusted-host = pypi.example\n\n[install]\nindex-url = https://other.example/simple\nno-compile = true\n"
	legacy := "[global]\ntimeout = 7\ncert = /etc/ssl/corp.pem\n"
	for path, body := range map[string]string{filepath.Join(home, ".config", "pip", "pip.conf"): user, filepath.Join(home, ".pip", "pip.conf"): legacy} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"HOME": home}
	res, err := Write(filepath.Join(t.TempDir(), "cfg"), tok, Settings{Org: "acme", Repo: "demo", URLs: map[string]string{DownloadURL: "http://127.0.0.1:9"},
		Getenv: func(k string) string { return env[k] }}, []Format{Python})
	if err != nil {
		t.Fatal(err)
	}
	var conf string
	for _, e := range res.Env {
		if e.Name == "PIP_CONFIG_FILE" {
			conf = e.Value
		}
	}
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"timeout = 42\n", "cert = /etc/ssl/corp.pem\n", "no-compile = true\n",
		"index-url = " + withUser("http://127.0.0.1:9/basic/acme/demo/python/simple/", tok) + "\n", "trusted-host = pypi.example\n    127.0.0.1:9\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("merged pip.conf lacks %q:\n%s", want, got)
		}
	}
	for _, gone := range []string{"pypi.example/simple", "a.example", "other.example", "timeout = 7"} {
		if strings.Contains(got, gone) {
			t.Errorf("merged pip.conf keeps %q:\n%s", gone, got)
		}
	}
	py := testenv.LookPath(t, "python3", "-m", "pip", "--version")
	cmd := exec.Command(py, "-m", "pip", "config", "list")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "PIP_CONFIG_FILE=" + conf}
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pip config list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "global.timeout='42'") || !strings.Contains(string(out), "install.no-compile='true'") || strings.Contains(string(out), "other.example") {
		t.Errorf("pip reads:\n%s", out)
	}
}
