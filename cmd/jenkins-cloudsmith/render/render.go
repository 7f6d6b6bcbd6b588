// Package render implements `jenkins-cloudsmith render`: everything a
// user's Jenkins would run, written offline into a tree a person can read.
package render

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdflags"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	engine "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

type options struct {
	file      string
	out       string
	job       string
	templates string
	library   string
	varsOnly  bool
	// legacyOut is the deprecated -o/--output DIR.
	legacyOut string
}

// NewCmd returns the render command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "render -f SPEC --out DIR",
		Short: "Write the job configs, Jenkinsfiles, credential payloads and vars/ a spec produces",
		Long: `Render writes, without contacting Jenkins, everything apply would send:

  DIR/jobs/<folder>/.../<job>/config.xml   (+ Jenkinsfile for pipeline jobs)
  DIR/folders/<folder>/.../config.xml
  DIR/credential/credential.json           (the createCredentials form; Jenkins generates the key)
  DIR/credential/credential.xml            (the stored shape, without a key: for reading)
  DIR/vars/*.groovy, *.txt                 (the shared-library steps)

Each file is replaced atomically. Templates come from the binary; the spec's
templates_dir or --templates DIR replaces any of them file by file (same
relative path, e.g. job/freestyle.xml.tmpl). Secrets are not read.

--vars-only writes just DIR/vars/ and needs no spec: that is how this
repository's committed vars/ is generated (go generate ./render/).`,
		Example: `  # Everything, to read or diff
  jenkins-cloudsmith render -f jenkins-cloudsmith.yaml --out rendered/

  # One job's config.xml on stdout
  jenkins-cloudsmith render -f jenkins-cloudsmith.yaml --job team-a/build --out -

  # Regenerate the repository's vars/ shared library
  jenkins-cloudsmith render --vars-only --out .`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(f, o)
		},
	}
	fl := cmd.Flags()
	// -f defaults as in every command; the directory is --out, as for
	// discovery export and rotate (-o is an output format everywhere
	// else, so render's old -o DIR is kept only as a deprecated alias).
	cmdflags.AddFileFlag(cmd, &o.file)
	fl.StringVar(&o.out, "out", "", "directory to write into (- prints one job's config.xml)")
	fl.StringVarP(&o.legacyOut, "output", "o", "", "deprecated: use --out")
	// Hidden rather than cobra-deprecated: cobra's notice would go to
	// stdout, into "-o -"'s config.xml. run says it on stderr.
	_ = fl.MarkHidden("output")
	fl.StringVar(&o.job, "job", "", "render only this job (full name, e.g. team-a/build)")
	fl.StringVar(&o.templates, "templates", "", "directory of template overrides (wins over the spec's templates_dir)")
	fl.StringVar(&o.library, "library", "", "shared library name the Jenkinsfiles load (name or name@version; default the spec's library.name, else "+engine.LibraryName+")")
	fl.BoolVar(&o.varsOnly, "vars-only", false, "write only DIR/vars/ (no spec needed)")
	return cmd
}

func run(f *cmdutil.Factory, o *options) error {
	switch {
	case o.out == "" && o.legacyOut != "":
		o.out = o.legacyOut
		fmt.Fprintln(f.IO.ErrOut, "note: render's -o DIR is deprecated: use --out DIR (-o is the output format, text or json, in the other commands)")
	case o.out == "":
		return fmt.Errorf("--out DIR is required: the directory to write into (- prints one job's config.xml)")
	case o.legacyOut != "" && o.legacyOut != o.out:
		return fmt.Errorf("--out %s and the deprecated -o %s disagree: give --out only", o.out, o.legacyOut)
	}
	r, err := engine.New(engine.Options{TemplatesDir: o.templates, Library: o.library})
	if err != nil {
		return err
	}
	if o.varsOnly {
		if o.out == "-" {
			return fmt.Errorf("--vars-only writes several files: give a directory with --out")
		}
		vars, err := r.Vars()
		if err != nil {
			return err
		}
		out := &engine.Output{Vars: vars}
		if err := out.WriteTree(o.out); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "wrote %d files to %s\n", len(vars), filepath.Join(o.out, "vars"))
		return nil
	}
	if o.file == "" {
		return fmt.Errorf("-f SPEC is required (or --vars-only)")
	}
	// Rendering never needs a secret: Offline checks ${VAR} references
	// without reading them.
	s, err := spec.LoadWith(o.file, f.IO.Getenv, spec.Options{Offline: true})
	if err != nil {
		return err
	}
	out, err := r.Render(s)
	if err != nil {
		return fmt.Errorf("%s: %w", o.file, err)
	}
	if o.job != "" {
		if err := keepJob(out, o.job); err != nil {
			return err
		}
	}
	if o.out == "-" {
		if len(out.Jobs) != 1 {
			return fmt.Errorf("-o - prints one job's config.xml: choose it with --job (the spec has %d jobs)", len(out.Jobs))
		}
		_, err := f.IO.Out.Write(out.Jobs[0].ConfigXML)
		return err
	}
	if err := out.WriteTree(o.out); err != nil {
		return err
	}
	files, _ := out.Files()
	fmt.Fprintf(f.IO.ErrOut, "wrote %d files (%d jobs, %d folders) to %s\n", len(files), len(out.Jobs), len(out.Folders), o.out)
	return nil
}

// keepJob narrows out to one job and the folders it lives in.
func keepJob(out *engine.Output, name string) error {
	var names []string
	for _, j := range out.Jobs {
		if j.Name == name {
			out.Jobs = []engine.Job{j}
			var folders []engine.Folder
			for _, fo := range out.Folders {
				if strings.HasPrefix(name, fo.Path+"/") {
					folders = append(folders, fo)
				}
			}
			out.Folders = folders
			return nil
		}
		names = append(names, j.Name)
	}
	sort.Strings(names)
	return fmt.Errorf("no job %q in the spec (jobs: %s)", name, strings.Join(names, ", "))
}
