package securefile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secret")
	// An existing world-readable file is replaced by a 0600 one.
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("content %q", b)
	}
	if runtime.GOOS != "windows" && mode(t, p) != 0o600 {
		t.Errorf("mode %04o, want 0600", mode(t, p))
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestWriteRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	for _, write := range []func(string, []byte) error{WriteFile, WriteOutput} {
		if err := write(link, []byte("x")); err == nil || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("symlink: err = %v", err)
		}
		if err := write(dir, []byte("x")); err == nil {
			t.Error("directory: no error")
		}
	}
	if _, err := os.Stat(target); err == nil {
		t.Error("written through the symlink")
	}
}

func TestPrivateDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := MkdirPrivate(dir); err != nil {
		t.Fatal(err)
	}
	if mode(t, dir) != 0o700 {
		t.Errorf("mode %04o", mode(t, dir))
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckPrivateDir(dir, false); err == nil {
		t.Error("a 0755 directory passed")
	}
	if err := CheckPrivateDir(dir, true); err != nil || mode(t, dir) != 0o700 {
		t.Errorf("fix: %v, mode %04o", err, mode(t, dir))
	}
	f := filepath.Join(dir, "f")
	_ = os.WriteFile(f, nil, 0o644)
	if _, err := CheckPrivateFile(f); err == nil {
		t.Error("a 0644 file passed")
	}
}
