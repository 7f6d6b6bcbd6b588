package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteTree(t *testing.T) {
	dir := t.TempDir()
	out := mustRender(t, sampleSpec())
	if err := out.WriteTree(dir); err != nil {
		t.Fatal(err)
	}
	files, _ := out.Files()
	for n, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: %v", n, err)
		}
	}
	cfg := filepath.Join(dir, "jobs", "team-a", "sub", "fs", "config.xml")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(cfg, old, old)

	// Unchanged files are left alone; changed ones are replaced.
	s := sampleSpec()
	s.Jobs[0].Description = "changed"
	out = mustRender(t, s)
	if err := out.WriteTree(dir); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(cfg); !st.ModTime().Equal(old) {
		t.Errorf("an unchanged file was rewritten")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "jobs", "team-a", "build-wheel", "config.xml")); !strings.Contains(string(b), "<description>changed\n") {
		t.Errorf("changed file not replaced")
	}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if strings.HasSuffix(p, ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

func TestWriteTreeRefusesEscapes(t *testing.T) {
	for _, name := range []string{"../x", "a/../../x", "a//b", "", "a\\b", "."} {
		out := &Output{Jobs: []Job{{Name: name, ConfigXML: []byte("x")}}}
		dir := t.TempDir()
		if err := out.WriteTree(filepath.Join(dir, "out")); err == nil || !strings.Contains(err.Error(), "plain name") {
			t.Errorf("%q: error %v", name, err)
		}
	}
}

// entries lists the names in dir, sorted.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestWriteTreeLayouts writes into a missing directory (every top-level
// directory staged and renamed), into one that already holds part of the
// tree (vars/ written in place, the rest staged), and over a complete one;
// each time every file is right and no temporary is left.
func TestWriteTreeLayouts(t *testing.T) {
	out := mustRender(t, sampleSpec())
	files, _ := out.Files()
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{"missing directory", func(t *testing.T, dir string) {}},
		{"existing vars", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "vars"), 0o755)
			os.WriteFile(filepath.Join(dir, "vars", "mine.groovy"), []byte("kept"), 0o644)
			os.WriteFile(filepath.Join(dir, "vars", "withCloudsmith.groovy"), []byte("stale"), 0o644)
		}},
		{"complete tree", func(t *testing.T, dir string) {
			if err := out.WriteTree(dir); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			tt.prepare(t, dir)
			if err := out.WriteTree(dir); err != nil {
				t.Fatal(err)
			}
			for n, want := range files {
				got, err := os.ReadFile(filepath.Join(dir, n))
				if err != nil || string(got) != string(want) {
					t.Errorf("%s: %v", n, err)
				}
			}
			if got := entries(t, dir); strings.Join(got, " ") != "credential folders jobs vars" {
				t.Errorf("top level holds %q", got)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "vars", "mine.groovy")); tt.name == "existing vars" && string(b) != "kept" {
				t.Errorf("a file the tree does not hold was touched: %q, %v", b, err)
			}
			filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
				if strings.HasSuffix(p, ".tmp") {
					t.Errorf("temporary left: %s", p)
				}
				return nil
			})
		})
	}
}

// TestWriteTreeFailureShowsNothing fails half way through a new top-level
// directory (a job's directory collides with another job's config.xml):
// the directory never appears, and its staging copy is removed.
func TestWriteTreeFailureShowsNothing(t *testing.T) {
	out := &Output{Jobs: []Job{
		{Name: "a", ConfigXML: []byte("<a/>")},
		{Name: "a/config.xml", ConfigXML: []byte("<b/>")},
	}}
	dir := t.TempDir()
	if err := out.WriteTree(dir); err == nil {
		t.Fatal("no error")
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("left behind: %q", got)
	}
}

// TestWriteTreeStagedRace has the top-level directory appear between
// staging and publishing (another writer): the files go into it one by
// one, atomically, keeping what it holds, and the staging copy is removed.
func TestWriteTreeStagedRace(t *testing.T) {
	out := mustRender(t, sampleSpec())
	files, _ := out.Files()
	dir := t.TempDir()
	tr := &tree{root: dir, files: files, staged: map[string]string{}}
	defer tr.removeStaged()
	if err := tr.stage(); err != nil {
		t.Fatal(err)
	}
	if len(tr.staged) != 4 {
		t.Fatalf("staged %v", tr.staged)
	}
	if err := tr.write(); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "jobs"), 0o755)
	os.WriteFile(filepath.Join(dir, "jobs", "other"), []byte("theirs"), 0o644)
	if err := tr.publish(); err != nil {
		t.Fatal(err)
	}
	for n, want := range files {
		if got, err := os.ReadFile(filepath.Join(dir, n)); err != nil || string(got) != string(want) {
			t.Errorf("%s: %v", n, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "jobs", "other")); string(b) != "theirs" {
		t.Errorf("the other writer's file was lost")
	}
	if got := entries(t, dir); strings.Join(got, " ") != "credential folders jobs vars" {
		t.Errorf("top level holds %q", got)
	}
}

// TestWriteFileAtomicMode checks the exact mode, whatever the umask.
func TestWriteFileAtomicMode(t *testing.T) {
	for _, perm := range []os.FileMode{0o600, 0o644} {
		name := filepath.Join(t.TempDir(), "sub", "f")
		if err := WriteFileAtomic(name, []byte("x"), perm); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(name); err != nil || st.Mode().Perm() != perm {
			t.Errorf("mode %v, want %v (%v)", st.Mode().Perm(), perm, err)
		}
	}
}
