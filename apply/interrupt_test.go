package apply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/connect"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan/plantest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// cancelAfter is the Jenkins client that plays Ctrl-C: it cancels the
// apply's context once n job writes have been sent.
type cancelAfter struct {
	apply.Jenkins
	n      int64
	sent   atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelAfter) CreateJob(ctx context.Context, name string, xml []byte) error {
	if c.sent.Add(1) == c.n {
		defer c.cancel()
	}
	return c.Jenkins.CreateJob(ctx, name, xml)
}

// Ctrl-C in the middle of the jobs: the result adds up to the plan, names
// what is left (the Cloudsmith service and provider included), and a
// re-run plans exactly that, minus what was cut off in flight and landed.
func TestIntegrationInterruptedSummary(t *testing.T) {
	cs := cloudsmithtest.New()
	ts := httptest.NewServer(cs)
	t.Cleanup(ts.Close)
	url, j := plantest.StartJenkins(t)
	y := strings.Replace(plantest.SpecYAML(url, names("team-a", 8)...), "cloudsmith: {org: acme, service: jenkins-ci}",
		fmt.Sprintf(`cloudsmith: {org: acme, service: jenkins-ci, api_url: %q, api_key: "${CLOUDSMITH_API_KEY}"}`, ts.URL), 1)
	s, err := spec.Parse("spec.yaml", []byte(y), envMap{"JENKINS_API_TOKEN": j.AdminToken(), "CLOUDSMITH_API_KEY": cs.APIKey()}.get)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := render.New(render.Options{})
	out, err := r.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := apply.TargetsOf(connect.New(s, connect.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	bg, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	compute := func() *plan.Plan {
		p, err := plan.Compute(bg, plan.Input{Spec: s, Output: out, Jenkins: tg.Jenkins, Cloudsmith: tg.Cloudsmith}, plan.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := compute()
	ctx, cancel := context.WithCancel(bg)
	jc := &cancelAfter{Jenkins: tg.Jenkins, n: 3, cancel: cancel}
	res, err := apply.Execute(ctx, jc, tg.Cloudsmith, p, apply.Options{Org: "acme", Parallel: 2, Sleep: noSleep})
	var ae *apply.Error
	if !errors.As(err, &ae) || !ae.Interrupted {
		t.Fatalf("err = %v", err)
	}
	made := res.Created + res.FoldersCreated + len(res.Cloudsmith)
	if res.Credential != "" {
		made++
	}
	if made+res.Failed+res.Skipped+res.InFlight != len(p.Changes) || len(res.Remaining) != len(p.Changes)-made {
		t.Errorf("counts do not add up to the plan's %d changes: %+v", len(p.Changes), res)
	}
	for _, want := range []string{"create cloudsmith-service jenkins-ci", "create cloudsmith-provider jenkins"} {
		if !slices.Contains(res.Remaining, want) || !strings.Contains(err.Error(), want) {
			t.Errorf("remaining %q lacks %q (error: %v)", res.Remaining, want, err)
		}
	}
	if !strings.Contains(res.Summary(), "not attempted") {
		t.Errorf("summary: %s", res.Summary())
	}
	// What the re-run plans is what the interrupted apply said is left.
	var next []string
	for _, c := range compute().Changes {
		next = append(next, fmt.Sprintf("%s %s %s", c.Action, c.Kind, c.Name))
	}
	for _, d := range next {
		if !slices.Contains(res.Remaining, d) {
			t.Errorf("re-run plans %q, which the summary did not list", d)
		}
	}
	for _, d := range res.Remaining {
		if !slices.Contains(next, d) && !slices.Contains(ae.InFlight, d) {
			t.Errorf("summary listed %q, which the re-run does not need (%v)", d, err)
		}
	}
	if _, err := apply.Execute(bg, tg.Jenkins, tg.Cloudsmith, compute(), apply.Options{Org: "acme", Sleep: noSleep}); err != nil {
		t.Fatal(err)
	}
	if p := compute(); !p.Empty() {
		t.Errorf("after the re-run: %+v", p.Changes)
	}
}
