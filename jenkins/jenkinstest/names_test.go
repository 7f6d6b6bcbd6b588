package jenkinstest

import (
	"strings"
	"testing"
)

func TestRawEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain-name_1.0", "plain-name_1.0"},
		{"at the top", "at%20the%20top"},
		{"café", "caf%C3%A9"},
		{"a+b=c@d!$&'()*,", "a+b=c@d!$&'()*,"},
		{`"#%/:;<>?[\]^` + "`{|}~", "%22%23%25%2F%3A%3B%3C%3E%3F%5B%5C%5D%5E%60%7B%7C%7D%7E"},
	}
	for _, tt := range tests {
		if got := rawEncode(tt.in); got != tt.want {
			t.Errorf("rawEncode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckGoodName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ok name", ""},
		{"", "No name is specified"},
		{" . ", "“.” is not allowed name"},
		{"a\tb", `No control code is allowed: a\u9;b`},
		{"a:b", "‘:’ is an unsafe character"},
		{"end.", "A name cannot end with ‘.’"},
	}
	for _, tt := range tests {
		if got := checkGoodName(tt.in); got != tt.want {
			t.Errorf("checkGoodName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitPath(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"/", "", false},
		{"/job/a%20b/job/c+d/", "job|a b|job|c+d", false},
		{"/job/a%2Fb/", "", true},
		{"//api/json", "", true},
		{"/job/%ZZ", "", true},
	}
	for _, tt := range tests {
		got, err := splitPath(tt.in)
		if (err != nil) != tt.wantErr || strings.Join(got, "|") != tt.want {
			t.Errorf("splitPath(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestTreeAndDepth(t *testing.T) {
	leaf := newNode("L").addVis("name", 2, "x").add("hidden", 1)
	root := newNode("R").add("a", 1).add("items", []*node{leaf, leaf, leaf}).add("obj", newNode("").add("k", "v"))
	tests := []struct {
		tree  string
		depth int
		want  string
	}{
		{"", 0, `{"_class":"R","a":1,"items":[{"_class":"L","name":"x"},{"_class":"L","name":"x"},{"_class":"L","name":"x"}],"obj":{}}`},
		{"", 1, `{"_class":"R","a":1,"items":[{"_class":"L","name":"x","hidden":1},{"_class":"L","name":"x","hidden":1},{"_class":"L","name":"x","hidden":1}],"obj":{"k":"v"}}`},
		{"items[hidden]{1,2}", 0, `{"_class":"R","items":[{"_class":"L","hidden":1}]}`},
		{"items{2}", 0, `{"_class":"R","items":[{"_class":"L"},{"_class":"L"}]}`},
		{"a,obj[k]", 0, `{"_class":"R","a":1,"obj":{"k":"v"}}`},
	}
	for _, tt := range tests {
		var sels []treeSel
		if tt.tree != "" {
			var err error
			if sels, err = parseTree(tt.tree); err != nil {
				t.Fatal(err)
			}
		}
		if got := string(renderJSON(root, tt.depth, sels)); got != tt.want {
			t.Errorf("tree %q depth %d:\n got %s\nwant %s", tt.tree, tt.depth, got, tt.want)
		}
	}
	for _, bad := range []string{"jobs[name", "jobs{1", "x{a,b}"} {
		if _, err := parseTree(bad); err == nil {
			t.Errorf("parseTree(%q) accepted", bad)
		}
	}
}

func TestXStreamRewrite(t *testing.T) {
	in := `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<flow-definition plugin="workflow-job@1.0">
  <description/>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition">
    <script>sh 'echo "a&lt;b"'</script>
  </definition>
  <properties/>
</flow-definition>`
	dom, err := parseXML([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := string(xstreamXML(dom, map[string]string{"workflow-job": "9", "workflow-cps": "8"}))
	want := `<?xml version='1.1' encoding='UTF-8'?>
<flow-definition plugin="workflow-job@9">
  <description></description>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition" plugin="workflow-cps@8">
    <script>sh &apos;echo &quot;a&lt;b&quot;&apos;</script>
  </definition>
  <properties/>
</flow-definition>
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, err := parseXML([]byte(got)); err != nil {
		t.Errorf("own output does not parse: %v", err)
	}
	for _, bad := range []string{"", "<a>", "<a/><b/>", `<!DOCTYPE x [<!ENTITY e "x">]><a/>`, `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`} {
		if _, err := parseXML([]byte(bad)); err == nil {
			t.Errorf("parseXML(%q) accepted", bad)
		}
	}
}
