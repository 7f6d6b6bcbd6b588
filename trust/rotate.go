package trust

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// RotateOptions tune Rotate.
type RotateOptions struct {
	// Out is the directory the custom issuer's documents are exported to
	// (as `discovery export --out`); empty means someone else publishes
	// them (e.g. `discovery serve`) and Rotate only waits for them.
	Out string
	// Publish is a shell command (bash -c) run after each export, e.g. a
	// sync of Out to the real host. Its output is masked.
	Publish string
	// WaitTimeout bounds each wait: for the hosted documents to show a
	// change, and for running builds to finish (default 10m).
	WaitTimeout time.Duration
	// Grace is how long to wait after the last running build finished
	// before removing the old key, for tokens minted just before the jobs
	// were switched (a build that was starting).
	Grace time.Duration
	// Poll is the interval between checks of the hosted documents and of
	// running builds (default 2s).
	Poll time.Duration
	// Renderer renders the jobs and credential of the successor (default:
	// embedded templates).
	Renderer *render.Renderer
	// Log receives one line per step.
	Log io.Writer
	// IgnoreOutsideJobs deletes the old credential even while jobs the
	// spec does not manage (made by hand, e.g. following the manual guide)
	// still bind it; they then fail. Without it Rotate stops before the
	// deletion and names them.
	IgnoreOutsideJobs bool
}

// RotateResult says what a rotation did.
type RotateResult struct {
	// From and To are the credential ids before and after.
	From string `json:"from"`
	To   string `json:"to"`
	// Created is false when the successor already existed (a resumed
	// rotation).
	Created bool `json:"created"`
	// Switched are the jobs whose config was updated to the successor.
	Switched []string `json:"switched"`
	// Deleted are the old credential ids removed.
	Deleted []string `json:"deleted"`
}

