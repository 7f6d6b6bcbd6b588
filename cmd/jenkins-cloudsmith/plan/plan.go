// Package plan is the `jenkins-cloudsmith plan` command: it shows what
// apply would change, as a readable diff or as JSON. Its Options also carry
// the flags apply and prune share.
package plan

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/cmdutil"
	engine "github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// Options are the flags plan, apply and prune share.
type Options struct {
	File           string
	Templates      string
	Parallel       int
	Prune          bool
	Adopt          bool
	InstallPlugins bool
	Verbose        bool
	// Output is --output (text or json) for commands that register it.
	Output string
}

// AddFlags registers the shared flags on cmd; prune omits --prune,
// --adopt and --install-plugins.
func (o *Options) AddFlags(cmd *cobra.Command, reconcile bool) {
	AddFileFlag(cmd, &o.File)
	fl := cmd.Flags()
	fl.StringVar(&o.Templates, "templates", "", "directory of templates overriding the embedded ones, file by file")
	fl.IntVar(&o.Parallel, "parallel", 8, "requests to Jenkins in flight at once")
	fl.BoolVarP(&o.Verbose, "verbose", "v", false, "log every HTTP request (method, URL without query values, status) to stderr")
	if reconcile {
		fl.BoolVar(&o.Prune, "prune", false, "also delete managed jobs the spec no longer lists (never jobs made by hand)")
		fl.BoolVar(&o.Adopt, "adopt", false, "take over existing jobs the spec names that jenkins-cloudsmith did not create")
		fl.BoolVar(&o.InstallPlugins, "install-plugins", false, "install missing required plugins through the update center and wait for Jenkins' safe restart")
	}
	_ = cmd.MarkFlagDirname("templates")
}

// AddFileFlag registers -f/--file, the spec file a command reads and then
// connects with (validate has its own: required, and "-" for stdin).
func AddFileFlag(cmd *cobra.Command, file *string) {
	cmd.Flags().StringVarP(file, "file", "f", "jenkins-cloudsmith.yaml", "spec file to read")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml")
}

// Session is a loaded spec, its rendering, its connected targets and the
// plan for them.
type Session struct {
	Spec    *spec.Spec
	Output  *render.Output
	Targets *apply.Targets
	Plan    *engine.Plan
	Options engine.Options

	renderer *render.Renderer
}

// Load reads and renders the spec and connects to its targets; no request
// is made yet.
func (o *Options) Load(f *cmdutil.Factory) (*Session, error) {
	if o.Output != "" {
		if err := cmdutil.CheckOutput(o.Output); err != nil {
			return nil, err
		}
	}
	if o.Parallel < 1 {
		return nil, fmt.Errorf("--parallel must be at least 1, not %d", o.Parallel)
	}
	s, err := spec.Load(o.File, f.IO.Getenv)
	if err != nil {
		return nil, err
	}
	r, err := render.New(render.Options{TemplatesDir: o.Templates})
	if err != nil {
		return nil, err
	}
	out, err := r.Render(s)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", o.File, err)
	}
	t, err := apply.Connect(s, cmdutil.DebugLogger(o.Verbose, f.IO.ErrOut))
	if err != nil {
		return nil, err
	}
	return &Session{Spec: s, Output: out, Targets: t, renderer: r,
		Options: engine.Options{Prune: o.Prune, Adopt: o.Adopt, InstallPlugins: o.InstallPlugins, Parallel: o.Parallel}}, nil
}

// RunE is a plan-based command's cobra RunE: it loads the session (see
// Load) and calls run with the command's context.
func (o *Options) RunE(f *cmdutil.Factory, run func(ctx context.Context, s *Session) error) func(*cobra.Command, []string) error {
	return LoadThen(f, o.Load, run)
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

// Compute (re)computes the session's plan.
func (s *Session) Compute(ctx context.Context) error {
	in := engine.Input{Spec: s.Spec, Output: s.Output, Jenkins: s.Targets.Jenkins}
	if s.Targets.Cloudsmith != nil && !s.Options.PruneOnly {
		in.Cloudsmith = s.Targets.Cloudsmith
	}
	p, err := engine.Compute(ctx, in, s.Options)
	if err != nil {
		return err
	}
	s.Plan = p
	return s.followRotation(ctx)
}

// followRotation re-plans for the successor credential (<id>--r<N>) when
// the spec's credential is missing because `rotate` replaced it: apply
// must manage the successor, not re-create the original id (a needless new
// key) and point the jobs back at it. It costs a request only when the
// plan would create the credential.
func (s *Session) followRotation(ctx context.Context) error {
	if s.renderer == nil || !slices.ContainsFunc(s.Plan.Changes, func(c engine.Change) bool {
		return c.Kind == engine.KindCredential && c.Action == engine.Create
	}) {
		return nil
	}
	id, err := spec.ActiveCredentialID(ctx, s.Targets.Jenkins, s.Spec)
	if err != nil || id == s.Spec.OIDC.Credential {
		return err
	}
	s.Spec = s.Spec.WithCredential(id)
	if s.Output, err = s.renderer.Render(s.Spec); err != nil {
		return fmt.Errorf("render for credential %s: %w", id, err)
	}
	return s.Compute(ctx)
}

// NewCmd returns the plan command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var o Options
	var detailed bool
	cmd := &cobra.Command{
		Use:   "plan -f SPEC",
		Short: "Show what apply would change in Jenkins (and Cloudsmith)",
		Long: `Plan reads the controller (one request lists every job, then one config.xml read
per job the spec defines) and prints what apply would do: plugins to install, the
OIDC credential to create or update, folders, and jobs to create, update or delete,
each update with a unified diff of the job XML after normalising what Jenkins
rewrites on save. A change that makes Jenkins generate a new OIDC signing key is
marked "! rotate OIDC signing key". Nothing is written.

Secrets come from the environment through the spec's ${VAR} references and are
never printed.`,
		Example: `  # What would change?
  jenkins-cloudsmith plan -f jenkins-cloudsmith.yaml

  # In CI: exit 2 when there are changes, 0 when none, 1 on error
  jenkins-cloudsmith plan -f spec.yaml --detailed-exitcode

  # Machine-readable, including managed jobs that --prune would delete
  jenkins-cloudsmith plan -f spec.yaml --prune --output json | jq '.summary'`,
		Args: cobra.NoArgs,
		RunE: o.RunE(f, func(ctx context.Context, s *Session) error {
			if err := s.Compute(ctx); err != nil {
				return err
			}
			if err := Write(f.IO.Out, s.Plan, o.Output, !f.IO.NoColor); err != nil {
				return err
			}
			if detailed && !s.Plan.Empty() {
				return &cmdutil.ExitError{Code: 2}
			}
			return nil
		}),
	}
	o.AddFlags(cmd, true)
	AddOutputFlag(cmd, &o.Output, "output format: text or json")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 0 when there is nothing to do, 2 when there are changes, 1 on error")
	return cmd
}

// AddOutputFlag registers -o/--output (text or json, completed by the
// shell) on cmd.
func AddOutputFlag(cmd *cobra.Command, output *string, usage string) {
	cmd.Flags().StringVarP(output, "output", "o", "text", usage)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{cmdutil.OutputText, cmdutil.OutputJSON}, cobra.ShellCompDirectiveNoFileComp))
}

// Write prints p as text or JSON.
func Write(w io.Writer, p *engine.Plan, format string, color bool) error {
	if format == cmdutil.OutputJSON {
		return engine.WriteJSON(w, p)
	}
	return engine.WriteText(w, p, color)
}
