package apply_test

// Two specs on one controller, and items made by hand as the manual guide
// makes them: each spec plans, prunes and adopts only what it owns.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan/plantest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
)

// teamSpec is a spec with its own id and a credential in its team's folder
// (or the system store when folder is "").
func teamSpec(url, id, folder string, jobs ...string) string {
	var b strings.Builder
	if folder != "" {
		folder = "folder: " + folder + ", "
	}
	fmt.Fprintf(&b, `version: 1
id: %s
jenkins: {url: %q, user: admin, token: "${JENKINS_API_TOKEN}"}
cloudsmith: {org: acme, service: jenkins-ci}
oidc: {credential: oidc-%s, %saudience: jenkins, description: OIDC token for %s}
defaults: {repo: demo, formats: [python]}
jobs:
`, id, url, id, folder, id)
	for i, j := range jobs {
		fmt.Fprintf(&b, "  - {name: %q, type: freestyle, steps: [\"echo %d\"]}\n", j, i)
	}
	return b.String()
}

func TestIntegrationTwoSpecsOwnTheirJobs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, []string{"placeholder"})
	// Team A's credential is in the system store, so its jobs may live
	// anywhere; team B's is in its folder.
	specA := func(jobs ...string) { e.setSpec(teamSpec(e.url, "team-a", "", jobs...)) }
	specB := func(jobs ...string) { e.setSpec(teamSpec(e.url, "team-b", "team-b", jobs...)) }

	specA("team-a/build", "team-a/lint")
	if _, _, err := e.converge(ctx, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	specB("team-b/build", "team-b/report")
	if _, _, err := e.converge(ctx, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	if o, ok := render.Owner(e.description(ctx, "team-b/report")); !ok || o != "team-b" {
		t.Fatalf("team B's job marked %q, %v", o, ok)
	}

	// Team A prunes: only its own dropped job goes.
	specA("team-a/build")
	p, res, err := e.converge(ctx, plan.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Name != "team-a/lint" || res.Deleted != 1 {
		t.Fatalf("team A's prune planned %+v", p.Changes)
	}
	e.check(ctx, "team-b/build", "team-b/report")

	// Team A cannot take team B's job, not even with --adopt, and the
	// conflict names the owner.
	specA("team-a/build", "team-b/report")
	for _, opt := range []plan.Options{{}, {Adopt: true}} {
		_, _, err := e.converge(ctx, opt)
		var ce *plan.ConflictError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), `"team-b"`) || !strings.Contains(err.Error(), "--adopt-from team-b") {
			t.Fatalf("adopt=%v: err = %v", opt.Adopt, err)
		}
	}
	// Moving it: team B drops it, team A adopts it from team B; team B's
	// prune then leaves it alone.
	if _, _, err := e.converge(ctx, plan.Options{AdoptFrom: []string{"team-b"}}); err != nil {
		t.Fatal(err)
	}
	if o, _ := render.Owner(e.description(ctx, "team-b/report")); o != "team-a" {
		t.Fatalf("moved job owned by %q", o)
	}
	specB("team-b/build")
	p, _, err = e.converge(ctx, plan.Options{Prune: true})
	if err != nil || !p.Empty() {
		t.Fatalf("team B's prune after the move: %v, %+v", err, p.Changes)
	}
	e.check(ctx, "team-a/build", "team-b/report")
}

// Jobs with the owner-less marker of older versions: the spec that
// defines one claims it, no spec prunes the others.
func TestIntegrationOwnerlessMarker(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, []string{"kept", "old-a", "old-b"})
	// What an older version rendered: the owner-less marker.
	for _, j := range e.out.Jobs {
		cfg := bytes.Replace(j.ConfigXML, []byte(" spec="+e.s.Identity()), nil, 1)
		if err := e.jc.CreateJob(ctx, j.Name, cfg); err != nil {
			t.Fatal(err)
		}
	}
	e.setJobs([]string{"kept"})
	p, res, err := e.converge(ctx, plan.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 0 || res.Updated != 1 || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "old-a, old-b") {
		t.Fatalf("plan %+v, warnings %q", p.Changes, p.Warnings)
	}
	if o, _ := render.Owner(e.description(ctx, "kept")); o != e.s.Identity() {
		t.Errorf("claimed job owned by %q", o)
	}
	e.check(ctx, "old-a", "old-b")
}

// The manual guide's credential (same id, made by hand): apply refuses it
// like a hand-made job and leaves its key alone; --adopt manages it as it
// is, without a new key, and later applies need no --adopt.
func TestIntegrationHandMadeCredential(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, []string{"a"})
	guide := []byte(`{"credentials":{"$class":"io.jenkins.plugins.oidc_provider.IdTokenStringCredentials","scope":"GLOBAL",` +
		`"id":"oidc-token-cred","description":"OIDC Token for Jenkins","audience":"jenkins"}}`)
	if err := e.jc.CreateCredential(ctx, "", guide); err != nil {
		t.Fatal(err)
	}
	before, err := e.j.JWKS("")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.converge(ctx, plan.Options{})
	var ce *plan.ConflictError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `credential "oidc-token-cred"`) || !strings.Contains(err.Error(), "--adopt") {
		t.Fatalf("err = %v", err)
	}
	// Same settings as the guide's, so adopting writes nothing to it.
	e.setSpec(strings.Replace(plantest.SpecYAML(e.url, "a"), "description: OIDC token for Cloudsmith", "description: OIDC Token for Jenkins", 1))
	p, res, err := e.converge(ctx, plan.Options{Adopt: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.RotatesKey() || res.Credential != "" || len(p.Warnings) == 0 {
		t.Fatalf("adopt planned %+v (warnings %q)", p.Changes, p.Warnings)
	}
	p, _, err = e.converge(ctx, plan.Options{})
	if err != nil || !p.Empty() {
		t.Fatalf("apply after adopting: %v, %+v", err, p.Changes)
	}
	if after, _ := e.j.JWKS(""); !bytes.Equal(before, after) {
		t.Error("the hand-made credential's key changed")
	}
}

func (e *env) description(ctx context.Context, name string) string {
	e.t.Helper()
	items, err := e.jc.ListJobs(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, it := range items {
		if it.FullName == name {
			return it.Description
		}
	}
	e.t.Fatalf("no job %s", name)
	return ""
}
