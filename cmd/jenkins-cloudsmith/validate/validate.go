// Package validate implements `jenkins-cloudsmith validate`: check a spec
// file offline and report every problem at once, each with file:line:col
// and a fix, for people (text) and scripts (--output json).
package validate

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdflags"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

type options struct {
	file    string
	output  string
	offline bool
}

// NewCmd returns the validate command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &options{}
	cmd := &cobra.Command{
		Use:   "validate -f SPEC",
		Short: "Check a spec file and report every problem with file:line:col",
		Long: `Validate parses the spec strictly (unknown or duplicate keys, wrong types,
Jenkins naming rules, URL and issuer rules, secrets only as ${VAR}) and reports
every problem at once, one per line as file:line:col: message (fix: ...).
Nothing is contacted. Secrets must be exported unless --offline is given.
Exit status: 0 valid, 1 invalid or unreadable.`,
		Example: `  # Check a spec; its ${VAR} secrets must be set
  export JENKINS_API_TOKEN=...
  jenkins-cloudsmith validate -f jenkins-cloudsmith.yaml

  # Check the file alone (CI without secrets): ${VAR}s are checked, not read
  jenkins-cloudsmith validate --offline -f jenkins-cloudsmith.yaml

  # For scripts: one JSON object on stdout
  jenkins-cloudsmith validate -f spec.yaml --output json | jq -r '.errors[] | "\(.line): \(.message)"'

  # From stdin
  cat spec.yaml | jenkins-cloudsmith validate -f -`,
		Args: cobra.NoArgs,
		// Problems are the output: no usage dump after them.
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cmdutil.CheckOutput(opts.output); err != nil {
				return err
			}
			return run(f, opts)
		},
	}
	// -f and -o mean what they mean in every command (cmdflags), with
	// "-" for stdin on top.
	cmdflags.AddFileFlag(cmd, &opts.file)
	cmd.Flags().Lookup("file").Usage = "spec file to check (- reads stdin)"
	cmdflags.AddOutputFlag(cmd, &opts.output, "output format: text or json")
	cmd.Flags().BoolVar(&opts.offline, "offline", false, "check ${VAR} references without reading the environment")
	return cmd
}

// Result is the --output json document.
type Result struct {
	File   string  `json:"file"`
	Valid  bool    `json:"valid"`
	Jobs   int     `json:"jobs"`
	Errors []Issue `json:"errors"`
	// Warnings do not make the spec invalid (e.g. a seed job next to team
	// jobs); they are reported for a valid spec.
	Warnings []Issue `json:"warnings"`
}

// Issue is one problem in Result; Line and Column are 0 when the file
// could not be read at all.
type Issue struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

func run(f *cmdutil.Factory, opts *options) error {
	s, err := load(f, opts)
	res := Result{File: opts.file, Valid: err == nil, Errors: []Issue{}, Warnings: []Issue{}}
	if opts.file == "-" {
		res.File = "<stdin>"
	}
	var es spec.Errors
	switch {
	case err == nil:
		res.Jobs = len(s.Jobs)
		for _, w := range s.Warnings {
			res.Warnings = append(res.Warnings, Issue{File: w.Pos.File, Line: w.Pos.Line, Column: w.Pos.Column,
				Path: w.Path, Message: w.Msg, Hint: w.Hint})
		}
	case errors.As(err, &es):
		for _, e := range es {
			res.Errors = append(res.Errors, Issue{File: e.Pos.File, Line: e.Pos.Line, Column: e.Pos.Column,
				Path: e.Path, Message: e.Msg, Hint: e.Hint})
		}
	default:
		res.Errors = append(res.Errors, Issue{File: res.File, Message: err.Error()})
	}

	if opts.output == cmdutil.OutputJSON {
		if encErr := cmdutil.WriteJSON(f.IO.Out, res); encErr != nil {
			return encErr
		}
	} else {
		printText(f.IO.Out, f.IO.ErrOut, res, err, s)
	}
	if err != nil {
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}

func printText(out, errOut io.Writer, res Result, err error, s *spec.Spec) {
	if err == nil {
		for _, w := range s.Warnings {
			fmt.Fprintln(errOut, w.Error())
		}
		fmt.Fprintf(out, "%s: OK (%d %s)\n", res.File, res.Jobs, plural(res.Jobs, "job", "jobs"))
		return
	}
	fmt.Fprintln(errOut, err)
	if n := len(res.Errors); n > 0 && res.Errors[0].Line > 0 {
		fmt.Fprintf(errOut, "%s: %d %s\n", res.File, n, plural(n, "problem", "problems"))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func load(f *cmdutil.Factory, opts *options) (*spec.Spec, error) {
	o := spec.Options{Offline: opts.offline}
	if opts.file != "-" {
		return spec.LoadWith(opts.file, f.IO.Getenv, o)
	}
	data, err := io.ReadAll(io.LimitReader(f.IO.In, spec.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read spec from stdin: %w", err)
	}
	return spec.ParseWith("<stdin>", data, f.IO.Getenv, o)
}
