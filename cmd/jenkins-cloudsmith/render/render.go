// Package render implements `jenkins-cloudsmith render`: everything a
// user's Jenkins would run, written offline into a tree a person can read.
package render

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

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
}

// NewCmd returns the render command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "render -f SPEC -o DIR",
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
  jenkins-cloudsmith render -f jenkins-cloudsmith.yaml -o rendered/

  # One job's config.xml on stdout
  jenkins-cloudsmith render -f jenkins-cloudsmith.yaml --job team-a/build -o -

  # Regenerate the repository's vars/ shared library
  jenkins-cloudsmith render --vars-only -o .`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.file, "file", "f", "", "spec file")
	fl.StringVarP(&o.out, "output", "o", "", "directory to write into (- prints one job's config.xml)")
	fl.StringVar(&o.job, "job", "", "render only this job (full name, e.g. team-a/build)")
	fl.StringVar(&o.templates, "templates", "", "directory of template overrides (wins over the spec's templates_dir)")
	fl.StringVar(&o.library, "library", "", "shared library name the Jenkinsfiles load (name or name@version; default the spec's library.name, else "+engine.LibraryName+")")
	fl.BoolVar(&o.varsOnly, "vars-only", false, "write only DIR/vars/ (no spec needed)")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func run(f *cmdutil.Factory, o *options) error {
	r, err := engine.New(engine.Options{TemplatesDir: o.templates, Library: o.library})
	if err != nil {
		return err
	}
	if o.varsOnly {
		if o.out == "-" {
			return fmt.Errorf("--vars-only writes several files: give a directory with -o")
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
