package jenkins

import (
	"os"
	"testing"
)

func TestNormalizeConfig(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty element forms", `<a><b></b><c/></a>`, `<a><b/><c/></a>`},
		{"declaration 1.1 dropped", "<?xml version='1.1' encoding='UTF-8'?>\n<a/>", `<a/>`},
		{"declaration 1.0 dropped", "\ufeff<?xml version=\"1.0\"?>\n<a/>\n", `<a/>`},
		{"plugin attributes dropped", `<a plugin="x@1.2"><b class="k" plugin="y@3">t</b></a>`, `<a><b class="k">t</b></a>`},
		{"indentation dropped", "<a>\n  <b>x</b>\n\t<c/>\n</a>", `<a><b>x</b><c/></a>`},
		{"leaf whitespace kept", `<a><b>  </b></a>`, `<a><b>  </b></a>`},
		{"text kept verbatim", "<a><s>echo 'x'\n  y  </s></a>", "<a><s>echo 'x'\n  y  </s></a>"},
		{"entities canonical", `<a t="&quot;&apos;"><s>&apos;&#39;&lt;&amp;</s></a>`, `<a t="&quot;'"><s>''&lt;&amp;</s></a>`},
		{"cdata is text", `<a><s><![CDATA[<x>]]></s></a>`, `<a><s>&lt;x&gt;</s></a>`},
		{"comments dropped", "<a>\n<!-- hi -->\n<b/><?pi x?></a>", `<a><b/></a>`},
		{"comment inside a value", "<a><s>x<!-- c -->y</s></a>", `<a><s>xy</s></a>`},
		{"attribute order kept", `<a z="1" b="2"/>`, `<a z="1" b="2"/>`},
		{"namespace prefix kept", `<a xmlns:p="u"><p:b/></a>`, `<a xmlns:p="u"><p:b/></a>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeConfig([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestNormalizeConfigErrors(t *testing.T) {
	for _, in := range []string{"", "<a>", "<a></b>", "<a/><b/>", "<a>&nbsp;</a>", "text"} {
		if out, err := NormalizeConfig([]byte(in)); err == nil {
			t.Errorf("NormalizeConfig(%q) = %q, want an error", in, out)
		}
	}
}

// What Jenkins stores (XML 1.1 declaration, plugin attributes, its own
// indentation and escaping) normalizes to the same bytes as what we render.
func TestNormalizeConfigSavedEqualsRendered(t *testing.T) {
	saved, err := os.ReadFile("testdata/freestyle-saved.xml")
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := os.ReadFile("testdata/freestyle-rendered.xml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := NormalizeConfig(saved)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NormalizeConfig(rendered)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Errorf("saved and rendered differ after normalizing:\n%s\n%s", a, b)
	}
	again, _ := NormalizeConfig(a)
	if string(again) != string(a) {
		t.Errorf("not idempotent:\n%s\n%s", a, again)
	}
}

func BenchmarkNormalizeConfig(b *testing.B) {
	data, err := os.ReadFile("testdata/freestyle-saved.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := NormalizeConfig(data); err != nil {
			b.Fatal(err)
		}
	}
}
