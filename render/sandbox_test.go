package render

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// sandboxCalls maps every method vars/ calls to the script-security
// signatures that allow it in the Groovy sandbox (generic-whitelist, copied
// into testdata/script-security), or to "CpsWhitelist" for
// env.getProperty(name), which workflow-cps' CpsWhitelist.permitsMethod
// allows on EnvActionImpl. The library runs untrusted when the Jenkinsfile
// loads it with the library step (spec library.remote) or from a folder
// (pipeline-groovy-lib's LibraryStep and FolderLibraries.ForJob set
// trusted=false), so a call missing here would fail there with
// "Scripts not permitted to use ...".
var sandboxCalls = map[string][]string{
	"getProperty": {"CpsWhitelist"},
	"keySet":      {"method java.util.Map keySet"},
	"contains":    {"method java.util.Collection contains java.lang.Object", "method java.lang.String contains java.lang.CharSequence"},
	"valueOf":     {"staticMethod java.lang.String valueOf java.lang.Object"},
	"join":        {"staticMethod org.codehaus.groovy.runtime.DefaultGroovyMethods join java.lang.Iterable java.lang.String"},
	"toLowerCase": {"method java.lang.String toLowerCase"},
	"toUpperCase": {"method java.lang.String toUpperCase"},
	"matches":     {"method java.lang.String matches java.lang.String"},
	"get":         {"method java.util.Map get java.lang.Object", "method java.util.List get int"},
	"containsKey": {"method java.util.Map containsKey java.lang.Object"},
	"split":       {"method java.lang.String split java.lang.String"},
	"add":         {"method java.util.Collection add java.lang.Object"},
	"trim":        {"method java.lang.String trim"},
	"isEmpty":     {"method java.util.Collection isEmpty"},
	"put":         {"method java.util.Map put java.lang.Object java.lang.Object"},
	"indexOf":     {"method java.lang.String indexOf int"},
	"replace":     {"method java.lang.String replace java.lang.CharSequence java.lang.CharSequence"},
	"randomUUID":  {"staticMethod java.util.UUID randomUUID"},
	"toString":    {"method java.lang.Object toString"},
	"getClass":    {"method java.lang.Object getClass"},
	"getName":     {"method java.lang.Class getName"},
	"getMessage":  {"method java.lang.Throwable getMessage"},
	"readLines":   {"staticMethod org.codehaus.groovy.runtime.StringGroovyMethods readLines java.lang.String"},
	"startsWith":  {"method java.lang.String startsWith java.lang.String"},
	"endsWith":    {"method java.lang.String endsWith java.lang.String"},
	"substring":   {"method java.lang.String substring int", "method java.lang.String substring int int"},
	"length":      {"method java.lang.CharSequence length"},
}

// sandboxOperators are the operators vars/ uses that the sandbox turns into
// method calls ("a" + b, list + list, map + map).
var sandboxOperators = []string{
	"staticMethod org.codehaus.groovy.runtime.DefaultGroovyMethods plus java.lang.String java.lang.Object",
	"staticMethod org.codehaus.groovy.runtime.DefaultGroovyMethods plus java.util.List java.util.Collection",
	"staticMethod org.codehaus.groovy.runtime.DefaultGroovyMethods plus java.util.Map java.util.Map",
}

// pipelineSteps are the steps vars/ calls: steps are always allowed
// (the DSL's invokeMethod, CpsWhitelist).
var pipelineSteps = map[string]bool{"isUnix": true, "error": true, "sh": true, "bat": true, "withEnv": true,
	"withCredentials": true, "string": true, "file": true, "echo": true, "pwd": true, "body": true}

// forbidden are constructs the sandbox refuses or that have no place in
// the library: env[...] is DefaultGroovyMethods.getAt(Object, String),
// blacklisted since SECURITY-538.
var forbidden = []string{"env[", "env.get(", ".getAt(", "==~", "=~", "evaluate(", "Eval.", "new File", "System.",
	"Class.forName", ".execute(", "@Grab", "import ", ".metaClass", ".invokeMethod(", "Jenkins.", "new "}

func readLinesFile(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			out[l] = true
		}
	}
	return out
}

