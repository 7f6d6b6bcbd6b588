package render

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
)

func TestEscapers(t *testing.T) {
	tests := []struct {
		name    string
		fn      func(string) (string, error)
		in      string
		want    string
		wantErr string
	}{
		{"xml plain", escapeXML, "abc", "abc", ""},
		{"xml specials", escapeXML, `a<b & 'c' "d" ]]>`, `a&lt;b &amp; 'c' "d" ]]&gt;`, ""},
		{"xml entity stays text", escapeXML, "&amp;", "&amp;amp;", ""},
		{"xml CR", escapeXML, "a\r\nb\tc", "a&#xD;\nb\tc", ""},
		{"xml comment opener", escapeXML, "<!--", "&lt;!--", ""},
		{"xml control", escapeXML, "a\x01b", "", "U+0001"},
		{"xml FFFE", escapeXML, "a\uFFFEb", "", "U+FFFE"},
		{"xml bad utf8", escapeXML, "a\xffb", "", "invalid UTF-8"},
		{"xml astral", escapeXML, "😀", "😀", ""},
		{"xmlAttr", escapeXMLAttr, "a\"'\n\t<", "a&quot;&apos;&#xA;&#x9;&lt;", ""},
		{"groovy plain", quoteGroovy, "abc", "'abc'", ""},
		{"groovy quote", quoteGroovy, "it's", `'it\'s'`, ""},
		{"groovy triple", quoteGroovy, "'''", `'\'\'\''`, ""},
		{"groovy backslash then quote", quoteGroovy, `\'`, `'\\\''`, ""},
		{"groovy trailing backslash", quoteGroovy, `a\`, `'a\\'`, ""},
		{"groovy dollar inert", quoteGroovy, "${x} $y", "'${x} $y'", ""},
		{"groovy unicode escape text", quoteGroovy, `\u0027`, `'\\u0027'`, ""},
		{"groovy newlines", quoteGroovy, "a\nb\r\tc", `'a\nb\r\tc'`, ""},
		{"groovy control", quoteGroovy, "a\x00", "", "U+0000"},
		{"sh plain", quoteShell, "abc", "'abc'", ""},
		{"sh quote", quoteShell, "it's", `'it'\''s'`, ""},
		{"sh specials inert", quoteShell, "$(id) `id` \\ \"", "'$(id) `id` \\ \"'", ""},
		{"sh NUL", quoteShell, "a\x00", "", "NUL"},
		{"json", func(s string) (string, error) { return quoteJSON(s) }, "<a href=\"x\">&</a>", `"\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fn(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestXMLRoundTrip checks that what xml/xmlAttr write decodes back to the
// input with encoding/xml, for text and attributes.
func TestXMLRoundTrip(t *testing.T) {
	for _, v := range hostileValues {
		text, err := escapeXML(v)
		if err != nil {
			t.Fatalf("%.40q: %v", v, err)
		}
		attr, err := escapeXMLAttr(v)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			A    string `xml:"a,attr"`
			Text string `xml:",chardata"`
		}
		if err := xml.Unmarshal([]byte(`<e a="`+attr+`">`+text+`</e>`), &doc); err != nil {
			t.Fatalf("%.40q: %v", v, err)
		}
		if doc.Text != v || doc.A != v {
			t.Errorf("%.40q: text %.40q attr %.40q", v, doc.Text, doc.A)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, v := range hostileValues {
		q, err := quoteJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		var back string
		if err := json.Unmarshal([]byte(q), &back); err != nil || back != v {
			t.Errorf("%.40q: %v %.40q", v, err, back)
		}
	}
}

func TestGroovyList(t *testing.T) {
	got, err := quoteGroovyList([]string{"a", "b'c"})
	if err != nil || got != `['a', 'b\'c']` {
		t.Fatalf("got %s, %v", got, err)
	}
}
