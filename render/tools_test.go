package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
)

// needTool finds an external tool; without it the test is skipped, except
// in CI (env CI set), where it must be installed.
func needTool(t testing.TB, name string) string {
	t.Helper()
	return testenv.LookPath(t, name)
}

// javaHome is the JDK Debian's groovy needs when JAVA_HOME is unset.
const javaHome = "/usr/lib/jvm/java-17-openjdk-amd64"

// runGroovy runs testdata/groovy/harness.groovy in one JVM and returns the
// JSON it wrote.
func runGroovy(t testing.TB, mode, input string) []byte {
	t.Helper()
	groovy := needTool(t, "groovy")
	out := filepath.Join(t.TempDir(), "out.json")
	cmd := exec.Command(groovy, filepath.Join("testdata", "groovy", "harness.groovy"), mode, input, out)
	cmd.Env = append(os.Environ(), "JAVA_OPTS=-Dfile.encoding=UTF-8 -Xshare:auto -XX:TieredStopAtLevel=1")
	if os.Getenv("JAVA_HOME") == "" {
		if _, err := os.Stat(javaHome); err == nil {
			cmd.Env = append(cmd.Env, "JAVA_HOME="+javaHome)
		}
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("groovy harness %s: %v\n%s", mode, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeList writes one path per line, for the harness.
func writeList(t testing.TB, paths []string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "list.txt")
	var b []byte
	for _, f := range paths {
		b = append(b, f...)
		b = append(b, '\n')
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readArgv reads a NUL-separated argv recorded by the fakes.
func readArgv(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return out
}