// code blanks a Groovy file's comments and string literals (keeping their
// length and newlines), leaving only the code whose calls the sandbox
// checks.
func code(src string) string {
	b := []byte(src)
	blank := func(i, j int) {
		for k := i; k < j && k < len(b); k++ {
			if b[k] != '\n' {
				b[k] = ' '
			}
		}
	}
	for i := 0; i < len(b); {
		switch {
		case strings.HasPrefix(string(b[i:]), "//"):
			j := strings.IndexByte(string(b[i:]), '\n')
			if j < 0 {
				j = len(b) - i
			}
			blank(i, i+j)
			i += j
		case strings.HasPrefix(string(b[i:]), "/*"):
			j := strings.Index(string(b[i+2:]), "*/") + 4
			blank(i, i+j)
			i += j
		case strings.HasPrefix(string(b[i:]), "'''"):
			j := strings.Index(string(b[i+3:]), "'''") + 6
			blank(i+1, i+j-1)
			i += j
		case b[i] == '\'' || b[i] == '"':
			q, j := b[i], i+1
			for j < len(b) && b[j] != q {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			blank(i+1, j)
			i = j + 1
		default:
			i++
		}
	}
	return string(b)
}

var (
	dotCall  = regexp.MustCompile(`(\w*)\s*\.\s*(\w+)\s*\(`)
	bareCall = regexp.MustCompile(`(^|[^.\w])(\w+)\s*\(`)
	defined  = regexp.MustCompile(`(?m)^(?:def|void|String|Map|List(?:<String>)?|boolean)\s+(\w+)\s*\(`)
)

// TestVarsSandboxCalls checks that every call in vars/ is one the Groovy
// sandbox allows, against the whitelists script-security ships, so the
// library works when loaded untrusted (spec library.remote).
func TestVarsSandboxCalls(t *testing.T) {
	whitelist := readLinesFile(t, filepath.Join("testdata", "script-security", "generic-whitelist"))
	blacklist := readLinesFile(t, filepath.Join("testdata", "script-security", "blacklist"))
	for _, sigs := range sandboxCalls {
		for _, sig := range append(sigs, sandboxOperators...) {
			if sig != "CpsWhitelist" && (!whitelist[sig] || blacklist[sig]) {
				t.Errorf("%s is not in script-security's generic-whitelist", sig)
			}
		}
	}
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	vars, err := r.Vars()
	if err != nil {
		t.Fatal(err)
	}
	// Methods defined by the library's own scripts are the sandboxed
	// script's own classes (ClassLoaderWhitelist).
	own := map[string]bool{"call": true}
	for name, b := range vars {
		if strings.HasSuffix(name, ".groovy") {
			for _, m := range defined.FindAllStringSubmatch(string(b), -1) {
				own[m[1]] = true
			}
		}
	}
	keywords := map[string]bool{"if": true, "for": true, "while": true, "catch": true, "switch": true, "return": true}
	var names []string
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.HasSuffix(name, ".groovy") {
			continue
		}
		c := code(string(vars[name]))
		for _, f := range forbidden {
			if i := strings.Index(c, f); i >= 0 {
				t.Errorf("vars/%s:%d uses %q, which the sandbox refuses or the library must not use", name, strings.Count(c[:i], "\n")+1, f)
			}
		}
		for _, m := range dotCall.FindAllStringSubmatchIndex(c, -1) {
			recv, method := c[m[2]:m[3]], c[m[4]:m[5]]
			line := strings.Count(c[:m[0]], "\n") + 1
			switch {
			case recv == "cloudsmithSupport" && own[method]:
			case recv == "env" && method != "getProperty":
				t.Errorf("vars/%s:%d: env.%s(...): read the environment with env.getProperty(name)", name, line, method)
			case sandboxCalls[method] == nil:
				t.Errorf("vars/%s:%d: %s.%s(...) is not a call known to be allowed by the sandbox: add its script-security signature to sandboxCalls, or avoid it", name, line, recv, method)
			}
		}
		for _, m := range bareCall.FindAllStringSubmatchIndex(c, -1) {
			fn := c[m[4]:m[5]]
			if !pipelineSteps[fn] && !own[fn] && !keywords[fn] {
				t.Errorf("vars/%s:%d: %s(...) is neither a pipeline step nor a method of the library", name, strings.Count(c[:m[0]], "\n")+1, fn)
			}
		}
	}
}

// TestBinarySnippetEmbeds: the download snippet is pasted verbatim into a
// Groovy ”' string by the vars/ steps, where a backslash would be an
// escape and ”' would end the string; and it is POSIX sh (dash -n).
func TestBinarySnippetEmbeds(t *testing.T) {
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.tmpl.ExecuteTemplate(&b, "cloudsmith.binary.sh", nil); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Contains(s, `\`) || strings.Contains(s, "'''") {
		t.Errorf("the snippet holds a backslash or ''', which a Groovy ''' string would change:\n%s", s)
	}
	p := filepath.Join(t.TempDir(), "snippet.sh")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	dash := needTool(t, "dash")
	if out, err := execCombined(dash, "-n", p); err != nil {
		t.Errorf("dash -n: %v\n%s", err, out)
	}
	vars, _ := r.Vars()
	if !strings.Contains(string(vars["cloudsmithSupport.groovy"]), s) {
		t.Errorf("cloudsmithSupport.groovy does not embed the snippet verbatim")
	}
}

// TestFormatNamesMatchBinary: the vars/ steps accept exactly the format
// names cloudsmith-oidc does (spec.Formats in any case, plus aliases).
func TestFormatNamesMatchBinary(t *testing.T) {
	for _, a := range pkgconfig.Aliases() {
		got, err := pkgconfig.ParseFormats(strings.ToUpper(a.Name))
		if err != nil || len(got) != 1 || string(got[0]) != a.Format {
			t.Errorf("binary reads %q as %v (%v), vars/ as %s", a.Name, got, err, a.Format)
		}
	}
	for _, f := range spec.Formats {
		if got, err := pkgconfig.ParseFormats(strings.ToUpper(f)); err != nil || string(got[0]) != f {
			t.Errorf("binary reads %q as %v (%v)", strings.ToUpper(f), got, err)
		}
	}
	for _, bad := range []string{"pypi", "conda"} {
		if _, err := pkgconfig.ParseFormats(bad); err == nil {
			t.Errorf("binary accepts %q, which vars/ refuses: add it to pkgconfig's table", bad)
		}
	}
}

func execCombined(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}
