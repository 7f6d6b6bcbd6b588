package trust_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

var credentialsID = regexp.MustCompile(`<credentialsId>([^<]*)</credentialsId>`)

// exchanger plays a running build of job during a rotation: over and over
// it mints a token with the credential the job references at that moment
// and exchanges it with Cloudsmith, which verifies it through the hosted
// documents.
type exchanger struct {
	ok, fails atomic.Int64
	mu        sync.Mutex
	errs      []string
	kids      map[string]int
}

func (e *exchanger) run(ctx context.Context, w *trusttest.World, job string) {
	for ctx.Err() == nil {
		cfg, err := w.Env.Jenkins.JobConfig(ctx, job)
		if err != nil {
			continue
		}
		m := credentialsID.FindSubmatch(cfg)
		if m == nil {
			continue
		}
		id := string(m[1])
		tok, err := w.J.Jenkins.IDToken(job, id)
		if err != nil {
			// The credential was deleted between reading the config and
			// minting: no build could have bound it either.
			continue
		}
		_, err = w.Env.Exchange.Exchange(ctx, w.S.Cloudsmith.Org, w.Service, tok)
		e.mu.Lock()
		switch {
		case err == nil:
			e.ok.Add(1)
			e.kids[id]++
		case ctx.Err() == nil:
			e.fails.Add(1)
			e.errs = append(e.errs, id+": "+err.Error()+"\n  emulator: "+w.CS.Cloudsmith.LastExchangeFailure())
		}
		e.mu.Unlock()
	}
}

// startExchanger runs an exchanger on job until it has exchanged a few
// times (or failed); stop lets it exchange a few more times, then stops it.
func startExchanger(ctx context.Context, w *trusttest.World, job string) (ex *exchanger, stop func()) {
	ex = &exchanger{kids: map[string]int{}}
	xctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ex.run(xctx, w, job) }()
	few := func() {
		n := ex.ok.Load()
		for ex.ok.Load() < n+3 && ex.fails.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	few()
	return ex, func() { few(); cancel(); wg.Wait() }
}

