package apply

import (
	"context"
	"fmt"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/connect"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// Session is a loaded spec, its rendering, its connected targets and the
// plan for them: what the plan, apply and prune commands work on, and
// what a program calls to do the same.
type Session struct {
	// Spec and Output are the spec and its rendering; after Compute they
	// follow a `rotate` to the active successor credential.
	Spec    *spec.Spec
	Output  *render.Output
	Targets *Targets
	// Clients built Targets; other workflows (the trust checks) take
	// theirs from it too, rather than build a second set.
	Clients *connect.Clients
	// Plan is set by Compute.
	Plan    *plan.Plan
	Options plan.Options

	renderer *render.Renderer
}

// LoadOptions say where a session's spec and templates are and how to
// reach its targets.
type LoadOptions struct {
	// File is the spec file.
	File string
	// Templates is a directory of templates overriding the embedded ones.
	Templates string
	// Getenv resolves the spec's ${VAR} secrets.
	Getenv func(string) string
	// Connect tunes the clients (see connect.New).
	Connect connect.Options
	// Plan shapes the plans Compute makes.
	Plan plan.Options
}

// Load reads and renders the spec and builds the clients of its targets;
// no request is made yet.
func Load(o LoadOptions) (*Session, error) {
	if o.Plan.Parallel < 1 {
		return nil, fmt.Errorf("--parallel must be at least 1, not %d", o.Plan.Parallel)
	}
	s, err := spec.Load(o.File, o.Getenv)
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
	c := connect.New(s, o.Connect)
	t, err := TargetsOf(c)
	if err != nil {
		return nil, err
	}
	return &Session{Spec: s, Output: out, Targets: t, Clients: c, renderer: r, Options: o.Plan}, nil
}

// Compute (re)computes the session's plan, following a rotation (see
// plan.Compute), and moves Spec and Output to what it planned for.
func (s *Session) Compute(ctx context.Context) error {
	in := plan.Input{Spec: s.Spec, Output: s.Output, Jenkins: s.Targets.Jenkins}
	if s.renderer != nil {
		in.Render = s.renderer.Render
	}
	if s.Targets.Cloudsmith != nil && !s.Options.PruneOnly {
		in.Cloudsmith = s.Targets.Cloudsmith
	}
	p, err := plan.Compute(ctx, in, s.Options)
	if err != nil {
		return err
	}
	s.Plan, s.Spec, s.Output = p, p.Spec, p.Output
	return nil
}

// Reporter hears about an apply as it runs, for a view to show; every
// method may be called from the goroutine that runs the apply only,
// except Changed, whose calls are serialised.
type Reporter interface {
	// InstallingPlugins is called before the required plugins are
	// installed and Jenkins is restarted.
	InstallingPlugins(names []string)
	// Executing is called with the final plan, before its changes are made.
	Executing(p *plan.Plan)
	// Changed is told about each change as it finishes (err nil on
	// success).
	Changed(c plan.Change, err error)
	// Executed is called when every change was tried.
	Executed(res *Result)
}

// RunOptions shape Session.Apply.
type RunOptions struct {
	// Keep, when set, restricts the plan to the changes it accepts (prune
	// keeps deletions only).
	Keep func(plan.Change) bool
	// Reporter is told what happens; nil reports nothing.
	Reporter Reporter
	// Lease tunes the apply lease.
	Lease LeaseOptions
}

// Apply plans, installs missing plugins (then plans again on the restarted
// controller), and makes the plan's changes: the whole apply command.
//
// When there is something to write it first takes the spec's apply lease
// on the controller (see Acquire) and plans again under it, so that a
// second apply of the same spec at the same time stops with a
// *LeaseHeldError before writing anything, and whatever is applied was
// planned against a controller no other apply of the spec is changing. A
// plan with nothing to do writes nothing, not even the lease. It returns
// what was done even on error.
func (s *Session) Apply(ctx context.Context, o RunOptions) (res *Result, err error) {
	rep := o.Reporter
	if rep == nil {
		rep = nopReporter{}
	}
	replan := func() error {
		if err := s.Compute(ctx); err != nil {
			return err
		}
		if o.Keep != nil {
			s.Plan = s.Plan.Filter(o.Keep)
		}
		return nil
	}
	if err := replan(); err != nil {
		return nil, err
	}
	if !s.Plan.Empty() && len(s.Plan.Refused()) == 0 {
		lease, lctx, err := Acquire(ctx, s.Targets.Jenkins, s.Spec.Identity(), o.Lease)
		if err != nil {
			return nil, err
		}
		defer func() {
			if rerr := lease.Release(); rerr != nil && err == nil {
				err = rerr
			}
		}()
		ctx = lctx
		if err := replan(); err != nil {
			return nil, err
		}
	}
	var installed []string
	if missing := s.Plan.Filter(func(c plan.Change) bool { return c.Kind == plan.KindPlugin }); !missing.Empty() {
		for _, c := range missing.Changes {
			installed = append(installed, c.Name)
		}
		rep.InstallingPlugins(installed)
		if err := InstallPlugins(ctx, s.Targets.Jenkins, installed); err != nil {
			return nil, err
		}
		// Plan again on the restarted controller: what it holds now is
		// what counts.
		s.Options.InstallPlugins = false
		if err := replan(); err != nil {
			return nil, err
		}
	}
	opts := Options{Parallel: s.Options.Parallel, Org: s.Spec.Cloudsmith.Org, OnChange: rep.Changed}
	rep.Executing(s.Plan)
	var first *Result
	if svc := s.Plan.Filter(func(c plan.Change) bool { return c.Kind == plan.KindService }); !svc.Empty() {
		// Cloudsmith assigns the service's slug, and every job, grant and
		// the provider carry it: create the service first (Execute waits
		// until reads show it), then plan the rest with its slug.
		if first, err = Execute(ctx, s.Targets.Jenkins, s.Targets.Cloudsmith, svc, opts); err != nil {
			rep.Executed(first)
			return first, err
		}
		if err := replan(); err != nil {
			return first, err
		}
	}
	res, err = Execute(ctx, s.Targets.Jenkins, s.Targets.Cloudsmith, s.Plan, opts)
	if first != nil {
		res.Cloudsmith = append(first.Cloudsmith, res.Cloudsmith...)
	}
	res.Installed = append(installed, res.Installed...)
	rep.Executed(res)
	return res, err
}

// nopReporter reports nothing.
type nopReporter struct{}

func (nopReporter) InstallingPlugins([]string) {}
func (nopReporter) Executing(*plan.Plan)       {}
func (nopReporter) Changed(plan.Change, error) {}
func (nopReporter) Executed(*Result)           {}
