package plan

import "testing"

func TestUnified(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "x\ny\n", "x\ny\n", ""},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"added at end", "a\n", "a\nb\n", "--- old\n+++ new\n@@ -1,1 +1,2 @@\n a\n+b\n"},
		{"from empty", "", "a\n", "--- old\n+++ new\n@@ -0,0 +1,1 @@\n+a\n"},
		{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\nX\n3\n4\n5\n6\n7\n8\nY\n10\n",
			"--- old\n+++ new\n@@ -1,3 +1,3 @@\n 1\n-2\n+X\n 3\n@@ -8,3 +8,3 @@\n 8\n-9\n+Y\n 10\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Unified("old", "new", tt.a, tt.b, 1); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestIndentXML(t *testing.T) {
	got := indentXML([]byte(`<?xml version='1.1' encoding='UTF-8'?><project a="1"><a>x &amp; y</a>  <b/>` +
		`<script>sh &#39;echo &quot;hi&quot;&#39;` + "\n" + `x &lt; y</script></project>`))
	want := "<project a=\"1\">\n  <a>x &amp; y</a>\n  <b/>\n  <script>sh 'echo \"hi\"'\nx &lt; y</script>\n</project>\n"
	if got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
}

func TestCompareConfigUnparsableIsAnUpdate(t *testing.T) {
	d, err := compareConfig("j", []byte("<project><oops></project>"), []byte("<project><a/></project>"), nil)
	if err != nil || d.same || d.oldRoot != d.newRoot || d.diff == "" {
		t.Errorf("got %+v, %v", d, err)
	}
}