func TestRotateWithoutFailedExchange(t *testing.T) {
	w := trustedWorld(t, trusttest.Options{})
	ctx := w.Ctx()

	// Let it exchange with the original credential first.
	ex, stop := startExchanger(ctx, w, "app/build")

	var log bytes.Buffer
	res, err := trust.Rotate(ctx, w.Env, trust.RotateOptions{Out: w.Dir, Publish: "echo published $DISCOVERY_DIR",
		Poll: 10 * time.Millisecond, WaitTimeout: 30 * time.Second, Grace: 300 * time.Millisecond, Log: &log})
	if err != nil {
		t.Fatalf("rotate: %v\n%s", err, log.String())
	}
	stop() // after a few more exchanges, with the successor

	t.Logf("rotate log:\n%s\nexchanges ok: %d by credential %v", log.String(), ex.ok.Load(), ex.kids)
	if ex.fails.Load() > 0 {
		t.Fatalf("%d exchanges failed during the rotation:\n%s", ex.fails.Load(), strings.Join(ex.errs, "\n"))
	}
	if ex.kids["oidc-token-cred"] == 0 || ex.kids["oidc-token-cred--r2"] == 0 {
		t.Errorf("exchanges by credential %v: want both generations used", ex.kids)
	}
	if res.From != "oidc-token-cred" || res.To != "oidc-token-cred--r2" || !res.Created ||
		len(res.Switched) != 2 || len(res.Deleted) != 1 {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(log.String(), "published "+w.Dir) {
		t.Errorf("the --publish command's output is not in the log:\n%s", log.String())
	}

	// The old credential is gone; the issuer serves only the new key.
	if _, err := w.Env.Jenkins.GetCredential(ctx, "", "oidc-token-cred"); !errors.Is(err, jenkins.ErrNotFound) {
		t.Errorf("old credential: %v, want not found", err)
	}
	want, err := trust.FromJenkins(ctx, w.Env.Jenkins, w.S)
	if err != nil {
		t.Fatal(err)
	}
	if chk := trust.Check(ctx, w.Env.Issuer, want); !chk.Publishes(want) || strings.Join(chk.Kids, ",") != "oidc-token-cred--r2" {
		t.Errorf("hosted after rotation: %v %s", chk.Kids, errorsOf(chk))
	}
	if id, err := plan.ActiveCredentialID(ctx, w.Env.Jenkins, w.S); err != nil || id != "oidc-token-cred--r2" {
		t.Errorf("ActiveCredentialID = %q, %v", id, err)
	}

	// A build now binds the successor and its exchange works.
	var console bytes.Buffer
	sm, err := trust.Smoke(ctx, w.Env, trust.SmokeOptions{Console: &console})
	if err != nil || !sm.OK() {
		t.Fatalf("smoke after rotate: %+v %v\n%s", sm, err, console.String())
	}
	// doctor sees the successor as the credential.
	if r := trust.Doctor(ctx, w.Env, trust.DoctorOptions{}); !r.OK() || !strings.Contains(r.Link(trust.LinkCredential).Detail, "successor") {
		t.Errorf("doctor after rotate:\n%s", reportText(r))
	}

	// Rotating again moves on to the next generation.
	res, err = trust.Rotate(ctx, w.Env, trust.RotateOptions{Out: w.Dir, Poll: 10 * time.Millisecond, WaitTimeout: 30 * time.Second})
	if err != nil || res.To != "oidc-token-cred--r3" || res.From != "oidc-token-cred--r2" {
		t.Fatalf("second rotation: %+v %v", res, err)
	}
}

// An interrupted rotation (successor created, nothing else done) is
// finished by running rotate again.
func TestRotateResumes(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	w.Export()
	ctx := w.Ctx()
	r, _ := render.New(render.Options{})
	out, err := r.Render(w.S.WithCredential("oidc-token-cred--r2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Env.Jenkins.CreateCredential(ctx, "", out.Credential.FormJSON); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := trust.Rotate(ctx, w.Env, trust.RotateOptions{Out: w.Dir, Poll: 10 * time.Millisecond, WaitTimeout: 10 * time.Second, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if res.Created || res.To != "oidc-token-cred--r2" || len(res.Deleted) != 1 || !strings.Contains(log.String(), "resuming") {
		t.Errorf("result %+v\n%s", res, log.String())
	}
	ids, _ := w.Env.Jenkins.CredentialIDs(ctx, "")
	if strings.Join(ids, ",") != "oidc-token-cred--r2" {
		t.Errorf("credentials after resume: %v", ids)
	}
	// A folder that does not exist yet holds no credential: plan on a
	// fresh controller must not fail on it.
	if ids, err := w.Env.Jenkins.CredentialIDs(ctx, "no-such-folder"); err != nil || len(ids) != 0 {
		t.Errorf("CredentialIDs of a missing folder = %v, %v", ids, err)
	}
}

// A custom issuer nobody publishes to times out with a message that says
// so, and leaves the old credential and the jobs alone.
func TestRotateWaitsForPublication(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	w.Export()
	ctx := w.Ctx()
	_, err := trust.Rotate(ctx, w.Env, trust.RotateOptions{Poll: 10 * time.Millisecond, WaitTimeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not serve the JWKS with both keys") {
		t.Fatalf("err = %v", err)
	}
	cfg, _ := w.Env.Jenkins.JobConfig(ctx, "app/build")
	if !bytes.Contains(cfg, []byte("<credentialsId>oidc-token-cred</credentialsId>")) {
		t.Error("jobs were switched before the new key was published")
	}
}

func TestSuccessorIDs(t *testing.T) {
	tests := []struct {
		id   string
		gen  int
		want bool
	}{
		{"oidc", 1, true}, {"oidc--r2", 2, true}, {"oidc--r17", 17, true},
		{"oidc--r1", 0, false}, {"oidc--r02", 0, false}, {"oidc--rx", 0, false}, {"oidc-2", 0, false}, {"other", 0, false},
	}
	for _, tt := range tests {
		g, ok := spec.CredentialGeneration(tt.id, "oidc")
		if g != tt.gen || ok != tt.want {
			t.Errorf("CredentialGeneration(%q) = %d, %v", tt.id, g, ok)
		}
		if ok && spec.SuccessorID("oidc", g) != tt.id {
			t.Errorf("SuccessorID(oidc, %d) = %q", g, spec.SuccessorID("oidc", g))
		}
	}
	// Derived ids pass the spec's credential id rule.
	yaml := "version: 1\njenkins: {url: 'https://j.example.com/', user: u, token: '${T}'}\ncloudsmith: {org: acme, service: s}\n" +
		"oidc: {credential: '" + spec.SuccessorID("my.oidc_cred-1", 12) + "', audience: a}\njobs: [{name: a, type: freestyle, repo: r, formats: [raw], steps: [x]}]\n"
	if _, err := spec.Parse("s.yaml", []byte(yaml), func(string) string { return "t" }); err != nil {
		t.Fatal(err)
	}
}

// A build that started with the old credential is waited for before its
// key is removed.
func TestRotateWaitsForRunningBuild(t *testing.T) {
	w := trustedWorld(t, trusttest.Options{Step: "sleep 1; echo slow build done"})
	ctx := w.Ctx()
	queue, err := w.Env.Jenkins.TriggerBuild(ctx, "app/build")
	if err != nil {
		t.Fatal(err)
	}
	n, err := w.Env.Jenkins.WaitForQueueItem(ctx, queue)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if _, err := trust.Rotate(ctx, w.Env, trust.RotateOptions{Out: w.Dir, Poll: 10 * time.Millisecond, WaitTimeout: 30 * time.Second, Log: &log}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), fmt.Sprintf("waiting for app/build #%d", n)) {
		t.Errorf("rotate did not wait for the running build:\n%s", log.String())
	}
	b, err := w.Env.Jenkins.WaitForBuild(ctx, "app/build", n)
	if err != nil || b.Result != "SUCCESS" {
		console, _ := w.Env.Jenkins.ConsoleText(ctx, "app/build", n)
		t.Fatalf("build %+v %v\n%s", b, err, console)
	}
}

// After rotate, plan and apply manage the successor: nothing to do, no
// re-created original id, no job pointed back at it.
func TestPlanAfterRotate(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{DefaultIssuer: true})
	w.Apply()
	ctx := w.Ctx()
	if _, err := trust.Rotate(ctx, w.Env, trust.RotateOptions{Poll: 10 * time.Millisecond, WaitTimeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	sess, err := apply.Load(apply.LoadOptions{File: w.SpecFile, Getenv: func(k string) string { return w.Vars[k] }, Plan: plan.Options{Parallel: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Compute(ctx); err != nil {
		t.Fatal(err)
	}
	// (The Cloudsmith provider is not set up by this test: ignore it.)
	jenkinsSide := sess.Plan.Filter(func(c plan.Change) bool { return c.Kind == plan.KindCredential || c.Kind == plan.KindJob })
	if !jenkinsSide.Empty() || sess.Spec.OIDC.Credential != "oidc-token-cred--r2" {
		var b bytes.Buffer
		_ = views.PlanText(&b, sess.Plan, nil)
		t.Fatalf("plan after rotate (credential %s):\n%s", sess.Spec.OIDC.Credential, b.String())
	}
}

// A rotation interrupted after the old credential was deleted but before
// its key was unpublished is finished, not restarted.
func TestRotateFinishesUnpublish(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	ctx := w.Ctx()
	r, _ := render.New(render.Options{})
	out, err := r.Render(w.S.WithCredential("oidc-token-cred--r2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Env.Jenkins.CreateCredential(ctx, "", out.Credential.FormJSON); err != nil {
		t.Fatal(err)
	}
	w.Export() // both keys
	if err := w.Env.Jenkins.DeleteCredential(ctx, "", "oidc-token-cred"); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := trust.Rotate(ctx, w.Env, trust.RotateOptions{Out: w.Dir, Poll: 10 * time.Millisecond, WaitTimeout: 10 * time.Second, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if res.From != "oidc-token-cred" || res.To != "oidc-token-cred--r2" || res.Created {
		t.Errorf("result %+v\n%s", res, log.String())
	}
	want, _ := trust.FromJenkins(ctx, w.Env.Jenkins, w.S)
	if chk := trust.Check(ctx, w.Env.Issuer, want); strings.Join(chk.Kids, ",") != "oidc-token-cred--r2" {
		t.Errorf("hosted kids %v", chk.Kids)
	}
}

// The spec changes its credential's description: apply refuses to re-save
// it (a new key under the same kid), rotate moves to a successor with the
// new description while builds keep exchanging, and plan is then empty.
func TestCredentialChangeThroughRotate(t *testing.T) {
	w := trustedWorld(t, trusttest.Options{})
	ctx := w.Ctx()

	w.S.OIDC.Description = "changed by the spec"
	in := planInput(t, w)
	p, err := plan.Compute(ctx, in, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var re *apply.RefusedError
	if _, err := apply.Execute(ctx, w.Env.Jenkins, nil, p, apply.Options{}); !errors.As(err, &re) {
		t.Fatalf("apply of a description change: %v", err)
	}

	ex, stop := startExchanger(ctx, w, "app/build")
	var log bytes.Buffer
	if _, err := trust.Rotate(ctx, w.Env, trust.RotateOptions{Out: w.Dir, Poll: 10 * time.Millisecond,
		WaitTimeout: 30 * time.Second, Grace: 100 * time.Millisecond, Log: &log}); err != nil {
		t.Fatalf("rotate: %v\n%s", err, log.String())
	}
	stop()
	if ex.fails.Load() > 0 {
		t.Fatalf("%d exchanges failed:\n%s", ex.fails.Load(), strings.Join(ex.errs, "\n"))
	}
	cred, err := w.Env.Jenkins.GetCredential(ctx, "", "oidc-token-cred--r2")
	if err != nil || render.WithoutMarker(cred.Description) != "changed by the spec" {
		t.Fatalf("successor: %+v, %v", cred, err)
	}
	if p, err = plan.Compute(ctx, in, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	if c := p.Filter(func(c plan.Change) bool { return c.Kind == plan.KindCredential || c.Kind == plan.KindJob }); !c.Empty() {
		t.Errorf("plan after rotate: %+v", c.Changes)
	}
}

// Coming from the manual guide: a hand-made job still binds the credential
// rotate replaces. Rotate switches the spec's jobs but does not delete the
// old credential, naming the job; once the job is pointed at the successor
// rotate finishes. --ignore-outside-jobs deletes it anyway.
func TestRotateKeepsCredentialBoundOutsideSpec(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{DefaultIssuer: true})
	w.Apply()
	ctx := w.Ctx()
	guideJob := func(id string) []byte {
		return []byte(`<project><description>made by hand</description><buildWrappers><org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper>` +
			`<bindings><org.jenkinsci.plugins.credentialsbinding.impl.StringBinding><credentialsId>` + id +
			`</credentialsId><variable>OIDC_TOKEN</variable></org.jenkinsci.plugins.credentialsbinding.impl.StringBinding></bindings>` +
			`</org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper></buildWrappers><builders/></project>`)
	}
	if err := w.Env.Jenkins.CreateJob(ctx, "cloudsmith-usage", guideJob("oidc-token-cred")); err != nil {
		t.Fatal(err)
	}
	opts := trust.RotateOptions{Poll: 10 * time.Millisecond, WaitTimeout: 10 * time.Second}
	_, err := trust.Rotate(ctx, w.Env, opts)
	var oe *trust.OutsideJobsError
	if !errors.As(err, &oe) || !slices.Equal(oe.Jobs, []string{"cloudsmith-usage"}) || !strings.Contains(err.Error(), "--ignore-outside-jobs") {
		t.Fatalf("err = %v", err)
	}
	if _, err := w.Env.Jenkins.GetCredential(ctx, "", "oidc-token-cred"); err != nil {
		t.Fatalf("old credential deleted although a job binds it: %v", err)
	}
	if err := w.Env.Jenkins.UpdateJob(ctx, "cloudsmith-usage", guideJob("oidc-token-cred--r2")); err != nil {
		t.Fatal(err)
	}
	res, err := trust.Rotate(ctx, w.Env, opts)
	if err != nil || !slices.Equal(res.Deleted, []string{"oidc-token-cred"}) {
		t.Fatalf("resumed rotation: %+v, %v", res, err)
	}

	// Told to: the next rotation deletes --r2 although the job binds it.
	opts.IgnoreOutsideJobs = true
	if res, err = trust.Rotate(ctx, w.Env, opts); err != nil || !slices.Equal(res.Deleted, []string{"oidc-token-cred--r2"}) {
		t.Fatalf("forced rotation: %+v, %v", res, err)
	}
}

// planInput is what plan.Compute reads for the World's spec as it is now.
func planInput(t *testing.T, w *trusttest.World) plan.Input {
	t.Helper()
	r, err := render.New(render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(w.S)
	if err != nil {
		t.Fatal(err)
	}
	return plan.Input{Spec: w.S, Output: out, Jenkins: w.Env.Jenkins, Render: r.Render}
}
