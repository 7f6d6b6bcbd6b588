package depcheck

import (
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
		why:    "the emulators are independent checks of the product: they never import its clients or workflows",
		from:   under("jenkins/jenkinstest", "cloudsmith/cloudsmithtest"),
		to:     under("jenkins", "cloudsmith", "spec", "render", "plan", "apply", "trust"),
		except: []string{module + "/jenkins/jenkinstest", module + "/cloudsmith/cloudsmithtest"},
	},
	{
		why:  "only the jenkins-cloudsmith command layer uses cobra (cloudsmith-oidc stays small)",
		from: not(under("cmd/jenkins-cloudsmith", "internal/cmdflags", "trust/trusttest")), to: exactly("github.com/spf13/cobra"),
	},
}

// TestLayering fails when a package imports what its layer must not.
func TestLayering(t *testing.T) {
	for pkg, imports := range moduleImports(t) {
		for _, r := range rules {
			if !r.from(pkg) || slices.Contains(r.except, pkg) {
				continue
			}
			for _, imp := range imports {
				if r.to(imp) && imp != pkg && !isSubtest(pkg, imp) {
					t.Errorf("%s imports %s: %s", short(pkg), short(imp), r.why)
				}
			}
		}
	}
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
