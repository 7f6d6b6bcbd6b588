package depcheck

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc"

// commands is where the jenkins-cloudsmith commands live, one package
// each; root wires them together and nothing else may import them.
const commands = module + "/cmd/jenkins-cloudsmith/"

// rule forbids packages matching from importing packages matching to,
// directly; except lists importers the rule does not apply to.
type rule struct {
	why      string
	from, to func(pkg string) bool
	except   []string
}

func under(prefixes ...string) func(string) bool {
	return func(pkg string) bool {
		for _, p := range prefixes {
			full := module + "/" + p
			if pkg == full || strings.HasPrefix(pkg, full+"/") {
				return true
			}
		}
		return false
	}
}

func exactly(pkgs ...string) func(string) bool {
	return func(pkg string) bool {
		for _, p := range pkgs {
			if pkg == p || pkg == module+"/"+p {
				return true
			}
		}
		return false
	}
}

func isCommand(pkg string) bool {
	return strings.HasPrefix(pkg, commands) && !strings.Contains(strings.TrimPrefix(pkg, commands), "/internal")
}

func not(f func(string) bool) func(string) bool { return func(p string) bool { return !f(p) } }

var rules = []rule{
	{
		why:  "commands stay thin and share library packages, never each other (root only wires them)",
		from: isCommand, to: isCommand,
		except: []string{commands + "root"},
	},
	{
		why:  "library packages are what commands call; they never call a command",
		from: not(under("cmd", "bench")), to: under("cmd"),
	},
	{
		why:  "the Jenkins client and emulator know Jenkins, not the spec or the workflows (URL helpers live in internal/jenkinsurl)",
		from: under("jenkins"), to: under("spec", "render", "plan", "apply", "trust", "connect"),
	},
	{
		why:  "the spec is data: reading it needs no client and no network",
		from: under("spec"),
		to:   exactly("context", "net/http", module+"/jenkins", module+"/cloudsmith", module+"/internal/httpx", module+"/connect"),
	},
	{
		why:  "the emulators are independent checks of the product: they never import its clients or workflows",
		from: under("jenkins/jenkinstest", "cloudsmith/cloudsmithtest"),
		to: func(p string) bool {
			return under("jenkins", "cloudsmith", "spec", "render", "plan", "apply", "trust", "connect")(p) &&
				!under("jenkins/jenkinstest", "cloudsmith/cloudsmithtest")(p)
		},
	},
	{
		why:  "only the jenkins-cloudsmith command layer uses cobra (cloudsmith-oidc stays small)",
		from: not(under("cmd/jenkins-cloudsmith", "internal/cmdflags", "trust/trusttest")), to: exactly("github.com/spf13/cobra"),
	},
}

// TestLayering fails when a package imports what its layer must not.
func TestLayering(t *testing.T) {
	for _, v := range violations(moduleImports(t)) {
		t.Error(v)
	}
}

// TestRulesBite: the rules catch the imports the layering forbids (the
// Jenkins client importing the spec, a command importing another), so a
// loosened rule cannot pass unnoticed.
func TestRulesBite(t *testing.T) {
	for _, tt := range []struct {
		pkg, imp string
		bad      bool
	}{
		{module + "/jenkins", module + "/spec", true},
		{module + "/jenkins/jenkinstest", module + "/plan", true},
		{commands + "doctor", commands + "discovery", true},
		{commands + "apply", commands + "plan", true},
		{module + "/trust", commands + "doctor", true},
		{module + "/spec", module + "/connect", true},
		{module + "/cloudsmith/cloudsmithtest", module + "/cloudsmith", true},
		{commands + "root", commands + "doctor", false},
		{commands + "doctor", module + "/trust", false},
		{module + "/jenkins", module + "/internal/jenkinsurl", false},
	} {
		got := len(violations(map[string][]string{tt.pkg: {tt.imp}})) > 0
		if got != tt.bad {
			t.Errorf("%s importing %s: flagged = %v, want %v", short(tt.pkg), short(tt.imp), got, tt.bad)
		}
	}
}

// violations lists every import of imports (package to what it imports)
// that a rule forbids.
func violations(imports map[string][]string) []string {
	var out []string
	for pkg, imps := range imports {
		for _, r := range rules {
			if !r.from(pkg) || slices.Contains(r.except, pkg) {
				continue
			}
			for _, imp := range imps {
				if r.to(imp) && imp != pkg && !isSubtest(pkg, imp) {
					out = append(out, fmt.Sprintf("%s imports %s: %s", short(pkg), short(imp), r.why))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// moduleImports maps each package of the module to what its non-test
// files import. It parses the files itself rather than run go list, so
// the test cache sees every file it read and never hides a new import.
func moduleImports(t *testing.T) map[string][]string {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	imports := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := module
		if rel != "." {
			pkg += "/" + filepath.ToSlash(rel)
		}
		for _, is := range f.Imports {
			imp, _ := strconv.Unquote(is.Path.Value)
			if !slices.Contains(imports[pkg], imp) {
				imports[pkg] = append(imports[pkg], imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 10 {
		t.Fatalf("found only %d packages under %s", len(imports), root)
	}
	return imports
}

// isSubtest allows an emulator package to import its own subpackages.
func isSubtest(pkg, imp string) bool { return strings.HasPrefix(imp, pkg+"/") }

func short(pkg string) string {
	if rel, ok := strings.CutPrefix(pkg, module+"/"); ok {
		return rel
	}
	return path.Clean(pkg)
}
