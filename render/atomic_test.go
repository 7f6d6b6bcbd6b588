package render

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFileAtomicRefusesSymlink: the tree writer's atomic write is
// securefile's, so a planted symlink is refused, not followed or replaced.
func TestWriteFileAtomicRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "config.xml")
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if err := WriteFileAtomic(link, []byte("new"), 0o644); err == nil {
		t.Fatal("wrote through a symlink")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the symlink's target changed: %q", b)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v", err)
	}
}
