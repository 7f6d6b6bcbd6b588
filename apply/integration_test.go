package apply_test

// Integration tests: the real spec loader, renderer and Jenkins client
// against the jenkinstest emulator over loopback HTTP.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/testenv"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan/plantest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// env is a controller with a spec pointed at it.
type env struct {
	t   *testing.T
	url string
	j   *jenkinstest.Jenkins
	jc  *jenkins.Client
	s   *spec.Spec
	out *render.Output
}

func newEnv(t *testing.T, names []string, opts ...jenkinstest.Option) *env {
	t.Helper()
	url, j := plantest.StartJenkins(t, opts...)
	e := &env{t: t, url: url, j: j}
	e.setJobs(names)
	// The client as connect.Clients builds it, with quick retries: the
	// faults are injected, there is no server that needs time to recover.
	jc, err := jenkins.New(jenkins.Config{URL: url, User: "admin", Token: j.AdminToken(),
		Retry: httpx.Retry{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	e.jc = jc
	return e
}

// setJobs changes the spec's job list.
func (e *env) setJobs(names []string) {
	e.t.Helper()
	e.setSpec(plantest.SpecYAML(e.url, names...))
}

// setSpec loads and renders spec text, with the controller's token in
// ${JENKINS_API_TOKEN}.
func (e *env) setSpec(y string) {
	e.t.Helper()
	s, err := spec.Parse("spec.yaml", []byte(y), envMap{"JENKINS_API_TOKEN": e.j.AdminToken()}.get)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := render.New(render.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	if e.out, err = r.Render(s); err != nil {
		e.t.Fatal(err)
	}
	e.s = s
}

func (e *env) converge(ctx context.Context, popt plan.Options) (*plan.Plan, *apply.Result, error) {
	p, err := plan.Compute(ctx, plan.Input{Spec: e.s, Output: e.out, Jenkins: e.jc}, popt)
	if err != nil {
		return nil, nil, err
	}
	res, err := apply.Execute(ctx, e.jc, nil, p, apply.Options{Parallel: popt.Parallel, Sleep: noSleep})
	return p, res, err
}

func (e *env) writes() []string {
	var w []string
	for _, r := range e.j.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w = append(w, r.Method+" "+r.Path)
		}
	}
	return w
}

// check asserts the controller holds exactly the spec's jobs (plus
// extra), each with the rendered config.
func (e *env) check(ctx context.Context, extra ...string) {
	e.t.Helper()
	items, err := e.jc.ListJobs(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		if !it.Folder {
			got = append(got, it.FullName)
		}
	}
	want := slices.Clone(extra)
	for _, j := range e.out.Jobs {
		want = append(want, j.Name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		e.t.Fatalf("jobs in Jenkins:\n%v\nwant:\n%v", got, want)
	}
	for _, j := range e.out.Jobs {
		have, err := e.jc.JobConfig(ctx, j.Name)
		if err != nil {
			e.t.Fatal(err)
		}
		if same, _, err := plan.SameConfig(have, j.ConfigXML); err != nil || !same {
			e.t.Fatalf("job %s differs from the spec (%v)", j.Name, err)
		}
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s/job-%03d", prefix, i)
	}
	return out
}

func TestIntegrationApplyIdempotent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, append(names("team-a", 4), "top-level", "team b/sub/déjà vu"))
	_, res, err := e.converge(ctx, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 6 || res.Credential != plan.Create {
		t.Errorf("first apply: %s", res.Summary())
	}
	e.check(ctx)
	jwks, err := e.j.JWKS("")
	if err != nil {
		t.Fatal(err)
	}

	e.j.ResetRequests()
	p, res, err := e.converge(ctx, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() || res.UnchangedJobs != 6 {
		t.Errorf("second apply planned %+v (%s)", p.Changes, res.Summary())
	}
	if w := e.writes(); len(w) > 0 {
		t.Errorf("second apply wrote: %v", w)
	}
	// One list, one config read per job, plus a handful (plugins, user,
	// credential): at most one read per job beyond a constant.
	if n := len(e.j.Requests()); n > 6+8 {
		t.Errorf("no-op apply sent %d requests", n)
	}
	after, err := e.j.JWKS("")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(jwks, after) {
		t.Error("JWKS changed on a no-op apply")
	}
}

func TestIntegrationHandEditRestored(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, names("team-a", 3))
	if _, _, err := e.converge(ctx, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	name := e.out.Jobs[0].Name
	edited := bytes.Replace(e.out.Jobs[0].ConfigXML, []byte("echo 0"), []byte("echo hacked"), 1)
	if bytes.Equal(edited, e.out.Jobs[0].ConfigXML) {
		t.Fatal("test setup: step not found in rendered XML")
	}
	if err := e.jc.UpdateJob(ctx, name, edited); err != nil {
		t.Fatal(err)
	}
	e.j.ResetRequests()
	p, res, err := e.converge(ctx, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Update || p.Changes[0].Name != name ||
		!strings.Contains(p.Changes[0].Diff, "hacked") {
		t.Fatalf("plan: %+v", p.Changes)
	}
	if res.Updated != 1 {
		t.Errorf("apply: %s", res.Summary())
	}
	if w := e.writes(); len(w) != 1 || !strings.HasSuffix(w[0], "/config.xml") {
		t.Errorf("writes = %v, want one config.xml POST", w)
	}
	e.check(ctx)
}

func TestIntegrationPruneOnlyManaged(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, names("team-a", 4))
	if _, _, err := e.converge(ctx, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	// A job made by hand, in a managed folder and at the top.
	mine := []byte(`<project><description>made by hand</description><builders/></project>`)
	for _, n := range []string{"team-a/by-hand", "by-hand"} {
		if err := e.jc.CreateJob(ctx, n, mine); err != nil {
			t.Fatal(err)
		}
	}
	e.setJobs(names("team-a", 2))
	p, _, err := e.converge(ctx, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() {
		t.Fatalf("without --prune: %+v", p.Changes)
	}
	p, res, err := e.converge(ctx, plan.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 2 || len(p.Changes) != 2 {
		t.Errorf("prune: %s", res.Summary())
	}
	e.check(ctx, "team-a/by-hand", "by-hand")
}

func TestIntegrationUnmanagedConflict(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, []string{"taken"})
	if err := e.jc.CreateJob(ctx, "taken", []byte(`<project><description>mine</description></project>`)); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.converge(ctx, plan.Options{})
	var ce *plan.ConflictError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "--adopt") {
		t.Fatalf("err = %v", err)
	}
	if _, _, err := e.converge(ctx, plan.Options{Adopt: true}); err != nil {
		t.Fatal(err)
	}
	e.check(ctx)
}

// Hundreds of jobs, latency and faults (5xx, resets, and writes applied
// whose answer is lost), an apply cancelled half-way, then re-applies:
// the end state is the spec, nothing lost, duplicated or touched outside
// it, and the signing key was generated once.
func TestIntegrationFaultsInterruptResume(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	ctx := context.Background()
	e := newEnv(t, names("big", 200), jenkinstest.WithLatency(time.Millisecond),
		jenkinstest.WithFaultRate(0.1, faultSeed()), jenkinstest.WithFaultsAfterMutation(0.5))
	// An unmanaged job that must survive everything.
	var err error
	for range 10 {
		if err = e.jc.CreateJob(ctx, "outsider", []byte(`<project><description>not ours</description></project>`)); err == nil ||
			errors.Is(err, jenkins.ErrAlreadyExists) {
			break
		}
	}
	if err != nil && !errors.Is(err, jenkins.ErrAlreadyExists) {
		t.Fatal(err)
	}

	t0 := time.Now()
	defer func() { t.Logf("total %v", time.Since(t0)) }()
	cctx, cancel := context.WithCancel(ctx)
	var done atomic.Int32
	p, err := plan.Compute(cctx, plan.Input{Spec: e.s, Output: e.out, Jenkins: e.jc}, plan.Options{Parallel: 8})
	for i := 0; err != nil && i < 5; i++ { // reads may exhaust retries under faults; planning again is free
		p, err = plan.Compute(cctx, plan.Input{Spec: e.s, Output: e.out, Jenkins: e.jc}, plan.Options{Parallel: 8})
	}
	if err != nil {
		t.Fatal(err)
	}
	_, err = apply.Execute(cctx, e.jc, nil, p, apply.Options{Parallel: 8, Sleep: noSleep,
		OnChange: func(c plan.Change, err error) {
			if done.Add(1) == int32(len(p.Changes)/2) {
				cancel()
			}
		}})
	if err == nil {
		t.Fatal("apply finished despite the cancellation")
	}
	t.Logf("interrupted at %v", time.Since(t0))
	items, lerr := e.jc.ListJobs(ctx)
	for i := 0; lerr != nil && i < 5; i++ {
		items, lerr = e.jc.ListJobs(ctx)
	}
	if lerr == nil {
		t.Logf("after interruption: %d items in Jenkins", len(items))
	}

	var last error
	for run := 0; run < 6; run++ {
		if _, _, last = e.converge(ctx, plan.Options{Parallel: 8}); last == nil {
			break
		}
		t.Logf("re-apply %d at %v: %v", run+1, time.Since(t0), last)
	}
	if last != nil {
		t.Fatalf("did not converge: %v", last)
	}
	e.check(ctx, "outsider")
	faults := map[string]int{}
	for _, r := range e.j.Requests() {
		if r.Fault != "" {
			faults[r.Fault]++
		}
	}
	t.Logf("faults injected: %v", faults)
	if len(faults) < 2 {
		t.Errorf("too few kinds of faults injected to test anything: %v", faults)
	}
	// A clean controller answer for the key: the JWKS has one key and a
	// no-op apply leaves it alone.
	before, err := e.j.JWKS("")
	if err != nil {
		t.Fatal(err)
	}
	for run := 0; run < 6; run++ {
		var p *plan.Plan
		if p, _, err = e.converge(ctx, plan.Options{Parallel: 8}); err == nil {
			if !p.Empty() {
				t.Errorf("converged state still plans %d changes", len(p.Changes))
			}
			break
		}
	}
	after, _ := e.j.JWKS("")
	if !bytes.Equal(before, after) {
		t.Error("JWKS changed on a no-op apply")
	}
}

// With cloudsmith.api_key, apply ensures the service account (matched by
// name: Cloudsmith assigns the slug), the OIDC provider (issuer URL,
// claims, service linked) and the service's repository privileges, through
// the real apply session, idempotently: on a Cloudsmith that suffixes
// slugs and shows what was created only after a delay, a re-apply creates
// no second account and writes nothing; other holders' privileges stay.
func TestIntegrationCloudsmithProvisioning(t *testing.T) {
	tests := []struct {
		name    string
		opts    []cloudsmithtest.Option
		setup   func(t *testing.T, cs *cloudsmithtest.Cloudsmith)
		job     string   // extra job line
		changes []string // Cloudsmith changes of the first apply
		grants  map[string]cloudsmithtest.Privilege
	}{
		{name: "fresh org, suffixed slug, delayed visibility",
			opts:    []cloudsmithtest.Option{cloudsmithtest.WithVisibilityDelay(300 * time.Millisecond)},
			changes: []string{"create cloudsmith-service jenkins-ci", "create cloudsmith-privilege demo", "create cloudsmith-provider jenkins"},
			grants:  map[string]cloudsmithtest.Privilege{"demo": cloudsmithtest.PrivilegeRead}},
		{
			name: "stale provider updated, other service and privileges kept, publishing job gets Write",
			setup: func(t *testing.T, cs *cloudsmithtest.Cloudsmith) {
				for _, slug := range []string{"jenkins-ci", "other"} {
					if _, err := cs.AddService(cloudsmithtest.Service{Name: slug, Slug: slug}); err != nil {
						t.Fatal(err)
					}
				}
				cs.AddOrg("acme", "releases")
				// More than the jobs need: kept, never lowered.
				if err := cs.GrantPrivilege("acme", "demo", "jenkins-ci", cloudsmithtest.PrivilegeAdmin); err != nil {
					t.Fatal(err)
				}
				for _, g := range []cloudsmithtest.Grant{{Privilege: cloudsmithtest.PrivilegeAdmin, User: "alice"},
					{Privilege: cloudsmithtest.PrivilegeRead, Team: "devs"}, {Privilege: cloudsmithtest.PrivilegeWrite, Service: "other"}} {
					if err := cs.AddGrant("acme", "releases", g); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := cs.AddProvider(cloudsmithtest.ProviderSettings{Name: "jenkins", ProviderURL: "https://old.example.com",
					Claims: map[string]any{"aud": "old"}, Enabled: true, ServiceAccounts: []string{"other"}}); err != nil {
					t.Fatal(err)
				}
			},
			job:     "  - {name: publisher, type: freestyle, repo: releases, publish: true, steps: [\"echo up\"]}\n",
			changes: []string{"create cloudsmith-privilege releases", "update cloudsmith-provider jenkins"},
			grants:  map[string]cloudsmithtest.Privilege{"demo": cloudsmithtest.PrivilegeAdmin, "releases": cloudsmithtest.PrivilegeWrite},
		},
		{
			// Cloudsmith derives a provider's slug from its name, so a second
			// "jenkins" next to "Jenkins" is refused (422): the one there is
			// updated, its name kept.
			name: "provider named in another case updated, not duplicated",
			opts: []cloudsmithtest.Option{cloudsmithtest.WithPlainServiceSlugs()},
			setup: func(t *testing.T, cs *cloudsmithtest.Cloudsmith) {
				if _, err := cs.AddService(cloudsmithtest.Service{Name: "jenkins-ci"}); err != nil {
					t.Fatal(err)
				}
				if _, err := cs.AddProvider(cloudsmithtest.ProviderSettings{Name: "Jenkins", ProviderURL: "https://old.example.com",
					Claims: map[string]any{"aud": "old"}, Enabled: true, ServiceAccounts: []string{"jenkins-ci"}}); err != nil {
					t.Fatal(err)
				}
			},
			changes: []string{"create cloudsmith-privilege demo", "update cloudsmith-provider Jenkins"},
			grants:  map[string]cloudsmithtest.Privilege{"demo": cloudsmithtest.PrivilegeRead},
		},
		{
			name: "dynamic mappings replaced by the service account",
			opts: []cloudsmithtest.Option{cloudsmithtest.WithPlainServiceSlugs()},
			setup: func(t *testing.T, cs *cloudsmithtest.Cloudsmith) {
				if _, err := cs.AddService(cloudsmithtest.Service{Name: "jenkins-ci"}); err != nil {
					t.Fatal(err)
				}
				if _, err := cs.AddProvider(cloudsmithtest.ProviderSettings{Name: "jenkins", ProviderURL: "https://old.example.com",
					Claims: map[string]any{"aud": "old"}, Enabled: true, MappingClaim: "sub",
					DynamicMappings: []cloudsmithtest.DynamicMapping{{ClaimValue: "x", ServiceAccount: "jenkins-ci"}}}); err != nil {
					t.Fatal(err)
				}
			},
			changes: []string{"create cloudsmith-privilege demo", "update cloudsmith-provider jenkins"},
			grants:  map[string]cloudsmithtest.Privilege{"demo": cloudsmithtest.PrivilegeRead},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cs := cloudsmithtest.New(tt.opts...)
			ts := httptest.NewServer(cs)
			t.Cleanup(ts.Close)
			if tt.setup != nil {
				tt.setup(t, cs)
			}
			before := map[string][]cloudsmithtest.Grant{"releases": cs.Grants("acme", "releases")}
			url, j := plantest.StartJenkins(t)
			y := strings.Replace(plantest.SpecYAML(url, "hello"), "cloudsmith: {org: acme, service: jenkins-ci}",
				fmt.Sprintf(`cloudsmith: {org: acme, service: jenkins-ci, api_url: %q, api_key: "${CLOUDSMITH_API_KEY}", provider: {name: jenkins}}`, ts.URL), 1) + tt.job
			file := filepath.Join(t.TempDir(), "spec.yaml")
			if err := os.WriteFile(file, []byte(y), 0o600); err != nil {
				t.Fatal(err)
			}
			env := envMap{"JENKINS_API_TOKEN": j.AdminToken(), "CLOUDSMITH_API_KEY": cs.APIKey()}
			run := func() (*apply.Session, *apply.Result, error) {
				sess, err := apply.Load(apply.LoadOptions{File: file, Getenv: env.get, Plan: plan.Options{Parallel: 4}})
				if err != nil {
					t.Fatal(err)
				}
				res, err := sess.Apply(ctx, apply.RunOptions{})
				return sess, res, err
			}
			_, res, err := run()
			if err != nil {
				var ae *apply.Error
				if errors.As(err, &ae) {
					t.Fatal(errors.Join(ae.Failures...))
				}
				t.Fatal(err)
			}
			// Grants and the provider are made in parallel.
			if !slices.Equal(slices.Sorted(slices.Values(res.Cloudsmith)), slices.Sorted(slices.Values(tt.changes))) {
				t.Errorf("first apply: %q, want %q", res.Cloudsmith, tt.changes)
			}
			svcs := cs.Services("acme")
			i := slices.IndexFunc(svcs, func(s cloudsmithtest.Service) bool { return s.Name == "jenkins-ci" })
			if i < 0 {
				t.Fatalf("no service named jenkins-ci: %+v", svcs)
			}
			slug := svcs[i].Slug
			provs := cs.Providers("acme")
			if len(provs) != 1 || provs[0].ProviderURL != url+"oidc" || provs[0].Claims["sub"] != url+"job/.*" || len(provs[0].Claims) != 1 ||
				!provs[0].Enabled || !slices.Contains(provs[0].ServiceAccounts, slug) || provs[0].MappingClaim != "" || len(provs[0].DynamicMappings) != 0 {
				t.Errorf("provider: %+v", provs)
			}
			for repo, want := range tt.grants {
				var got cloudsmithtest.Privilege
				for _, g := range cs.Grants("acme", repo) {
					if g.Service == slug {
						got = g.Privilege
					}
				}
				if got != want {
					t.Errorf("%s privilege on %s: %v, want %v", slug, repo, got, want)
				}
			}
			for _, g := range before["releases"] {
				if !slices.ContainsFunc(cs.Grants("acme", "releases"), func(h cloudsmithtest.Grant) bool {
					return h.Privilege == g.Privilege && h.Service == g.Service && h.Team == g.Team && h.User == g.User
				}) {
					t.Errorf("apply changed someone else's privilege %+v: now %+v", g, cs.Grants("acme", "releases"))
				}
			}
			req, _ := http.NewRequest(http.MethodGet, url+"job/hello/config.xml", nil)
			req.SetBasicAuth("admin", j.AdminToken())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(cfg), slug) {
				t.Errorf("job config does not carry the assigned slug %q", slug)
			}
			// A build's token (a current plugin: aud is an array) exchanges on
			// the strict emulator, and its Cloudsmith token reads the index.
			idToken, err := j.IDToken("hello", "oidc-token-cred")
			if err != nil {
				t.Fatal(err)
			}
			cc, err := cloudsmith.NewClient(cloudsmith.Options{APIURL: ts.URL})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := cc.Exchange(ctx, "acme", slug, idToken)
			if err != nil {
				t.Fatalf("exchange for %s: %v (%s)", slug, err, cs.LastExchangeFailure())
			}
			ireq, _ := http.NewRequest(http.MethodGet, ts.URL+"/basic/acme/demo/python/simple/", nil)
			ireq.SetBasicAuth("token", tok.Value)
			iresp, err := http.DefaultClient.Do(ireq)
			if err != nil {
				t.Fatal(err)
			}
			iresp.Body.Close()
			if iresp.StatusCode != http.StatusOK {
				t.Errorf("python index with the exchanged token: %d", iresp.StatusCode)
			}

			cs.ResetRequests()
			sess, _, err := run()
			if err != nil || !sess.Plan.Empty() {
				t.Errorf("second apply: %v, plan %+v", err, sess.Plan.Changes)
			}
			if n := len(cs.Services("acme")); n != len(svcs) {
				t.Errorf("second apply: %d service accounts, was %d", n, len(svcs))
			}
			for _, r := range cs.Requests() {
				if r.Method != http.MethodGet {
					t.Errorf("second apply wrote to Cloudsmith: %s %s", r.Method, r.Path)
				}
				if r.Method == http.MethodPut {
					t.Errorf("apply sent PUT %s", r.Path)
				}
			}
		})
	}
}

type envMap map[string]string

func (m envMap) get(k string) string { return m[k] }

// A job edited by hand in Jenkins: plan sees it (it compares with what
// Jenkins holds), Jenkins Job Builder does not (it compares with its cache
// of what it generated last time), which is why apply reads every job.
func TestIntegrationHandEditVersusJJB(t *testing.T) {
	jjb := testenv.LookPath(t, "jenkins-jobs")
	ctx := context.Background()
	e := newEnv(t, []string{"jjb-job"})
	dir := t.TempDir()
	ini := filepath.Join(dir, "jenkins_jobs.ini")
	if err := os.WriteFile(ini, []byte("[jenkins]\nurl="+e.url+"\nuser=admin\npassword="+e.j.AdminToken()+
		"\nquery_plugins_info=False\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	jobs := filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(jobs, []byte("- job:\n    name: jjb-job\n    builders:\n      - shell: echo from jjb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	update := func() []string {
		t.Helper()
		e.j.ResetRequests()
		cmd := exec.Command(jjb, "--conf", ini, "update", jobs)
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("jenkins-jobs update: %v\n%s", err, out)
		}
		return e.writes()
	}
	if w := update(); len(w) == 0 {
		t.Fatal("JJB created nothing")
	}
	edited := []byte("<project><description>edited by hand</description><builders/></project>")
	if err := e.jc.UpdateJob(ctx, "jjb-job", edited); err != nil {
		t.Fatal(err)
	}
	if w := update(); len(w) != 0 {
		t.Fatalf("JJB noticed the hand edit (%v): its cache behaves differently than documented", w)
	}

	// The same edit on a job we manage is planned as an update.
	if _, _, err := e.converge(ctx, plan.Options{Adopt: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.jc.UpdateJob(ctx, "jjb-job", edited); err != nil {
		t.Fatal(err)
	}
	p, err := plan.Compute(ctx, plan.Input{Spec: e.s, Output: e.out, Jenkins: e.jc}, plan.Options{Adopt: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Name != "jjb-job" || p.Changes[0].Action != plan.Update {
		t.Errorf("plan after a hand edit: %+v", p.Changes)
	}
}

// A credential in a folder's store: the folder is created first, and a
// second apply leaves the folder issuer's JWKS alone.
func TestIntegrationFolderCredential(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, []string{"placeholder"})
	e.setSpec(strings.Replace(plantest.SpecYAML(e.url, "team-a/sub/build"), "oidc: {", "oidc: {folder: team-a/sub, ", 1))
	if _, _, err := e.converge(ctx, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.jc.GetCredential(ctx, "team-a/sub", "oidc-token-cred"); err != nil {
		t.Fatalf("credential not in the folder store: %v", err)
	}
	jwks, err := e.j.JWKS("team-a/sub")
	if err != nil {
		t.Fatal(err)
	}
	e.j.ResetRequests()
	p, _, err := e.converge(ctx, plan.Options{})
	if err != nil || !p.Empty() || len(e.writes()) > 0 {
		t.Fatalf("second apply: %v, %+v, writes %v", err, p.Changes, e.writes())
	}
	if after, _ := e.j.JWKS("team-a/sub"); !bytes.Equal(jwks, after) {
		t.Error("folder JWKS changed on a no-op apply")
	}
}

// Changing the audience (or description, or issuer) would re-save the
// credential, which generates a new key under the same kid: apply refuses
// before writing anything, naming rotate and the flag; with the flag it
// replaces the key, and the plan said so.
func TestIntegrationAudienceChangeRotates(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, []string{"a"})
	if _, _, err := e.converge(ctx, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	before, err := e.j.JWKS("")
	if err != nil {
		t.Fatal(err)
	}
	for _, edit := range [][2]string{{"audience: jenkins", "audience: cloudsmith"}, {"description: OIDC token for Cloudsmith", "description: edited"}} {
		e.setSpec(strings.Replace(plantest.SpecYAML(e.url, "a"), edit[0], edit[1], 1))
		e.j.ResetRequests()
		_, _, err := e.converge(ctx, plan.Options{})
		var re *apply.RefusedError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "jenkins-cloudsmith rotate") || !strings.Contains(err.Error(), "--replace-key-with-downtime") {
			t.Fatalf("%s: err = %v", edit[1], err)
		}
		if w := e.writes(); len(w) > 0 {
			t.Fatalf("%s: refused apply wrote %v", edit[1], w)
		}
		if now, _ := e.j.JWKS(""); !bytes.Equal(before, now) {
			t.Fatalf("%s: the key changed although apply refused", edit[1])
		}
	}
	e.setSpec(strings.Replace(plantest.SpecYAML(e.url, "a"), "audience: jenkins", "audience: cloudsmith", 1))
	p, res, err := e.converge(ctx, plan.Options{ReplaceKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if !p.RotatesKey() || res.Credential != plan.Update {
		t.Errorf("plan %+v, result %s", p.Changes, res.Summary())
	}
	after, _ := e.j.JWKS("")
	if bytes.Equal(before, after) {
		t.Error("the key did not rotate although the plan said so")
	}
	cred, err := e.jc.GetCredential(ctx, "", "oidc-token-cred")
	if err != nil || cred.Audience != "cloudsmith" {
		t.Errorf("credential after update: %+v, %v", cred, err)
	}
}

// faultSeed is 42 unless FAULT_SEED says otherwise (to explore other fault
// sequences: FAULT_SEED=7 go test -run Faults ./apply).
func faultSeed() uint64 {
	if n, err := strconv.ParseUint(os.Getenv("FAULT_SEED"), 10, 64); err == nil {
		return n
	}
	return 42
}

// The UI's "Edit description" (POST submitDescription) replaces the whole
// description, marker included, and saves the job in XStream's form: the
// plan shows an update naming the way out, and apply restores the marker.
func TestIntegrationDescriptionEditedInUI(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, names("team-a", 2))
	if _, _, err := e.converge(ctx, plan.Options{}); err != nil {
		t.Fatal(err)
	}
	name := e.out.Jobs[1].Name
	req, _ := http.NewRequest(http.MethodPost, e.url+"job/team-a/job/job-001/submitDescription",
		strings.NewReader(url.Values{"description": {"edited in the UI"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("admin", e.j.AdminToken())
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("submitDescription: %d", resp.StatusCode)
	}
	p, res, err := e.converge(ctx, plan.Options{})
	if err != nil {
		t.Fatalf("a job the spec declares must not be a conflict: %v", err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Update || p.Changes[0].Name != name ||
		!strings.Contains(p.Changes[0].Reason, "description edited in Jenkins") || !strings.Contains(p.Changes[0].Diff, "edited in the UI") {
		t.Fatalf("plan: %+v", p.Changes)
	}
	if res.Updated != 1 {
		t.Errorf("apply: %s", res.Summary())
	}
	e.check(ctx)
}

// A claim the spec writes as a YAML number reaches Cloudsmith as a JSON
// number on create and update, and a provider holding it as the string
// "1" is planned for an update: the token's build_number is a number, and
// Cloudsmith compares JSON values.
func TestProviderClaimTypesFromSpec(t *testing.T) {
	cs := cloudsmithtest.New()
	ts := httptest.NewServer(cs)
	t.Cleanup(ts.Close)
	svc, err := cs.AddService(cloudsmithtest.Service{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cloudsmith.NewClient(cloudsmith.Options{APIURL: ts.URL, APIKey: cs.APIKey()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := plan.ProviderSettings{Name: "jenkins", ProviderURL: "https://j.example/oidc", Enabled: true, ServiceAccounts: []string{svc.Slug},
		Claims: map[string]string{"build_number": "1", "sub": "x"}, ClaimJSON: map[string]json.RawMessage{"build_number": json.RawMessage("1")}}
	if err := (apply.CloudsmithClient{C: c}).CreateProvider(ctx, "acme", want); err != nil {
		t.Fatal(err)
	}
	got := cs.Providers("acme")[0]
	if n, ok := got.Claims["build_number"].(json.Number); !ok || n != "1" || got.Claims["sub"] != "x" {
		t.Fatalf("created provider claims %#v", got.Claims)
	}
	read, err := (apply.CloudsmithClient{C: c}).Providers(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !plan.SameClaims(read[0], want) {
		t.Errorf("provider read back %#v differs from %#v", read[0], want)
	}
	asText := read[0]
	asText.ClaimJSON = nil
	if plan.SameClaims(asText, want) {
		t.Error(`the string "1" compares equal to the number 1`)
	}
	want.Slug = got.SlugPerm
	want.Claims["build_number"], want.ClaimJSON["build_number"] = "2", json.RawMessage("2")
	if err := (apply.CloudsmithClient{C: c}).UpdateProvider(ctx, "acme", want); err != nil {
		t.Fatal(err)
	}
	if n, ok := cs.Providers("acme")[0].Claims["build_number"].(json.Number); !ok || n != "2" {
		t.Errorf("updated provider claims %#v", cs.Providers("acme")[0].Claims)
	}
}
