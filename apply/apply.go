// Package apply carries out a plan: plugins, folders (parents first), the
// OIDC credential, jobs in parallel, then Cloudsmith.
//
// Every change is one atomic request where Jenkins allows it (a job's
// config.xml POST replaces the whole config or nothing), so an interrupted
// apply leaves each job either as it was or as the spec wants, and the
// next apply finishes the work. A write whose response was lost (a reset,
// a 5xx from a proxy after Jenkins saved) is not blindly repeated: apply
// reads the resource back and only writes again if the change has not
// landed.
package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

// Jenkins is what applying writes to a controller. *jenkins.Client
// satisfies it.
type Jenkins interface {
	plan.Jenkins
	CreateCredential(ctx context.Context, folder string, formJSON []byte) error
	UpdateCredential(ctx context.Context, folder, id string, formJSON []byte) error
	DeleteCredential(ctx context.Context, folder, id string) error
	CreateFolder(ctx context.Context, fullName string, xml []byte) error
	CreateJob(ctx context.Context, fullName string, xml []byte) error
	UpdateJob(ctx context.Context, fullName string, xml []byte) error
	DeleteJob(ctx context.Context, fullName string) error
	InstallPlugins(ctx context.Context, specs ...string) error
	SafeRestart(ctx context.Context) error
	WaitReady(ctx context.Context) error
}

// Options tune execution.
type Options struct {
	// Parallel bounds concurrent job writes (default 8).
	Parallel int
	// Attempts bounds tries per change, the first included (default 4).
	Attempts int
	// MaxFailures stops starting new job changes after this many failed
	// (default 10): when every write fails (a missing permission, a
	// controller going down) there is no point in a thousand errors.
	MaxFailures int
	// OnChange is told about each change as it finishes (err nil on
	// success). Calls are serialised.
	OnChange func(c plan.Change, err error)
	// Sleep waits between attempts; nil means a real, cancellable sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// Org is the Cloudsmith org for provider and service changes.
	Org string
}

// Result counts what was done.
type Result struct {
	// Installed names the plugins installed.
	Installed []string `json:"installed,omitempty"`
	// Jobs by action.
	Created  int `json:"created"`
	Updated  int `json:"updated"`
	Replaced int `json:"replaced"`
	Deleted  int `json:"deleted"`
	// UnchangedJobs is carried over from the plan.
	UnchangedJobs  int `json:"unchanged_jobs"`
	FoldersCreated int `json:"folders_created"`
	// Credential is the action taken on the OIDC credential ("" if none);
	// any action means a new signing key.
	Credential plan.Action `json:"credential,omitempty"`
	// Cloudsmith lists the Cloudsmith changes made, e.g. "create
	// cloudsmith-provider jenkins".
	Cloudsmith []string `json:"cloudsmith,omitempty"`
	// Failed counts changes that could not be made; Skipped those not
	// attempted because of an earlier failure or interruption; InFlight
	// those an interruption cut off after their request was sent (they
	// may have landed). With Made, they add up to the plan's changes.
	Failed   int `json:"failed"`
	Skipped  int `json:"skipped"`
	InFlight int `json:"in_flight"`
	// Remaining lists, in plan order, every change of the plan not known
	// to be made ("create job team-a/x", "create cloudsmith-provider
	// jenkins"): exactly what a re-run will do, after reading back the
	// in-flight ones (a re-run plans again, so it makes only what is
	// still missing).
	Remaining []string `json:"remaining,omitempty"`
}

// Summary is the one-line report printed when output is not a terminal.
func (r *Result) Summary() string {
	s := fmt.Sprintf("created %d, updated %d, replaced %d, deleted %d, unchanged %d jobs",
		r.Created, r.Updated, r.Replaced, r.Deleted, r.UnchangedJobs)
	if r.FoldersCreated > 0 {
		s += fmt.Sprintf("; created %d folders", r.FoldersCreated)
	}
	if r.Credential != "" {
		s += fmt.Sprintf("; credential %sd (new signing key)", r.Credential)
	}
	if len(r.Installed) > 0 {
		s += "; installed plugins " + strings.Join(r.Installed, ", ")
	}
	for _, c := range r.Cloudsmith {
		s += "; " + c
	}
	if r.Failed > 0 || r.Skipped > 0 || r.InFlight > 0 {
		s += fmt.Sprintf("; %d failed, %d cut off in flight, %d not attempted", r.Failed, r.InFlight, r.Skipped)
	}
	return s
}

// describe names a change the way Remaining lists it.
func describe(c plan.Change) string {
	s := fmt.Sprintf("%s %s %s", c.Action, c.Kind, c.Name)
	if c.Kind == plan.KindCredential && c.Folder != "" {
		s += " (folder " + c.Folder + ")"
	}
	return s
}

