package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/Masterminds/sprig/v3"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/templates"
)

// LibraryName is the default Global Pipeline Library name the generated
// Jenkinsfiles load the vars/ steps under.
const LibraryName = "jenkins-cloudsmith"

// Template names (paths relative to the templates directory).
const (
	tmplFreestyleXML   = "job/freestyle.xml.tmpl"
	tmplFreestyleShell = "job/freestyle.sh.tmpl"
	tmplPipelineXML    = "job/pipeline.xml.tmpl"
	tmplJenkinsfile    = "job/Jenkinsfile.tmpl"
	tmplSeed           = "job/seed.Jenkinsfile.tmpl"
	tmplFolderXML      = "folder.xml.tmpl"
	tmplCredentialJSON = "credential/credential.json.tmpl"
	tmplCredentialXML  = "credential/credential.xml.tmpl"
	varsDir            = "vars/"
	tmplExt            = ".tmpl"
)

// Options configure a Renderer.
type Options struct {
	// TemplatesDir overrides embedded templates file by file (the CLI's
	// --templates). It wins over the spec's templates_dir.
	TemplatesDir string
	// Library is the shared-library name the Jenkinsfiles load; empty
	// means the spec's library.name, else LibraryName.
	Library string
}

// Renderer renders specs. It is safe for concurrent use.
type Renderer struct {
	opts    Options
	libSet  bool
	sources []source
	tmpl    *template.Template
}

// source is one template file's text and where it came from.
type source struct {
	name, origin, text string
}

// New parses the embedded templates, overridden by opts.TemplatesDir.
func New(opts Options) (*Renderer, error) {
	libSet := opts.Library != ""
	if opts.Library == "" {
		opts.Library = LibraryName
	}
	srcs, err := embedded()
	if err != nil {
		return nil, err
	}
	if opts.TemplatesDir != "" {
		if srcs, err = overlay(srcs, opts.TemplatesDir); err != nil {
			return nil, err
		}
	}
	t, err := parseAll(srcs)
	if err != nil {
		return nil, err
	}
	return &Renderer{opts: opts, libSet: libSet, sources: srcs, tmpl: t}, nil
}