// Rotate replaces the signing key of the spec's OIDC credential without a
// failed exchange. The plugin's kid is the credential id and a re-save
// replaces the key under the same kid, so Rotate instead:
//
//  1. creates a successor credential (spec.SuccessorID: same audience,
//     issuer and kind) — Jenkins generates its key;
//  2. publishes a JWKS holding both keys (custom issuer: export to Out,
//     run Publish, wait until the issuer serves both; Jenkins' own issuer
//     serves both by itself) — tokens of either credential verify;
//  3. switches the managed jobs to the successor (their rendered config);
//  4. waits for running builds of those jobs (bounded), then Grace;
//  5. deletes the old credential and publishes the JWKS without its key.
//
// Every step derives its state from Jenkins and the issuer (which
// generations exist, which id the jobs reference, which keys are hosted),
// so an interrupted rotation is finished by running Rotate again; run on a
// finished rotation, Rotate starts the next one.
func Rotate(ctx context.Context, env *Env, o RotateOptions) (res *RotateResult, err error) {
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = 10 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Renderer == nil {
		r, err := render.New(render.Options{})
		if err != nil {
			return nil, err
		}
		o.Renderer = r
	}
	// The apply lease: an apply of the same spec re-saving the credential
	// meanwhile, or a second rotate, would make a rotation of a rotation.
	lease, ctx, err := apply.Acquire(ctx, env.Jenkins, env.Spec.Identity(), apply.LeaseOptions{})
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := lease.Release(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	rt := &rotation{env: env, o: o, s: env.Spec, secrets: specSecrets(env.Spec)}
	return rt.run(ctx)
}

type rotation struct {
	env     *Env
	o       RotateOptions
	s       *spec.Spec
	secrets []string
}

func (rt *rotation) logf(format string, args ...any) {
	fmt.Fprintf(rt.o.Log, format+"\n", args...)
}

func (rt *rotation) where() string {
	return spec.StoreName(rt.s.OIDC.Folder)
}

func (rt *rotation) generations(ctx context.Context) ([]spec.Generation, error) {
	ids, err := rt.env.Jenkins.CredentialIDs(ctx, rt.s.OIDC.Folder)
	if err != nil {
		return nil, fmt.Errorf("list the credentials in %s: %w", rt.where(), err)
	}
	return spec.Generations(ids, rt.s.OIDC.Credential), nil
}

func (rt *rotation) run(ctx context.Context) (*RotateResult, error) {
	s := rt.s
	gens, err := rt.generations(ctx)
	if err != nil {
		return nil, err
	}
	if len(gens) == 0 {
		return nil, fmt.Errorf("credential %q does not exist in %s: run `jenkins-cloudsmith apply` first", s.OIDC.Credential, rt.where())
	}
	res := &RotateResult{From: gens[0].ID}
	if len(gens) == 1 {
		stale, err := rt.unpublishedRemoval(ctx)
		if err != nil {
			return nil, err
		}
		if len(stale) > 0 {
			rt.logf("resuming: the issuer still publishes the key of deleted credential %s; publishing the JWKS without it", strings.Join(stale, ", "))
			res.From, res.To = strings.Join(stale, ", "), gens[0].ID
			return res, rt.publish(ctx, "the JWKS without the old key")
		}
		res.To = spec.SuccessorID(s.OIDC.Credential, gens[0].Gen+1)
	} else {
		res.To = gens[len(gens)-1].ID
		rt.logf("resuming the rotation from %s to %s", res.From, res.To)
	}

	// 1. The successor credential.
	out, err := rt.ensureSuccessor(ctx, res)
	if err != nil {
		return nil, err
	}

	// 2. Both keys published.
	rt.logf("2/5 publishing the keys of %s and %s", res.From, res.To)
	if err := rt.publish(ctx, "the JWKS with both keys"); err != nil {
		return nil, err
	}

	// 3. Jobs switched.
	olds := []string{}
	for _, g := range gens {
		if g.ID != res.To {
			olds = append(olds, g.ID)
		}
	}
	if err := rt.switchJobs(ctx, out.Jobs, olds, res); err != nil {
		return nil, err
	}

	// 4. Running builds finished.
	if err := rt.waitBuilds(ctx, out.Jobs); err != nil {
		return nil, err
	}
	if rt.o.Grace > 0 {
		rt.logf("    waiting %s for tokens minted just before the switch", rt.o.Grace)
		if err := httpx.Sleep(ctx, rt.o.Grace); err != nil {
			return nil, err
		}
	}

	// 5. Old credentials removed, and their keys unpublished; not while a
	// job outside the spec still binds one.
	if !rt.o.IgnoreOutsideJobs {
		if err := rt.checkOutsideJobs(ctx, out.Jobs, olds, res.To); err != nil {
			return nil, err
		}
	}
	for _, id := range olds {
		if err := rt.env.Jenkins.DeleteCredential(ctx, s.OIDC.Folder, id); err != nil && !errors.Is(err, jenkins.ErrNotFound) {
			return nil, err
		}
		res.Deleted = append(res.Deleted, id)
	}
	rt.logf("5/5 deleted credential %s", strings.Join(olds, ", "))
	if err := rt.publish(ctx, "the JWKS without the old key"); err != nil {
		return nil, err
	}
	rt.logf("rotated: builds now sign with %s; `plan` and `apply` manage it in place of %s", res.To, s.OIDC.Credential)
	return res, nil
}

// ensureSuccessor creates the credential res.To unless it exists already
// (a resumed rotation), and renders the jobs and credential that use it.
func (rt *rotation) ensureSuccessor(ctx context.Context, res *RotateResult) (*render.Output, error) {
	s, j := rt.s, rt.env.Jenkins
	out, err := rt.o.Renderer.Render(s.WithCredential(res.To))
	if err != nil {
		return nil, fmt.Errorf("render the successor credential %q: %w", res.To, err)
	}
	have, err := j.GetCredential(ctx, s.OIDC.Folder, res.To)
	switch {
	case errors.Is(err, jenkins.ErrNotFound):
		if err := j.CreateCredential(ctx, s.OIDC.Folder, out.Credential.FormJSON); err != nil {
			return nil, err
		}
		res.Created = true
		rt.logf("1/5 created credential %s in %s (Jenkins generated its key)", res.To, rt.where())
	case err != nil:
		return nil, err
	default:
		if diffs := plan.DesiredCredential(s.WithCredential(res.To), out).Diff(have); len(diffs) > 0 {
			return nil, fmt.Errorf("credential %q exists but differs from the spec (%s): delete it in Jenkins and run rotate again",
				res.To, strings.Join(diffs, ", "))
		}
		rt.logf("1/5 credential %s already exists", res.To)
	}
	return out, nil
}

// switchJobs rewrites the jobs whose config still names one of the old
// credentials olds, recording them in res.Switched.
func (rt *rotation) switchJobs(ctx context.Context, jobs []render.Job, olds []string, res *RotateResult) error {
	j := rt.env.Jenkins
	for _, job := range jobs {
		cfg, err := j.JobConfig(ctx, job.Name)
		if errors.Is(err, jenkins.ErrNotFound) {
			rt.logf("    job %s does not exist in Jenkins; skipped (apply creates it with the active credential)", job.Name)
			continue
		}
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(olds, func(id string) bool { return mentions(cfg, id) }) {
			continue
		}
		if err := j.UpdateJob(ctx, job.Name, job.ConfigXML); err != nil {
			return fmt.Errorf("switch job %s to credential %s: %w", job.Name, res.To, err)
		}
		res.Switched = append(res.Switched, job.Name)
	}
	rt.logf("3/5 switched %d job(s) to %s", len(res.Switched), res.To)
	return nil
}

// OutsideJobsError names the jobs outside the spec that still bind the
// credential rotate would delete.
type OutsideJobsError struct {
	Credential, Successor string
	Jobs                  []string
}

// Error names the jobs and the ways forward.
func (e *OutsideJobsError) Error() string {
	return fmt.Sprintf("not deleting credential %s: jobs outside the spec still bind it and would fail: %s. "+
		"Point them at %s (or add them to the spec and apply with --adopt), then run rotate again to finish; "+
		"or run rotate with --ignore-outside-jobs to delete it anyway. Until then both credentials stay and builds of either keep working",
		e.Credential, strings.Join(e.Jobs, ", "), e.Successor)
}

// checkOutsideJobs reads the config.xml of every job the user can see
// (within the credential's folder, the only jobs that can bind it) that
// the spec does not manage, and fails naming those that reference one of
// olds.
func (rt *rotation) checkOutsideJobs(ctx context.Context, managed []render.Job, olds []string, to string) error {
	items, err := rt.env.Jenkins.ListJobs(ctx)
	if err != nil {
		return fmt.Errorf("list the jobs that could still bind %s: %w", strings.Join(olds, ", "), err)
	}
	ours := map[string]bool{}
	for _, j := range managed {
		ours[j.Name] = true
	}
	folder := rt.s.OIDC.Folder
	var bound []string
	for _, it := range items {
		if it.Folder || ours[it.FullName] || (folder != "" && !strings.HasPrefix(it.FullName, folder+"/")) {
			continue
		}
		cfg, err := rt.env.Jenkins.JobConfig(ctx, it.FullName)
		if errors.Is(err, jenkins.ErrNotFound) || errors.Is(err, jenkins.ErrForbidden) {
			continue // gone, or not readable by this user: it cannot be checked
		}
		if err != nil {
			return fmt.Errorf("read job %s to see whether it binds %s: %w", it.FullName, strings.Join(olds, ", "), err)
		}
		if slices.ContainsFunc(olds, func(id string) bool { return mentions(cfg, id) }) {
			bound = append(bound, it.FullName)
		}
	}
	if len(bound) > 0 {
		return &OutsideJobsError{Credential: strings.Join(olds, ", "), Successor: to, Jobs: bound}
	}
	return nil
}

// mentions reports whether id occurs in cfg as a whole credential id (not
// as the prefix of a successor's id).
func mentions(cfg []byte, id string) bool {
	idChar := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
	}
	for off := 0; ; {
		i := bytes.Index(cfg[off:], []byte(id))
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(id)
		if (start == 0 || !idChar(cfg[start-1])) && (end == len(cfg) || !idChar(cfg[end])) {
			return true
		}
		off = start + 1
	}
}