// RefusedError is returned, before anything is written, for a plan with
// changes apply does not make (plan.Change.Refused).
type RefusedError struct {
	Changes []plan.Change
}

// Error names each refused change and what to run instead.
func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString("nothing was changed:")
	for _, c := range e.Changes {
		fmt.Fprintf(&b, "\n  %s %s %s (%s): %s", c.Action, c.Kind, c.Name, c.Reason, c.Refused)
	}
	return b.String()
}

// Error reports the changes that failed, all of them.
type Error struct {
	Failures []error
	// Interrupted is set when the context was cancelled.
	Interrupted bool
	// Remaining and InFlight are the Result's: what a re-run does, and
	// which of those may already have landed.
	Remaining, InFlight []string
}

// Error says what to do next and lists the failures.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Interrupted {
		b.WriteString("apply interrupted: each job, folder, credential and Cloudsmith change is either made or not, never half-made.")
		var missing []string
		for _, d := range e.Remaining {
			if !slices.Contains(e.InFlight, d) {
				missing = append(missing, d)
			}
		}
		switch {
		case len(e.Remaining) == 0:
			b.WriteString(" Every change had been made; a re-run finds nothing to do.")
		case len(missing) > 0:
			fmt.Fprintf(&b, " A re-run plans again and makes the %d change(s) not made: %s.", len(missing), list(missing))
		}
		if len(e.InFlight) > 0 {
			fmt.Fprintf(&b, " Cut off after the request was sent, so they may have landed (a re-run reads them back and makes them only if not): %s.", list(e.InFlight))
		}
	} else {
		noun := "changes"
		if len(e.Failures) == 1 {
			noun = "change"
		}
		fmt.Fprintf(&b, "%d %s failed; fix the cause and run apply again (it only redoes what is left)", len(e.Failures), noun)
	}
	const show = 10
	for i, err := range e.Failures {
		if i == show {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Failures)-show)
			break
		}
		b.WriteString("\n  " + err.Error())
	}
	return b.String()
}

// list joins at most 10 items.
func list(items []string) string {
	const show = 10
	if len(items) > show {
		return strings.Join(items[:show], ", ") + fmt.Sprintf(" and %d more", len(items)-show)
	}
	return strings.Join(items, ", ")
}

// Unwrap exposes the failures to errors.Is/As.
func (e *Error) Unwrap() []error { return e.Failures }

type executor struct {
	j   Jenkins
	cs  Cloudsmith
	opt Options

	mu       sync.Mutex
	res      *Result
	failures []error
	// made and inFlight hold describe(c) of the changes made and of those
	// cut off in flight.
	made, inFlight map[string]bool
	plan           *plan.Plan
	// slugs maps the name of each service account created to the slug
	// Cloudsmith gave it.
	slugs map[string]string
}

// Execute makes the changes of p. It returns what was done even on error;
// the error is an *Error listing every failed change.
func Execute(ctx context.Context, j Jenkins, cs Cloudsmith, p *plan.Plan, opt Options) (*Result, error) {
	if opt.Parallel <= 0 {
		opt.Parallel = 8
	}
	if opt.Attempts <= 0 {
		opt.Attempts = 4
	}
	if opt.MaxFailures <= 0 {
		opt.MaxFailures = 10
	}
	if opt.Sleep == nil {
		opt.Sleep = httpx.Sleep
	}
	if refused := p.Refused(); len(refused) > 0 {
		// Before any write: a half-applied spec is worse than none.
		return &Result{UnchangedJobs: p.UnchangedJobs}, &RefusedError{Changes: refused}
	}
	e := &executor{j: j, cs: cs, opt: opt, res: &Result{UnchangedJobs: p.UnchangedJobs},
		made: map[string]bool{}, inFlight: map[string]bool{}, plan: p, slugs: map[string]string{}}

	var plugins, folders, creds, jobs, services, providers []plan.Change
	for _, c := range p.Changes {
		switch c.Kind {
		case plan.KindPlugin:
			plugins = append(plugins, c)
		case plan.KindFolder:
			folders = append(folders, c)
		case plan.KindCredential:
			creds = append(creds, c)
		case plan.KindJob:
			jobs = append(jobs, c)
		case plan.KindService:
			services = append(services, c)
		default:
			providers = append(providers, c)
		}
	}

	// Each phase needs the one before it: plugins for everything, folders
	// for the jobs and folder credentials inside them, the Cloudsmith
	// service for the provider that links it.
	if len(plugins) > 0 {
		var names []string
		for _, c := range plugins {
			names = append(names, c.Name)
		}
		if err := InstallPlugins(ctx, j, names); err != nil {
			e.done(plugins[0], err) // one install for all of them: one failure
			return e.finish(ctx, len(p.Changes)-1)
		}
		for _, c := range plugins {
			e.done(c, nil)
		}
		e.res.Installed = names
	}
	if !e.parallel(ctx, folders, e.folder, true) {
		return e.finish(ctx, len(creds)+len(jobs)+len(services)+len(providers))
	}
	e.parallel(ctx, creds, e.credential, false)
	e.parallel(ctx, jobs, e.job, false)
	// The provider links the service account and the grants name it, so
	// it must exist (and be visible) first.
	if !e.parallel(ctx, services, e.cloudsmith, false) {
		return e.finish(ctx, len(providers))
	}
	e.parallel(ctx, providers, e.cloudsmith, false)
	return e.finish(ctx, 0)
}

