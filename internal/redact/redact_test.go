package redact

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriterMasksAcrossSplits(t *testing.T) {
	const secret = "s3cr3t-TOKEN"
	tests := []struct {
		name    string
		secrets []string
		chunks  []string
		want    string
	}{
		{"whole", []string{secret}, []string{"a s3cr3t-TOKEN b"}, "a **** b"},
		{"split in two", []string{secret}, []string{"a s3cr", "3t-TOKEN b"}, "a **** b"},
		{"byte by byte", []string{secret}, strings.Split("xs3cr3t-TOKENy", ""), "x****y"},
		{"prefix only then other", []string{secret}, []string{"s3cr", "ap"}, "s3crap"},
		{"twice", []string{secret}, []string{secret + secret}, "********"},
		{"at end held back then flushed", []string{secret}, []string{"tail s3cr3t"}, "tail s3cr3t"},
		{"longest wins", []string{"abc", "abcdef"}, []string{"xabcdefx"}, "x****x"},
		{"empty secret ignored", []string{""}, []string{"plain"}, "plain"},
		{"overlapping start", []string{"aab"}, []string{"aaab"}, "a****"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewWriter(&out, tt.secrets...)
			for _, c := range tt.chunks {
				if _, err := w.Write([]byte(c)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	if got := String("Authorization: tok tok", "tok"); got != "Authorization: **** ****" {
		t.Errorf("got %q", got)
	}
}

func FuzzWriter(f *testing.F) {
	f.Add("hello secret world", "secret", 3)
	f.Fuzz(func(t *testing.T, text, secret string, split int) {
		if secret == "" {
			return
		}
		var out bytes.Buffer
		w := NewWriter(&out, secret)
		if split < 0 {
			split = -split
		}
		if split > len(text) {
			split = len(text)
		}
		_, _ = w.Write([]byte(text[:split]))
		_, _ = w.Write([]byte(text[split:]))
		_ = w.Close()
		if strings.Contains(text, secret) && strings.Contains(out.String(), secret) {
			// A masked run can only re-form the secret if the secret is made
			// of mask characters, which is not a secret worth the name.
			if !strings.Contains(secret, "*") {
				t.Fatalf("secret survived: %q -> %q", text, out.String())
			}
		}
	})
}

func TestJWTs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"no token here: a.b.c", "no token here: a.b.c"},
		{`got "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_x" as an argument`, `got "****" as an argument`},
		{"unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. too", "unsigned **** too"},
	}
	for _, tt := range tests {
		if got := JWTs(tt.in); got != tt.want {
			t.Errorf("JWTs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
