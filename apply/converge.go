package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
)

// retry runs step until verify says the change has landed. The first try
// trusts the plan; after a failure the resource is read back, because the
// write may have been applied with its response lost, and verify returns
// the step to try next (nil: done).
func (e *executor) retry(ctx context.Context, step func(context.Context) error,
	verify func(context.Context) (func(context.Context) error, error)) error {
	var err error
	for attempt := 1; ; attempt++ {
		// This loop is the one retry layer for writes: the transport sends
		// each attempt once, and verify (a safe read, retried by the
		// transport) checks whether a failed one landed before another.
		if err = step(httpx.SendOnce(ctx)); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		next, verr := verify(ctx)
		if verr == nil && next == nil {
			return nil
		}
		var perm *permanentError
		if errors.As(verr, &perm) {
			return perm
		}
		if verr == nil {
			step = next
		}
		if attempt >= e.opt.Attempts || permanent(err) {
			return err
		}
		// The transport's schedule: one backoff for every retry.
		if serr := e.opt.Sleep(ctx, (&httpx.Retry{}).Backoff(attempt)); serr != nil {
			return err
		}
	}
}

// permanent reports whether err will fail again however often it is
// retried: bad credentials, a missing permission, a request Jenkins
// rejects as invalid.
func permanent(err error) bool {
	// The Jenkins and Cloudsmith errors say themselves when a retry may
	// help; a non-temporary answer still gets verify's read-back first,
	// which may find the write landed or name the step to take instead.
	var t interface{ Temporary() bool }
	if errors.As(err, &t) && t.Temporary() {
		return false
	}
	if errors.Is(err, jenkins.ErrUnauthorized) || errors.Is(err, jenkins.ErrForbidden) {
		return true
	}
	var he *jenkins.HTTPError
	return errors.As(err, &he) && he.Status == http.StatusBadRequest && !he.Exists
}

// permanentError stops retrying: the state found needs a person.
type permanentError struct{ error }

func (e *executor) folder(ctx context.Context, c plan.Change) error {
	create := func(ctx context.Context) error { return e.j.CreateFolder(ctx, c.Name, c.Config) }
	return e.retry(ctx, create, func(ctx context.Context) (func(context.Context) error, error) {
		_, err := e.j.JobConfig(ctx, c.Name)
		switch {
		case err == nil:
			return nil, nil // it is there: a folder's content is never rewritten
		case errors.Is(err, jenkins.ErrNotFound):
			return create, nil
		}
		return nil, err
	})
}

// job converges one job to the plan's intent, whatever state an earlier
// interrupted or half-answered attempt left it in.
func (e *executor) job(ctx context.Context, c plan.Change) error {
	create := func(ctx context.Context) error { return e.j.CreateJob(ctx, c.Name, c.Config) }
	update := func(ctx context.Context) error { return e.j.UpdateJob(ctx, c.Name, c.Config) }
	del := func(ctx context.Context) error { return e.j.DeleteJob(ctx, c.Name) }
	replace := func(ctx context.Context) error {
		if err := del(ctx); err != nil && !errors.Is(err, jenkins.ErrNotFound) {
			return err
		}
		return create(ctx)
	}
	first := map[plan.Action]func(context.Context) error{
		plan.Create: create, plan.Update: update, plan.Replace: replace, plan.Delete: del}[c.Action]
	if first == nil {
		return fmt.Errorf("unknown action %q", c.Action)
	}
	return e.retry(ctx, first, func(ctx context.Context) (func(context.Context) error, error) {
		have, err := e.j.JobConfig(ctx, c.Name)
		switch {
		case errors.Is(err, jenkins.ErrNotFound):
			if c.Action == plan.Delete {
				return nil, nil
			}
			return create, nil
		case err != nil:
			return nil, err
		case c.Action == plan.Delete:
			return del, nil
		}
		same, sameType, err := plan.SameConfig(have, c.Config)
		switch {
		case err != nil:
			return nil, err
		case same:
			return nil, nil
		case c.Action == plan.Create && !sameOwner(have, c.Config):
			return nil, &permanentError{fmt.Errorf("job %q was created by someone else (by hand or by another spec) while applying; delete or rename it, or re-run with --adopt", c.Name)}
		case !sameType:
			return replace, nil
		}
		return update, nil
	})
}

func (e *executor) credential(ctx context.Context, c plan.Change) error {
	// Re-saving makes Jenkins generate a new key under a kid verifiers
	// may have cached: record when, so doctor can say until when they may
	// hold the old one. (A new id is a kid no verifier has seen.)
	form := c.Config
	if c.Action != plan.Create {
		form = render.StampKeyTime(c.Config, time.Now())
	}
	create := func(ctx context.Context) error { return e.j.CreateCredential(ctx, c.Folder, form) }
	update := func(ctx context.Context) error { return e.j.UpdateCredential(ctx, c.Folder, c.Name, form) }
	replace := func(ctx context.Context) error {
		if err := e.j.DeleteCredential(ctx, c.Folder, c.Name); err != nil && !errors.Is(err, jenkins.ErrNotFound) {
			return err
		}
		return create(ctx)
	}
	first := map[plan.Action]func(context.Context) error{
		plan.Create: create, plan.Update: update, plan.Replace: replace}[c.Action]
	if first == nil {
		return fmt.Errorf("unknown action %q", c.Action)
	}
	return e.retry(ctx, first, func(ctx context.Context) (func(context.Context) error, error) {
		have, err := e.j.GetCredential(ctx, c.Folder, c.Name)
		switch {
		case errors.Is(err, jenkins.ErrNotFound):
			return create, nil
		case err != nil:
			return nil, err
		case c.Credential == nil:
			return first, nil
		case len(c.Credential.Diff(have)) == 0:
			// Landed (the key was generated once): do not re-post, that
			// would rotate it again.
			return nil, nil
		case have.Kind != c.Credential.Kind:
			return replace, nil
		}
		return update, nil
	})
}

// sameOwner reports whether the job config have carries the managed marker
// of the spec that rendered want.
func sameOwner(have, want []byte) bool {
	h, hok := plan.ConfigOwner(have)
	w, _ := plan.ConfigOwner(want)
	return hok && h == w
}
