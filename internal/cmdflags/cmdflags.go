// Package cmdflags holds the flags the jenkins-cloudsmith commands that
// read a spec share, and the loading they do before running: the spec
// file, --output, and the sessions of the plan/apply/prune and of the
// trust commands (doctor, smoke, rotate, discovery). Commands import it
// rather than each other.
package cmdflags

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/connect"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
)

// AddFileFlag registers -f/--file, the spec file a command reads and then
// connects with (validate has its own: required, and "-" for stdin).
func AddFileFlag(cmd *cobra.Command, file *string) {
	cmd.Flags().StringVarP(file, "file", "f", "jenkins-cloudsmith.yaml", "spec file to read")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml")
}

// AddOutputFlag registers -o/--output (text or json, completed by the
// shell) on cmd.
func AddOutputFlag(cmd *cobra.Command, output *string, usage string) {
	cmd.Flags().StringVarP(output, "output", "o", "text", usage)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{cmdutil.OutputText, cmdutil.OutputJSON}, cobra.ShellCompDirectiveNoFileComp))
}

// LoadThen is the cobra RunE of a command that loads what it works on
// from its flags (the spec, its clients) and then runs: load errors are
// returned before run is called.
func LoadThen[T any](f *cmdutil.Factory, load func(*cmdutil.Factory) (T, error), run func(ctx context.Context, v T) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		v, err := load(f)
		if err != nil {
			return err
		}
		return run(cmd.Context(), v)
	}
}

// Failed is what a command returns when what it checked does not hold:
// exit status 1, with err printed after text output; after JSON output the
// JSON already says why.
func Failed(output string, err error) error {
	if output == cmdutil.OutputJSON {
		return &cmdutil.ExitError{Code: 1}
	}
	return &cmdutil.ExitError{Code: 1, Err: err}
}

// Session are the flags plan, apply and prune share.
type Session struct {
	File           string
	Templates      string
	Parallel       int
	Prune          bool
	Adopt          bool
	AdoptFrom      []string
	ReplaceKey     bool
	InstallPlugins bool
	Verbose        bool
	// Output is --output (text or json) for commands that register it.
	Output string
}

// AddFlags registers the shared flags on cmd; prune omits --prune,
// --adopt and --install-plugins.
func (o *Session) AddFlags(cmd *cobra.Command, reconcile bool) {
	AddFileFlag(cmd, &o.File)
	fl := cmd.Flags()
	fl.StringVar(&o.Templates, "templates", "", "directory of templates overriding the embedded ones, file by file")
	fl.IntVar(&o.Parallel, "parallel", 8, "requests to Jenkins in flight at once")
	fl.BoolVarP(&o.Verbose, "verbose", "v", false, "log every HTTP request (method, URL without query values, status) to stderr")
	if reconcile {
		fl.BoolVar(&o.Prune, "prune", false, "also delete managed jobs the spec no longer lists (never jobs made by hand)")
		fl.BoolVar(&o.Adopt, "adopt", false, "take over existing jobs (and the OIDC credential) the spec names that were made by hand, never another spec's")
		fl.StringSliceVar(&o.AdoptFrom, "adopt-from", nil, "take over the jobs the spec names that the spec with this `id` owns (moving jobs between specs)")
		fl.BoolVar(&o.ReplaceKey, "replace-key-with-downtime", false, "re-save a changed OIDC credential in place: Jenkins generates a new key under the same kid and builds fail until verifiers drop the cached one (use rotate for no downtime)")
		fl.BoolVar(&o.InstallPlugins, "install-plugins", false, "install the missing plugins the rendered jobs need through the update center, waiting for the downloads and, when Jenkins needs one, a safe restart")
	}
	_ = cmd.MarkFlagDirname("templates")
}

// Load checks the flags and loads the session (see apply.Load); no request
// is made yet.
func (o *Session) Load(f *cmdutil.Factory) (*apply.Session, error) {
	if o.Output != "" {
		if err := cmdutil.CheckOutput(o.Output); err != nil {
			return nil, err
		}
	}
	return apply.Load(apply.LoadOptions{File: o.File, Templates: o.Templates, Getenv: f.IO.Getenv,
		Connect: connect.Options{Logger: cmdutil.DebugLogger(o.Verbose, f.IO.ErrOut)},
		Plan: plan.Options{Prune: o.Prune, Adopt: o.Adopt, AdoptFrom: o.AdoptFrom, ReplaceKey: o.ReplaceKey,
			InstallPlugins: o.InstallPlugins, Parallel: o.Parallel}})
}

// RunE is a plan-based command's cobra RunE: it loads the session (see
// Load) and calls run with the command's context.
func (o *Session) RunE(f *cmdutil.Factory, run func(ctx context.Context, s *apply.Session) error) func(*cobra.Command, []string) error {
	return LoadThen(f, o.Load, run)
}

// Trust are the flags every trust command shares.
type Trust struct {
	File           string
	IssuerCABundle string
	Verbose        bool
	// Output is --output (text or json) for commands that register it.
	Output string
}

// AddFlags registers -f and -v on cmd.
func (o *Trust) AddFlags(cmd *cobra.Command) {
	AddFileFlag(cmd, &o.File)
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "log every HTTP request to Jenkins and Cloudsmith (method, URL without query values, status) to stderr")
}

// AddIssuerCAFlag registers --ca-bundle, only on the commands that fetch
// the hosted issuer documents (doctor, discovery check, rotate): a flag a
// command would ignore is not offered.
func (o *Trust) AddIssuerCAFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.IssuerCABundle, "ca-bundle", "", "PEM file of extra roots for fetching the issuer's documents (a private CA; Cloudsmith itself needs a public one)")
	_ = cmd.MarkFlagFilename("ca-bundle", "pem", "crt")
}

// AddOutputFlag registers --output text|json.
func (o *Trust) AddOutputFlag(cmd *cobra.Command) {
	AddOutputFlag(cmd, &o.Output, "output format: text or json")
}

// Load checks the flags, reads the spec and builds its clients (see
// trust.Load); no request is made.
func (o *Trust) Load(f *cmdutil.Factory) (*trust.Env, error) {
	if o.Output != "" {
		if err := cmdutil.CheckOutput(o.Output); err != nil {
			return nil, err
		}
	}
	return trust.Load(o.File, f.IO.Getenv, connect.Options{IssuerCABundle: o.IssuerCABundle, Logger: cmdutil.DebugLogger(o.Verbose, f.IO.ErrOut)})
}

// RunE is a trust command's cobra RunE: it loads the spec and its clients
// (see Load) and calls run with the command's context.
func (o *Trust) RunE(f *cmdutil.Factory, run func(ctx context.Context, env *trust.Env) error) func(*cobra.Command, []string) error {
	return LoadThen(f, o.Load, run)
}