func embedded() ([]source, error) {
	var srcs []source
	err := fs.WalkDir(templates.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, tmplExt) {
			return err
		}
		b, err := fs.ReadFile(templates.FS(), p)
		if err != nil {
			return err
		}
		srcs = append(srcs, source{name: p, origin: "templates/" + p, text: string(b)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading embedded templates: %w", err)
	}
	return srcs, nil
}

// overlay replaces each source that has a file at the same relative path
// under dir. A *.tmpl file there that matches no template is an error (a
// misspelt override would otherwise be silently ignored).
func overlay(srcs []source, dir string) ([]source, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("templates directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("templates directory %s is not a directory", dir)
	}
	index := make(map[string]int, len(srcs))
	for i, s := range srcs {
		index[s.name] = i
	}
	out := append([]source(nil), srcs...)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, tmplExt) {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		i, ok := index[name]
		if !ok {
			return fmt.Errorf("%s: no template is named %s (templates that can be overridden: %s)",
				p, name, strings.Join(names(srcs), ", "))
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[i] = source{name: name, origin: p, text: string(b)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("templates directory %s: %w", dir, err)
	}
	return out, nil
}

func names(srcs []source) []string {
	n := make([]string, len(srcs))
	for i, s := range srcs {
		n[i] = s.name
	}
	sort.Strings(n)
	return n
}

// funcs is sprig's hermetic set (templates cannot read the environment,
// the clock or randomness) plus the escapers.
func funcs() template.FuncMap {
	m := sprig.HermeticTxtFuncMap()
	for k, v := range escapers {
		m[k] = v
	}
	return m
}

// parseAll parses every source into one set (so {{define}} blocks are
// shared) and checks that each prints values only through an escaper.
func parseAll(srcs []source) (*template.Template, error) {
	root := template.New("").Funcs(funcs()).Option("missingkey=error")
	for _, s := range srcs {
		if _, err := root.New(s.name).Parse(s.text); err != nil {
			return nil, fmt.Errorf("template %s does not parse: %w", s.origin, err)
		}
	}
	origin := make(map[string]string, len(srcs))
	for _, s := range srcs {
		origin[s.name] = s.origin
	}
	for _, t := range root.Templates() {
		if t.Tree == nil {
			continue
		}
		if err := checkEscaped(t.Tree.Root); err != nil {
			return nil, fmt.Errorf("template %s: %w", origin[t.ParseName], err)
		}
	}
	return root, nil
}

// checkEscaped reports an output action whose pipeline does not end in
// one of the escapers: every printed value must be escaped for where it
// lands. Assignments ({{ $x := ... }}) print nothing and are allowed.
func checkEscaped(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkEscaped(c); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 {
			return nil
		}
		cmds := n.Pipe.Cmds
		if len(cmds) > 0 {
			if id, ok := cmds[len(cmds)-1].Args[0].(*parse.IdentifierNode); ok {
				if _, ok := escapers[id.Ident]; ok {
					return nil
				}
			}
		}
		return fmt.Errorf("line %d: %s prints a value without escaping it: end the pipeline with one of %s",
			lineOf(n), n, strings.Join(escaperNames(), ", "))
	case *parse.IfNode:
		return checkBranch(&n.BranchNode)
	case *parse.RangeNode:
		return checkBranch(&n.BranchNode)
	case *parse.WithNode:
		return checkBranch(&n.BranchNode)
	}
	return nil
}

func checkBranch(b *parse.BranchNode) error {
	if err := checkEscaped(b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return checkEscaped(b.ElseList)
	}
	return nil
}

func lineOf(n *parse.ActionNode) int { return n.Line }

func escaperNames() []string {
	n := make([]string, 0, len(escapers))
	for k := range escapers {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Output is everything rendered from one spec.
type Output struct {
	// Folders to create, parents first.
	Folders []Folder
	// Jobs in spec order, the seed job last.
	Jobs []Job
	// Credential is the OIDC credential's payloads.
	Credential Credential
	// Vars maps a vars/ file name ("withCloudsmith.groovy") to its content.
	Vars map[string][]byte
}

// Folder is one managed folder.
type Folder struct {
	// Path is the folder's full name, '/'-separated.
	Path      string
	ConfigXML []byte
}

// Job is one managed job.
type Job struct {
	// Name is the full name, '/'-separated.
	Name string
	// Type is spec.Freestyle or spec.Pipeline.
	Type      string
	ConfigXML []byte
	// Jenkinsfile is the pipeline's script (also embedded in ConfigXML
	// for an inline pipeline; the file to commit at scriptPath for an SCM
	// one); nil for freestyle jobs.
	Jenkinsfile []byte
}

// Credential holds the OIDC credential's payloads.
type Credential struct {
	// FormJSON is the value of the "json" form field for createCredentials
	// and updateSubmit (the path on which Jenkins generates the key).
	FormJSON []byte
	// XML is the credential as Jenkins stores it, without a key: for
	// reading and comparing only.
	XML []byte
}

// Render renders everything for s. A spec templates_dir (relative to the
// spec file) overrides the embedded templates; Options.TemplatesDir wins
// over both.
func (r *Renderer) Render(s *spec.Spec) (*Output, error) {
	if s == nil {
		return nil, errors.New("render: no spec")
	}
	t, err := r.templatesFor(s)
	if err != nil {
		return nil, err
	}
	out := &Output{}
	ren := renderer{t: t, lib: r.opts.Library, libSet: r.libSet}
	// Jobs are independent and template execution is CPU work: render
	// them on every CPU, reporting the first failure in spec order.
	out.Jobs = make([]Job, len(s.Jobs))
	errs := forEach(len(s.Jobs), runtime.GOMAXPROCS(0), func(i int) (err error) {
		out.Jobs[i], err = ren.job(s, s.Jobs[i])
		return err
	})
	var jobNames []string
	for i, j := range s.Jobs {
		if errs[i] != nil {
			return nil, fmt.Errorf("job %q: %w", j.Name, errs[i])
		}
		jobNames = append(jobNames, j.Name)
	}
	if s.Seed != nil {
		job, err := ren.seed(s)
		if err != nil {
			return nil, fmt.Errorf("seed job %q: %w", s.Seed.Name, err)
		}
		out.Jobs = append(out.Jobs, job)
		jobNames = append(jobNames, s.Seed.Name)
	}
	for _, p := range folderPaths(s.OIDC.Folder, jobNames) {
		b, err := ren.exec(tmplFolderXML, folderView{Path: p, Description: Marker(s.Identity())})
		if err != nil {
			return nil, fmt.Errorf("folder %q: %w", p, err)
		}
		out.Folders = append(out.Folders, Folder{Path: p, ConfigXML: b})
	}
	if out.Credential, err = ren.credential(s); err != nil {
		return nil, fmt.Errorf("OIDC credential %q: %w", s.OIDC.Credential, err)
	}
	if out.Vars, err = ren.vars(); err != nil {
		return nil, err
	}
	return out, nil
}

// Vars renders only the vars/ shared-library steps (which take every
// setting as an argument, so they need no spec).
func (r *Renderer) Vars() (map[string][]byte, error) {
	return renderer{t: r.tmpl, lib: r.opts.Library}.vars()
}

func (r *Renderer) templatesFor(s *spec.Spec) (*template.Template, error) {
	if s.TemplatesDir == "" {
		return r.tmpl, nil
	}
	dir := s.TemplatesDir
	if !filepath.IsAbs(dir) && s.File != "" {
		dir = filepath.Join(filepath.Dir(s.File), dir)
	}
	srcs, err := embedded()
	if err != nil {
		return nil, err
	}
	if srcs, err = overlay(srcs, dir); err != nil {
		return nil, err
	}
	if r.opts.TemplatesDir != "" {
		if srcs, err = overlay(srcs, r.opts.TemplatesDir); err != nil {
			return nil, err
		}
	}
	return parseAll(srcs)
}

// folderPaths lists every folder the jobs (and the credential's store)
// live in, each parent before its children, in order of first use.
func folderPaths(credFolder string, jobs []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		segs := strings.Split(p, "/")
		for i := 1; i <= len(segs); i++ {
			f := strings.Join(segs[:i], "/")
			if f != "" && !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	if credFolder != "" {
		add(strings.Trim(credFolder, "/"))
	}
	for _, j := range jobs {
		if dir := path.Dir(j); dir != "." {
			add(dir)
		}
	}
	return out
}

// renderer executes one parsed template set.
type renderer struct {
	t   *template.Template
	lib string
	// libSet says the Library option was given, so it wins over the
	// spec's library.name.
	libSet bool
}

func (r renderer) exec(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := r.t.ExecuteTemplate(&b, name, data); err != nil {
		return nil, friendly(err)
	}
	return b.Bytes(), nil
}

// friendly turns text/template's "template: NAME:LINE:COL: executing ...
// at <fn>: error calling fn: MSG" into "MSG (in NAME:LINE:COL)".
func friendly(err error) error {
	var ee template.ExecError
	if !errors.As(err, &ee) {
		return err
	}
	msg := ee.Err.Error()
	i := strings.Index(msg, "error calling ")
	if i < 0 {
		return err
	}
	j := strings.Index(msg[i:], ": ")
	if j < 0 {
		return err
	}
	where := strings.TrimPrefix(msg[:i], "template: ")
	if k := strings.Index(where, ": executing"); k >= 0 {
		where = where[:k]
	}
	return fmt.Errorf("%s (in %s)", msg[i+j+2:], where)
}