// unpublishedRemoval lists the keys of earlier generations the issuer
// still hosts although Jenkins no longer has them: a rotation interrupted
// after deleting the old credential.
func (rt *rotation) unpublishedRemoval(ctx context.Context) ([]string, error) {
	if rt.s.OIDC.Issuer == "" {
		return nil, nil
	}
	want, err := FromJenkins(ctx, rt.env.Jenkins, rt.s)
	if err != nil {
		return nil, err
	}
	var stale []string
	for _, kid := range Check(ctx, rt.env.Issuer, want).Kids {
		if _, ok := spec.CredentialGeneration(kid, rt.s.OIDC.Credential); ok && !slices.Contains(want.Kids(), kid) {
			stale = append(stale, kid)
		}
	}
	return stale, nil
}

// publish makes the issuer serve what Jenkins signs with now and waits
// until it does: for a custom issuer, export to Out and run Publish, then
// poll Check; for Jenkins' own issuer, poll Check (Jenkins serves every
// key of the store itself).
func (rt *rotation) publish(ctx context.Context, what string) error {
	want, err := FromJenkins(ctx, rt.env.Jenkins, rt.s)
	if err != nil {
		return err
	}
	if want.Custom && rt.o.Out != "" {
		if _, err := Export(rt.o.Out, want); err != nil {
			return err
		}
		rt.logf("    exported %s (keys %s) to %s", what, strings.Join(want.Kids(), ", "), rt.o.Out)
	}
	if want.Custom && rt.o.Publish != "" {
		if err := rt.runPublish(ctx); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(rt.o.WaitTimeout)
	for {
		res := Check(ctx, rt.env.Issuer, want)
		if res.Publishes(want) {
			rt.logf("    %s serves %s (keys %s)", want.Issuer, what, strings.Join(want.Kids(), ", "))
			return nil
		}
		if time.Now().After(deadline) {
			why := res.Err()
			if why == nil {
				why = fmt.Errorf("it serves keys %q, Jenkins signs with %q", res.Kids, want.Kids())
			}
			return fmt.Errorf("the issuer did not serve %s within %s (is --publish copying --out to the issuer? run `discovery check`): %w", what, rt.o.WaitTimeout, why)
		}
		if err := httpx.Sleep(ctx, rt.o.Poll); err != nil {
			return err
		}
	}
}

// runPublish runs the --publish command with bash -c, its output masked,
// with DISCOVERY_DIR set to Out.
func (rt *rotation) runPublish(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, rt.o.WaitTimeout)
	defer cancel()
	w := redact.NewWriter(rt.o.Log, rt.secrets...)
	defer w.Close()
	cmd := exec.CommandContext(ctx, "bash", "-c", rt.o.Publish)
	// The publish tool syncs public documents: it needs none of the spec's
	// secrets, so they are not in its environment at all.
	cmd.Env = append(withoutVars(os.Environ(), rt.s.Jenkins.Token.Ref, rt.s.Cloudsmith.APIKey.Ref), "DISCOVERY_DIR="+rt.o.Out)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("the --publish command failed: %w", err)
	}
	rt.logf("    ran the --publish command")
	return nil
}

// waitBuilds waits (bounded by WaitTimeout) until no job's last build is
// running: a build started before the switch holds a token of the old key.
func (rt *rotation) waitBuilds(ctx context.Context, jobs []render.Job) error {
	ctx, cancel := context.WithTimeout(ctx, rt.o.WaitTimeout)
	defer cancel()
	waited := 0
	for _, job := range jobs {
		b, err := rt.env.Jenkins.LastBuild(ctx, job.Name)
		if errors.Is(err, jenkins.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if !b.Building {
			continue
		}
		waited++
		rt.logf("    waiting for %s #%d to finish", job.Name, b.Number)
		if _, err := rt.env.Jenkins.WaitForBuild(ctx, job.Name, b.Number); err != nil {
			return fmt.Errorf("build %s #%d still runs with the old credential after %s; run rotate again when it has finished: %w", job.Name, b.Number, rt.o.WaitTimeout, err)
		}
	}
	rt.logf("4/5 no build of the managed jobs is running (waited for %d)", waited)
	return nil
}

// withoutVars returns env without the named variables (empty names ignored).
func withoutVars(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
next:
	for _, kv := range env {
		for _, n := range names {
			if n != "" && strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
