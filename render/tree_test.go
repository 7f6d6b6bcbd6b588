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
