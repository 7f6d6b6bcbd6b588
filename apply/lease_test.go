package apply_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

func (e *env) session() *apply.Session {
	return &apply.Session{Spec: e.s, Output: e.out, Targets: &apply.Targets{Jenkins: e.jc}, Options: plan.Options{Parallel: 4}}
}

// Two applies of one spec at once on one controller: one applies, the
// other stops before writing anything and names the holder; the key is
// generated once and the counts add up.
func TestIntegrationConcurrentApplies(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, names("team-a", 6))
	var wg sync.WaitGroup
	results := make([]*apply.Result, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = e.session().Apply(ctx, apply.RunOptions{Lease: apply.LeaseOptions{Holder: []string{"first", "second"}[i]}})
		}()
	}
	close(start)
	wg.Wait()
	var held *apply.LeaseHeldError
	won := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if won >= 0 {
				t.Fatal("both applies ran")
			}
			won = i
		case errors.As(err, &held):
			if !strings.Contains(err.Error(), "another apply of spec oidc-token-cred") || !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("message: %v", err)
			}
		default:
			t.Fatalf("apply %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatalf("no apply ran: %v", errs)
	}
	if res := results[won]; res.Created != 6 || res.Credential != plan.Create {
		t.Errorf("winner: %s", res.Summary())
	}
	if results[1-won] != nil {
		t.Errorf("the stopped apply reported %s", results[1-won].Summary())
	}
	keys := 0
	for _, w := range e.writes() {
		if strings.Contains(w, "createCredentials") || strings.Contains(w, "/credential/") {
			keys++
		}
	}
	if keys != 1 {
		t.Errorf("credential written %d times (each write is a new signing key): %v", keys, e.writes())
	}
	e.check(ctx, apply.LeaseName("oidc-token-cred", 1))

	// A no-op apply writes nothing, not even the lease.
	e.j.ResetRequests()
	if _, err := e.session().Apply(ctx, apply.RunOptions{}); err != nil || len(e.writes()) > 0 {
		t.Fatalf("no-op apply: %v, wrote %v", err, e.writes())
	}
	// Released: the next apply with changes takes the next generation and
	// deletes the old.
	e.setJobs(names("team-a", 7))
	if _, err := e.session().Apply(ctx, apply.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	e.check(ctx, apply.LeaseName("oidc-token-cred", 2))
}

// A lease whose holder crashed blocks applies until it expires, then the
// next apply takes over; a live one names its holder and its expiry.
func TestIntegrationLeaseExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, []string{"a"})
	now := time.Now()
	clock := func() time.Time { return now }
	crashed, _, err := apply.Acquire(ctx, e.jc, "oidc-token-cred", apply.LeaseOptions{Holder: "ci-runner-7", Now: clock, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	_ = crashed // never released: its process died
	_, err = e.session().Apply(ctx, apply.RunOptions{Lease: apply.LeaseOptions{Now: clock}})
	var held *apply.LeaseHeldError
	if !errors.As(err, &held) || held.Holder != "ci-runner-7" || !strings.Contains(err.Error(), held.Expires.UTC().Format(time.RFC3339)) {
		t.Fatalf("err = %v", err)
	}
	if w := e.writes(); len(w) != 1 {
		t.Errorf("writes besides the lease: %v", w)
	}
	later := func() time.Time { return now.Add(2 * time.Minute) }
	if _, err := e.session().Apply(ctx, apply.RunOptions{Lease: apply.LeaseOptions{Now: later}}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	e.check(ctx, apply.LeaseName("oidc-token-cred", 2))
	if _, err := e.jc.JobConfig(ctx, apply.LeaseName("oidc-token-cred", 1)); !errors.Is(err, jenkins.ErrNotFound) {
		t.Errorf("expired generation kept: %v", err)
	}
}
