package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: no input makes Parse panic, and every rejection is a
// positioned Errors with a fix. `go test` runs the seeds only; fuzz with
// go test -run '^$' -fuzz FuzzParse -fuzztime 60s ./spec/
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		base, "", "---", "- a", "a: *b", "&a [*a]", "version: 1\njobs: [{name: x, type: pipeline, scm: {url: ''}}]",
		"\xEF\xBB\xBF" + base, strings.ReplaceAll(base, "  ", "\t"), "{", "? [a]\n: b", "<<: {a: 1}",
		"jobs:\n  - name: a/b\n  - name: a\n", "version: 0x1", "oidc: {folder: 'a/../b'}", "\x00",
		"a: &a [x, x]\nb: [*a, *a]\n", "jenkins: !!binary aGVsbG8=", "binary: {url: 'http://[::1', sha256: x}",
	} {
		f.Add([]byte(s))
	}
	env := func(k string) string {
		if k == "EMPTY" {
			return ""
		}
		return "v-" + k
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data, env)
		if err == nil {
			if s == nil || s.OIDC.Kind == "" {
				t.Fatalf("accepted without defaults: %+v", s)
			}
			_ = s.IssuerURL()
			_ = s.Folders()
			for _, j := range s.Jobs {
				_, _ = j.Folder(), j.Base()
			}
			return
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("error is not spec.Errors: %v", err)
		}
		for _, e := range es {
			if e.Pos.Line < 1 || e.Pos.Column < 1 || e.Hint == "" || e.Msg == "" {
				t.Fatalf("bad error: %#v", e)
			}
		}
	})
}
