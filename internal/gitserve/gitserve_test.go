package gitserve

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
)

// TestPublishAndClone clones a published repository over smart HTTP with
// the real git.
func TestPublishAndClone(t *testing.T) {
	testenv.LookPath(t, "git", "--version")
	root := t.TempDir()
	files := fstest.MapFS{"vars/x.groovy": {Data: []byte("def call() {}\n")}}
	rev, err := Publish(context.Background(), root, "lib", "main", "first", files, "v1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dst := filepath.Join(t.TempDir(), "c")
	out, err := exec.Command("git", "clone", "--quiet", "--branch", "v1", s.URL+"lib.git", dst).CombinedOutput()
	if err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "vars", "x.groovy")); err != nil || string(b) != "def call() {}\n" {
		t.Fatalf("cloned file %q %v", b, err)
	}
	head, _ := exec.Command("git", "-C", dst, "rev-parse", "HEAD").Output()
	if string(head[:len(head)-1]) != rev {
		t.Errorf("HEAD %s, published %s", head, rev)
	}
}
