package render

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

const benchJobs = 1000

// benchSpec has n freestyle jobs like the JJB YAML of jjbYAML: a shell
// step and a credentials-binding wrapper each.
func benchSpec(n int) *spec.Spec {
	s := sampleSpec()
	s.Seed = nil
	s.Jobs = nil
	for i := 0; i < n; i++ {
		s.Jobs = append(s.Jobs, spec.Job{
			Name: fmt.Sprintf("job-%04d", i), Type: spec.Freestyle, Description: fmt.Sprintf("Job %d", i),
			Label: "linux", Repo: "python-internal", Formats: []string{"python", "npm"},
			Steps: []string{"pip install -r requirements.txt", fmt.Sprintf("python -m build --outdir dist/%d", i)},
		})
	}
	return s
}

// BenchmarkRender1000 renders 1,000 freestyle jobs in memory.
func BenchmarkRender1000(b *testing.B) {
	r, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := benchSpec(benchJobs)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender1000WriteTree renders 1,000 freestyle jobs and writes
// the tree, the equivalent of `jenkins-jobs test -o DIR`.
func BenchmarkRender1000WriteTree(b *testing.B) {
	r, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := benchSpec(benchJobs)
	root := b.TempDir()
	i := 0
	for b.Loop() {
		i++ // a fresh directory each time, as jenkins-jobs test -o gets
		out, err := r.Render(s)
		if err != nil {
			b.Fatal(err)
		}
		if err := out.WriteTree(filepath.Join(root, fmt.Sprint(i))); err != nil {
			b.Fatal(err)
		}
	}
}

// jjbYAML is Jenkins Job Builder's definition of the same jobs: the shell
// step benchSpec's freestyle template renders, wrapped by a
// credentials-binding "text" binding of the OIDC token.
func jjbYAML(b testing.TB, r *Renderer, s *spec.Spec) []byte {
	out, err := r.Render(s)
	if err != nil {
		b.Fatal(err)
	}
	var y strings.Builder
	for i, j := range out.Jobs {
		x := parseXML(b, j.ConfigXML)
		cmd := x.textAt(b, "builders/hudson.tasks.Shell/command")
		fmt.Fprintf(&y, "- job:\n    name: %s\n    project-type: freestyle\n    description: 'Job %d'\n    node: linux\n", j.Name, i)
		y.WriteString("    wrappers:\n      - credentials-binding:\n          - text:\n              credential-id: oidc-token-cred\n              variable: OIDC_TOKEN\n")
		y.WriteString("    builders:\n      - shell: |\n")
		for _, line := range strings.Split(strings.TrimSuffix(cmd, "\n"), "\n") {
			y.WriteString("          " + line + "\n")
		}
	}
	return []byte(y.String())
}

// BenchmarkJJBTest1000 times `jenkins-jobs test -o DIR` (Jenkins Job
// Builder) on the same 1,000 jobs, for bench_jjb.sh.
func BenchmarkJJBTest1000(b *testing.B) {
	jjb := needTool(b, "jenkins-jobs")
	r, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	defs := filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(defs, jjbYAML(b, r, benchSpec(benchJobs)), 0o644); err != nil {
		b.Fatal(err)
	}
	var out string
	i := 0
	for b.Loop() {
		i++
		out = filepath.Join(dir, fmt.Sprint("out", i))
		cmd := exec.Command(jjb, "--conf", "/dev/null", "test", "-o", out, defs)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("jenkins-jobs test: %v\n%.2000s", err, msg)
		}
	}
	if n, _ := filepath.Glob(filepath.Join(out, "*")); len(n) != benchJobs {
		b.Fatalf("jenkins-jobs wrote %d jobs, want %d", len(n), benchJobs)
	}
}
