package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
)

// TestTemplatesEscapeEveryValue walks the parse tree of every embedded
// template: each output action must end in an escaper.
func TestTemplatesEscapeEveryValue(t *testing.T) {
	srcs, err := embedded()
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) < 10 {
		t.Fatalf("only %d embedded templates", len(srcs))
	}
	root := template.New("").Funcs(funcs())
	for _, s := range srcs {
		if _, err := root.New(s.name).Parse(s.text); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	for _, tm := range root.Templates() {
		if tm.Tree == nil {
			continue
		}
		if err := checkEscaped(tm.Tree.Root); err != nil {
			t.Errorf("%s: %v", tm.Name(), err)
		}
	}
}

func writeOverride(t *testing.T, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOverrides(t *testing.T) {
	tests := []struct {
		name, file, text string
		newErr           string // error from New
		renderErr        string // error from Render
		check            func(*testing.T, *Output)
	}{
		{name: "unescaped field", file: "folder.xml.tmpl", text: "<a>{{ .Description }}</a>",
			newErr: "prints a value without escaping it"},
		{name: "escaper not last", file: "folder.xml.tmpl", text: `<a>{{ .Description | xml | printf "%s" }}</a>`,
			newErr: "without escaping"},
		{name: "unescaped in branch", file: "folder.xml.tmpl", text: "{{ if .Path }}{{ .Path }}{{ end }}",
			newErr: "without escaping"},
		{name: "unescaped in define", file: "vars/_help.txt.tmpl", text: `{{ define "cloudsmith.args" }}{{ .Library }}{{ end }}`,
			newErr: "without escaping"},
		{name: "parse error", file: "job/freestyle.xml.tmpl", text: "{{ if }}",
			newErr: "job/freestyle.xml.tmpl does not parse"},
		{name: "not hermetic", file: "folder.xml.tmpl", text: `{{ env "HOME" | xml }}`,
			newErr: `function "env" not defined`},
		{name: "unknown file", file: "job/freestyle.xm.tmpl", text: "x",
			newErr: "no template is named job/freestyle.xm.tmpl"},
		{name: "missing field", file: "folder.xml.tmpl", text: "{{ .Nope | xml }}",
			renderErr: "Nope"},
		{name: "applies", file: "folder.xml.tmpl", text: "<folder>{{ .Path | xml }}</folder>",
			check: func(t *testing.T, o *Output) {
				if got := string(o.Folders[0].ConfigXML); got != "<folder>team-a</folder>" {
					t.Errorf("folder = %q", got)
				}
			}},
		{name: "assignment allowed", file: "folder.xml.tmpl", text: "{{ $p := .Path }}<f>{{ $p | xml }}</f>",
			check: func(t *testing.T, o *Output) {
				if got := string(o.Folders[0].ConfigXML); got != "<f>team-a</f>" {
					t.Errorf("folder = %q", got)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeOverride(t, dir, tt.file, tt.text)
			r, err := New(Options{TemplatesDir: dir})
			if tt.newErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.newErr) {
					t.Fatalf("New error = %v, want %q", err, tt.newErr)
				}
				if tt.file != "job/freestyle.xm.tmpl" && !strings.Contains(err.Error(), filepath.Join(dir, filepath.FromSlash(tt.file))) {
					t.Errorf("error does not name the file: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.Render(sampleSpec())
			if tt.renderErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.renderErr) {
					t.Fatalf("Render error = %v, want %q", err, tt.renderErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, out)
		})
	}
}

// TestSpecTemplatesDir: the spec's templates_dir is relative to the spec
// file, and --templates (Options.TemplatesDir) wins over it.
func TestSpecTemplatesDir(t *testing.T) {
	specDir := t.TempDir()
	writeOverride(t, filepath.Join(specDir, "tmpl"), "folder.xml.tmpl", "spec:{{ .Path | xml }}")
	writeOverride(t, filepath.Join(specDir, "tmpl"), "credential/credential.xml.tmpl", "spec-cred")
	s := sampleSpec()
	s.File = filepath.Join(specDir, "spec.yaml")
	s.TemplatesDir = "tmpl"

	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out.Folders[0].ConfigXML); got != "spec:team-a" {
		t.Errorf("folder = %q", got)
	}

	cli := t.TempDir()
	writeOverride(t, cli, "folder.xml.tmpl", "cli:{{ .Path | xml }}")
	r, err = New(Options{TemplatesDir: cli})
	if err != nil {
		t.Fatal(err)
	}
	out, err = r.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out.Folders[0].ConfigXML); got != "cli:team-a" {
		t.Errorf("folder = %q, want the --templates override", got)
	}
	if got := string(out.Credential.XML); got != "spec-cred" {
		t.Errorf("credential = %q, want the spec override where --templates has none", got)
	}

	s.TemplatesDir = "missing"
	if _, err := r.Render(s); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing templates_dir: %v", err)
	}
}
