package trust_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

// TestRotateLeavesAnotherSpecAlone: two specs on one controller (team A's
// credential in the system store with a custom issuer, team B's in its
// folder); rotating team A's key creates, switches and deletes only team
// A's things: team B's credential, key and jobs stay as they were, and
// its plan stays empty.
func TestRotateLeavesAnotherSpecAlone(t *testing.T) {
	w := trustedWorld(t, trusttest.Options{})
	ctx := w.Ctx()

	specB := filepath.Join(t.TempDir(), "team-b.yaml")
	yaml := fmt.Sprintf(`version: 1
id: team-b
jenkins: {url: %q, user: admin, token: "${JENKINS_API_TOKEN}"}
cloudsmith: {org: %s, service: %s, api_url: %q}
oidc: {credential: oidc-team-b, folder: team-b, audience: jenkins}
binary: {path: cloudsmith-oidc}
defaults: {repo: %s, formats: [raw]}
jobs:
  - {name: team-b/build, type: freestyle, steps: ["echo b"]}
`, w.J.URL, w.CS.Org, w.Service, w.CS.APIURL, w.CS.Repo)
	if err := os.WriteFile(specB, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string { return w.Vars[k] }
	load := func() *apply.Session {
		t.Helper()
		sess, err := apply.Load(apply.LoadOptions{File: specB, Getenv: getenv, Plan: plan.Options{Parallel: 4}})
		if err != nil {
			t.Fatal(err)
		}
		return sess
	}
	if _, err := load().Apply(ctx, apply.RunOptions{}); err != nil {
		t.Fatalf("apply team B: %v", err)
	}
	keyB, err := w.J.Jenkins.JWKS("team-b")
	if err != nil {
		t.Fatal(err)
	}
	cfgB, err := w.Env.Jenkins.JobConfig(ctx, "team-b/build")
	if err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer
	res, err := trust.Rotate(ctx, w.Env, trust.RotateOptions{Out: w.Dir, Poll: 10 * time.Millisecond,
		WaitTimeout: 30 * time.Second, Grace: 50 * time.Millisecond, Log: &log})
	if err != nil {
		t.Fatalf("rotate team A: %v\n%s", err, log.String())
	}
	for _, j := range res.Switched {
		if j == "team-b/build" {
			t.Errorf("team A's rotation switched team B's job")
		}
	}

	if after, err := w.J.Jenkins.JWKS("team-b"); err != nil || !bytes.Equal(after, keyB) {
		t.Errorf("team B's key changed (%v)", err)
	}
	if after, err := w.Env.Jenkins.JobConfig(ctx, "team-b/build"); err != nil || !bytes.Equal(after, cfgB) {
		t.Errorf("team B's job changed (%v)", err)
	}
	if o, ok := render.Owner(string(cfgB)); ok && o != "team-b" {
		t.Errorf("team B's job is owned by %q", o)
	}
	sess := load()
	if err := sess.Compute(ctx); err != nil || !sess.Plan.Empty() {
		t.Errorf("team B's plan after team A's rotation: %v, %+v", err, planChanges(sess.Plan))
	}
}

func planChanges(p *plan.Plan) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, c := range p.Changes {
		out = append(out, string(c.Action)+" "+string(c.Kind)+" "+c.Name)
	}
	return out
}