// finish lists what is left. The counts are derived from the plan rather
// than from each phase's bookkeeping, so that they always add up.
func (e *executor) finish(ctx context.Context, _ int) (*Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var inFlight []string
	e.res.Skipped, e.res.InFlight, e.res.Remaining = 0, 0, nil
	for _, c := range e.plan.Changes {
		d := describe(c)
		if e.made[d] {
			continue
		}
		e.res.Remaining = append(e.res.Remaining, d)
		if e.inFlight[d] {
			e.res.InFlight++
			inFlight = append(inFlight, d)
		}
	}
	e.res.Skipped = len(e.res.Remaining) - e.res.InFlight - e.res.Failed
	if len(e.failures) == 0 && ctx.Err() == nil {
		return e.res, nil
	}
	return e.res, &Error{Failures: e.failures, Interrupted: ctx.Err() != nil, Remaining: e.res.Remaining, InFlight: inFlight}
}

// done records the outcome of one change.
func (e *executor) done(c plan.Change, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil && errors.Is(err, context.Canceled) {
		// Interrupted, not failed: the next apply reads it back.
		e.inFlight[describe(c)] = true
	} else if err != nil {
		e.res.Failed++
		e.failures = append(e.failures, fmt.Errorf("%s %s %s: %w", c.Action, c.Kind, c.Name, err))
	} else {
		e.made[describe(c)] = true
		switch c.Kind {
		case plan.KindFolder:
			e.res.FoldersCreated++
		case plan.KindCredential:
			e.res.Credential = c.Action
		case plan.KindJob:
			switch c.Action {
			case plan.Create:
				e.res.Created++
			case plan.Update:
				e.res.Updated++
			case plan.Replace:
				e.res.Replaced++
			case plan.Delete:
				e.res.Deleted++
			}
		case plan.KindProvider, plan.KindService, plan.KindPrivilege:
			e.res.Cloudsmith = append(e.res.Cloudsmith, fmt.Sprintf("%s %s %s", c.Action, c.Kind, c.Name))
		}
	}
	if e.opt.OnChange != nil {
		e.opt.OnChange(c, err)
	}
}

func (e *executor) failedCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.failures)
}

// parallel runs do over changes with at most Options.Parallel in flight.
// With byDepth, changes (folders) run one nesting level at a time so that
// parents exist before their children. It reports whether all succeeded.
func (e *executor) parallel(ctx context.Context, changes []plan.Change, do func(context.Context, plan.Change) error, byDepth bool) bool {
	if len(changes) == 0 {
		return true
	}
	groups := [][]plan.Change{changes}
	if byDepth {
		groups = nil
		for _, c := range changes {
			d := strings.Count(c.Name, "/")
			for len(groups) <= d {
				groups = append(groups, nil)
			}
			groups[d] = append(groups[d], c)
		}
	}
	before := e.failedCount()
	for gi, group := range groups {
		next := make(chan plan.Change)
		var wg sync.WaitGroup
		for w := 0; w < min(e.opt.Parallel, len(group)); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range next {
					e.done(c, do(ctx, c))
				}
			}()
		}
		sent := 0
	feed:
		for _, c := range group {
			if e.failedCount()-before >= e.opt.MaxFailures {
				break
			}
			select {
			case next <- c:
				sent++
			case <-ctx.Done():
				break feed
			}
		}
		close(next)
		wg.Wait()
		skipped := len(group) - sent
		if byDepth && e.failedCount() > before {
			for _, g := range groups[gi+1:] {
				skipped += len(g)
			}
			e.mu.Lock()
			e.res.Skipped += skipped
			e.mu.Unlock()
			return false
		}
		e.mu.Lock()
		e.res.Skipped += skipped
		e.mu.Unlock()
	}
	return e.failedCount() == before && ctx.Err() == nil
}

// The real client satisfies the interface.
var _ Jenkins = (*jenkins.Client)(nil)
