package jenkins_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins/jenkinstest"
)

// These tests drive every client call against the emulator.

func start(t testing.TB, opts ...jenkinstest.Option) *jenkinstest.Server {
	t.Helper()
	srv, err := jenkinstest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func clientFor(t testing.TB, srv *jenkinstest.Server, user, token string) *jenkins.Client {
	t.Helper()
	c, err := jenkins.New(jenkins.Config{URL: srv.URL, User: user, Token: token,
		Retry: httpx.Retry{MaxAttempts: 10, Base: time.Millisecond, Cap: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func adminClient(t testing.TB, srv *jenkinstest.Server) *jenkins.Client {
	return clientFor(t, srv, "admin", srv.Jenkins.AdminToken())
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

const folderXML = `<?xml version="1.0" encoding="UTF-8"?>
<com.cloudbees.hudson.plugins.folder.Folder plugin="cloudbees-folder@6.1">
  <description>%s</description>
  <properties/>
</com.cloudbees.hudson.plugins.folder.Folder>`

const jobXML = `<?xml version="1.0" encoding="UTF-8"?>
<project>
  <description>%s</description>
  <keepDependencies>false</keepDependencies>
  <properties/>
  <canRoam>true</canRoam>
  <disabled>false</disabled>
  <builders>
    <hudson.tasks.Shell>
      <command>%s</command>
    </hudson.tasks.Shell>
  </builders>
  <publishers/>
  <buildWrappers/>
</project>`

func job(desc, cmd string) []byte { return fmt.Appendf(nil, jobXML, desc, cmd) }

// Names Jenkins accepts that are hostile to URL building.
var hostile = []string{"team a", "süb ü", "build + wheel 'x' (1)"}

func TestEmulatorJobs(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := adminClient(t, srv)
	ctx := ctxFor(t)

	top, sub := hostile[0], hostile[0]+"/"+hostile[1]
	leaf := sub + "/" + hostile[2]
	for _, f := range []string{top, sub} {
		if err := c.CreateFolder(ctx, f, fmt.Appendf(nil, folderXML, "managed")); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.CreateJob(ctx, leaf, job("one", "echo one")); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateJob(ctx, "ünï cödé", job("two", "echo two")); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateJob(ctx, leaf, job("one", "echo one")); !errors.Is(err, jenkins.ErrAlreadyExists) {
		t.Errorf("duplicate create: %v", err)
	}
	var he *jenkins.HTTPError
	if err := c.CreateJob(ctx, top+"/50%", job("", "")); !errors.As(err, &he) || he.Status != 400 || !strings.Contains(he.XError, "unsafe character") {
		t.Errorf("create with %%: %v", err)
	}
	if err := c.CreateJob(ctx, "no such folder/x", job("", "")); !errors.Is(err, jenkins.ErrNotFound) {
		t.Errorf("create in a missing folder: %v", err)
	}

	items, err := c.ListJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]jenkins.Item{}
	for _, it := range items {
		got[it.FullName] = it
	}
	if len(got) != 4 || !got[top].Folder || !got[sub].Folder || got[leaf].Folder || got[leaf].Description != "one" || got[leaf].Class != "hudson.model.FreeStyleProject" {
		t.Errorf("ListJobs = %+v", items)
	}

	cfg, err := c.JobConfig(ctx, leaf)
	if err != nil {
		t.Fatal(err)
	}
	same(t, cfg, job("one", "echo one"))
	if err := c.UpdateJob(ctx, leaf, job("one, updated", "echo 'quoted' && echo <b>")); err == nil {
		t.Error("update with malformed XML accepted")
	}
	want := job("one, updated", "echo &apos;quoted&apos; &amp;&amp; echo &lt;b&gt;")
	if err := c.UpdateJob(ctx, leaf, want); err != nil {
		t.Fatal(err)
	}
	cfg, err = c.JobConfig(ctx, leaf)
	if err != nil {
		t.Fatal(err)
	}
	same(t, cfg, want)

	if err := c.DeleteJob(ctx, leaf); err != nil {
		t.Fatal(err)
	}
	if _, err := c.JobConfig(ctx, leaf); !errors.Is(err, jenkins.ErrNotFound) {
		t.Errorf("config of a deleted job: %v", err)
	}
	if err := c.DeleteJob(ctx, leaf); !errors.Is(err, jenkins.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if err := c.DeleteJob(ctx, top); err != nil {
		t.Fatal(err)
	}
	items, err = c.ListJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].FullName != "ünï cödé" {
		t.Errorf("after deletes: %+v", items)
	}
}

func same(t *testing.T, have, want []byte) {
	t.Helper()
	a, err := jenkins.NormalizeConfig(have)
	if err != nil {
		t.Fatal(err)
	}
	b, err := jenkins.NormalizeConfig(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("config differs:\nhave %s\nwant %s", a, b)
	}
}

func credForm(kind, id, audience, issuer, desc string) []byte {
	class := "io.jenkins.plugins.oidc_provider.IdTokenStringCredentials"
	if kind == "file" {
		class = "io.jenkins.plugins.oidc_provider.IdTokenFileCredentials"
	}
	b, _ := json.Marshal(map[string]any{"": "0", "credentials": map[string]string{
		"scope": "GLOBAL", "id": id, "description": desc, "audience": audience, "issuer": issuer,
		"$class": class, "stapler-class": class}})
	return b
}

func TestEmulatorCredentials(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := adminClient(t, srv)
	ctx := ctxFor(t)
	folder := hostile[0] + "/" + hostile[1]
	for _, f := range []string{hostile[0], folder} {
		if err := c.CreateFolder(ctx, f, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, store := range []string{"", folder} {
		t.Run("store="+store, func(t *testing.T) {
			if _, err := c.GetCredential(ctx, store, "oidc"); !errors.Is(err, jenkins.ErrNotFound) {
				t.Fatalf("before create: %v", err)
			}
			if err := c.CreateCredential(ctx, store, credForm("string", "oidc", "jenkins", "", "d & <x>")); err != nil {
				t.Fatal(err)
			}
			if err := c.CreateCredential(ctx, store, credForm("string", "oidc", "jenkins", "", "d")); !errors.Is(err, jenkins.ErrAlreadyExists) {
				t.Errorf("duplicate: %v", err)
			}
			got, err := c.GetCredential(ctx, store, "oidc")
			if err != nil {
				t.Fatal(err)
			}
			want := jenkins.IDTokenCredential{ID: "oidc", Kind: "string", Description: "d & <x>", Audience: "jenkins",
				Folder: store, Class: "io.jenkins.plugins.oidc_provider.IdTokenStringCredentials", Scope: "GLOBAL"}
			if *got != want {
				t.Errorf("got %+v\nwant %+v", *got, want)
			}
			_, jwks1, err := c.Discovery(ctx, "", "oidc", store)
			if err != nil {
				t.Fatal(err)
			}
			// A no-op (fields match, so nothing is posted) keeps the key.
			got2, _ := c.GetCredential(ctx, store, "oidc")
			_, jwks2, err := c.Discovery(ctx, "", "oidc", store)
			if err != nil || *got2 != *got || !bytes.Equal(jwks1, jwks2) {
				t.Errorf("JWKS changed without an update: %v", err)
			}
			// An update rotates the key.
			if err := c.UpdateCredential(ctx, store, "oidc", credForm("string", "oidc", "jenkins", "", "new")); err != nil {
				t.Fatal(err)
			}
			_, jwks3, err := c.Discovery(ctx, "", "oidc", store)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(jwks1, jwks3) || !strings.Contains(string(jwks3), `"kid":"oidc"`) {
				t.Errorf("update did not rotate the key:\n%s\n%s", jwks1, jwks3)
			}
			if got, _ := c.GetCredential(ctx, store, "oidc"); got == nil || got.Description != "new" {
				t.Errorf("after update: %+v", got)
			}
			if err := c.DeleteCredential(ctx, store, "oidc"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Discovery(ctx, "", "oidc", store); !errors.Is(err, jenkins.ErrNotFound) {
				t.Errorf("discovery without credentials: %v", err)
			}
		})
	}

	t.Run("custom issuer", func(t *testing.T) {
		const iss = "https://oidc.example.com/jenkins"
		if err := c.CreateCredential(ctx, "", credForm("file", "ext", "cloudsmith", iss, "")); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetCredential(ctx, "", "ext")
		if err != nil || got.Kind != "file" || got.Issuer != iss {
			t.Fatalf("got %+v, %v", got, err)
		}
		config, jwks, err := c.Discovery(ctx, iss, "ext", "")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(config, &doc); err != nil || doc.Issuer != iss || doc.JWKSURI != iss+"/jwks" {
			t.Errorf("config = %s", config)
		}
		if !strings.Contains(string(jwks), `"kid":"ext"`) {
			t.Errorf("jwks = %s", jwks)
		}
		// Custom-issuer credentials are not served by the default issuer.
		if _, _, err := c.Discovery(ctx, "", "ext", ""); !errors.Is(err, jenkins.ErrNotFound) {
			t.Errorf("default issuer: %v", err)
		}
	})
}

// Password auth needs the crumb and the session cookie: one crumb request
// per session, whatever the number of POSTs.
func TestEmulatorPasswordAuth(t *testing.T) {
	t.Parallel()
	srv := start(t, jenkinstest.WithCSRF(true))
	c := clientFor(t, srv, "admin", srv.Jenkins.AdminPassword())
	ctx := ctxFor(t)
	srv.Jenkins.ResetRequests()
	for i := range 3 {
		if err := c.CreateJob(ctx, fmt.Sprintf("j%d", i), job("", "")); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.CreateCredential(ctx, "", credForm("string", "pw", "a", "", "")); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteJob(ctx, "j0"); err != nil {
		t.Fatal(err)
	}
	crumbs := 0
	for _, r := range srv.Jenkins.Requests() {
		if strings.HasPrefix(r.Path, "/crumbIssuer/") {
			crumbs++
		}
		if r.Status == 403 {
			t.Errorf("%s %s: 403", r.Method, r.Path)
		}
	}
	if crumbs != 1 {
		t.Errorf("%d crumb requests, want 1", crumbs)
	}
	// Without the session layer the same password POST is refused: the
	// emulator really checks the crumb.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"createItem?name=j9", bytes.NewReader(job("", "")))
	req.SetBasicAuth("admin", srv.Jenkins.AdminPassword())
	req.Header.Set("Content-Type", "application/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("password POST without a crumb: %d, want 403", resp.StatusCode)
	}
}

func TestEmulatorAuthErrors(t *testing.T) {
	t.Parallel()
	srv := start(t, jenkinstest.WithUser(jenkinstest.User{Name: "reader", Token: "11reader-token-0123456789",
		Permissions: []jenkinstest.Permission{jenkinstest.OverallRead, jenkinstest.ItemRead}}))
	ctx := ctxFor(t)

	bad := clientFor(t, srv, "admin", "11wrong")
	_, err := bad.Info(ctx)
	if !errors.Is(err, jenkins.ErrUnauthorized) || !strings.Contains(err.Error(), "jenkins.token") || strings.Contains(err.Error(), "11wrong") {
		t.Errorf("bad token: %v", err)
	}
	reader := clientFor(t, srv, "reader", "11reader-token-0123456789")
	if _, err := reader.ListJobs(ctx); err != nil {
		t.Errorf("reader ListJobs: %v", err)
	}
	// Jenkins serves /pluginManager only with Overall/SystemRead
	// (PluginManager.getTarget), so Info may be refused; if so, it says why.
	info, err := reader.Info(ctx)
	var he *jenkins.HTTPError
	switch {
	case err == nil && (info.User != "reader" || info.Version != jenkinstest.DefaultVersion):
		t.Errorf("reader info: %+v", info)
	case err != nil && (!errors.As(err, &he) || he.Status != 403 || he.Permission == ""):
		t.Errorf("reader info: %v", err)
	}
	err = reader.CreateJob(ctx, "x", job("", ""))
	if !errors.Is(err, jenkins.ErrForbidden) || !errors.As(err, &he) || he.Permission != string(jenkinstest.ItemCreate) || he.AuthenticatedAs != "reader" {
		t.Errorf("reader create: %v (%+v)", err, he)
	}
	if !strings.Contains(err.Error(), "hudson.model.Item.Create") {
		t.Errorf("message does not name the permission: %v", err)
	}
}

func TestEmulatorPlugins(t *testing.T) {
	t.Parallel()
	srv := start(t, jenkinstest.WithoutPlugins("oidc-provider", "workflow-cps"))
	c := adminClient(t, srv)
	ctx := ctxFor(t)
	err := c.CheckPlugins(ctx)
	var pe *jenkins.PluginsError
	if !errors.As(err, &pe) || !slices.Equal(pe.Missing, []string{"oidc-provider", "workflow-cps"}) {
		t.Fatalf("CheckPlugins = %v", err)
	}
	// Fresh plugins load dynamically once their downloads finish, which
	// InstallPlugins waits for.
	if err := c.InstallPlugins(ctx, "oidc-provider@latest", "workflow-cps"); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckPlugins(ctx, "oidc-provider", "workflow-cps"); err != nil {
		t.Errorf("after install: %v", err)
	}
	// pipeline-groovy-lib could not load without workflow-cps at startup,
	// and a failed plugin loads only with a restart.
	var pe2 *jenkins.PluginsError
	if err := c.CheckPlugins(ctx); !errors.As(err, &pe2) || !slices.Equal(pe2.Inactive, []string{"pipeline-groovy-lib"}) {
		t.Errorf("dependent of a plugin missing at startup: %v", err)
	}
	info, err := c.Info(ctx)
	if err != nil || info.Plugins["oidc-provider"].Version == "" {
		t.Errorf("info: %+v %v", info, err)
	}

	if err := c.InstallPlugins(ctx, "no-such-plugin"); err == nil || !strings.Contains(err.Error(), "offers no plugin named no-such-plugin") {
		t.Errorf("unknown plugin: %v", err)
	}
	// A controller that cannot reach the update site: DownloadJob.Failure.
	offline := adminClient(t, start(t, jenkinstest.WithoutPlugins("job-dsl"), jenkinstest.WithFailingDownloads("job-dsl")))
	if err := offline.InstallPlugins(ctx, "job-dsl"); err == nil || !strings.Contains(err.Error(), "the update center could not install job-dsl (updates.jenkins.io)") {
		t.Errorf("failed download: %v", err)
	}

	// An upgrade needs the restart, queued behind the downloads.
	srv = start(t, jenkinstest.WithPluginVersion("git", "4.0"), jenkinstest.WithPluginDownloadTime(100*time.Millisecond))
	c = adminClient(t, srv)
	if err := c.InstallPlugins(ctx, "git@5.0"); err != nil {
		t.Fatal(err)
	}
	if v := srv.Jenkins.PluginVersion("git"); v != "4.0" {
		t.Errorf("upgrade active before the restart: %s", v)
	}
	// A running build holds the safe restart back: WaitReady must wait
	// for the new instance, not return while the old one still answers.
	if err := c.CreateJob(ctx, "slow", job("", "sleep 1")); err != nil {
		t.Fatal(err)
	}
	q, err := c.TriggerBuild(ctx, "slow")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitForQueueItem(ctx, q); err != nil {
		t.Fatal(err)
	}
	if err := c.SafeRestart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if v := srv.Jenkins.PluginVersion("git"); v != "5.7.0" {
		t.Errorf("after the restart git is %s", v)
	}
}

func TestEmulatorBuild(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := adminClient(t, srv)
	ctx := ctxFor(t)
	name := hostile[0] + "/" + hostile[2]
	if err := c.CreateFolder(ctx, hostile[0], nil); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateJob(ctx, name, job("", "echo hello from the build")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LastBuild(ctx, name); !errors.Is(err, jenkins.ErrNotFound) {
		t.Errorf("LastBuild before any build: %v", err)
	}
	q, err := c.TriggerBuild(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.WaitForQueueItem(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.WaitForBuild(ctx, name, n)
	if err != nil {
		t.Fatal(err)
	}
	if b.Number != n || b.Result != "SUCCESS" || b.Building {
		t.Errorf("build = %+v", b)
	}
	last, err := c.LastBuild(ctx, name)
	if err != nil || last.Number != n {
		t.Errorf("LastBuild = %+v, %v", last, err)
	}
	out, err := c.ConsoleText(ctx, name, n)
	if err != nil || !strings.Contains(string(out), "hello from the build") {
		t.Errorf("console: %q %v", out, err)
	}
}

// Faults (5xx and resets, some after the change was applied) neither
// duplicate nor lose a job or credential.
func TestEmulatorFaults(t *testing.T) {
	t.Parallel()
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			t.Parallel()
			testFaults(t, seed)
		})
	}
}

func testFaults(t *testing.T, seed uint64) {
	srv := start(t, jenkinstest.WithFaultRate(0.25, seed), jenkinstest.WithFaultsAfterMutation(0.5))
	c := adminClient(t, srv)
	ctx := ctxFor(t)
	want := map[string]string{}
	for i := range 4 {
		f := fmt.Sprintf("f %d", i)
		if err := c.CreateFolder(ctx, f, nil); err != nil {
			t.Fatalf("folder %s: %v", f, err)
		}
		want[f] = ""
		for k := range 6 {
			name := fmt.Sprintf("%s/job+%d'", f, k)
			if err := c.CreateJob(ctx, name, job("v1", "true")); err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			want[name] = "v1"
		}
	}
	for name := range want {
		if strings.Contains(name, "job+1") {
			if err := c.UpdateJob(ctx, name, job("v2", "true")); err != nil {
				t.Fatalf("update %s: %v", name, err)
			}
			want[name] = "v2"
		}
		if strings.Contains(name, "job+2") {
			if err := c.DeleteJob(ctx, name); err != nil {
				t.Fatalf("delete %s: %v", name, err)
			}
			delete(want, name)
		}
	}
	if err := c.CreateCredential(ctx, "", credForm("string", "faulty", "a", "", "")); err != nil {
		t.Fatalf("credential: %v", err)
	}
	if err := c.DeleteCredential(ctx, "", "faulty"); err != nil {
		t.Fatalf("delete credential: %v", err)
	}
	items, err := c.ListJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, it := range items {
		if _, dup := have[it.FullName]; dup {
			t.Errorf("duplicate %s", it.FullName)
		}
		have[it.FullName] = it.Description
	}
	if len(have) != len(want) {
		t.Errorf("%d items, want %d", len(have), len(want))
	}
	for name, desc := range want {
		if d, ok := have[name]; !ok || d != desc {
			t.Errorf("%s: have %q (present %v), want %q", name, d, ok, desc)
		}
	}
	faults := 0
	for _, r := range srv.Jenkins.Requests() {
		if r.Status >= 500 || r.Status == 0 {
			faults++
		}
	}
	if faults == 0 {
		t.Error("no fault was injected")
	}
	t.Logf("%d requests, %d faults", len(srv.Jenkins.Requests()), faults)
}

// BenchmarkEmulatorListJobs lists 20 folders of 25 jobs: one request.
func BenchmarkEmulatorListJobs(b *testing.B) {
	srv := start(b)
	c := adminClient(b, srv)
	ctx := context.Background()
	for i := range 20 {
		f := fmt.Sprintf("folder %d", i)
		if err := c.CreateFolder(ctx, f, nil); err != nil {
			b.Fatal(err)
		}
		for k := range 25 {
			if err := c.CreateJob(ctx, fmt.Sprintf("%s/job %d", f, k), job("d", "true")); err != nil {
				b.Fatal(err)
			}
		}
	}
	srv.Jenkins.ResetRequests()
	var n int
	for b.Loop() {
		items, err := c.ListJobs(ctx)
		if err != nil {
			b.Fatal(err)
		}
		n = len(items)
	}
	b.ReportMetric(float64(n), "items")
	b.ReportMetric(float64(len(srv.Jenkins.Requests()))/float64(b.N), "requests/op")
}

// BenchmarkEmulatorCreateJob measures one createItem round trip.
func BenchmarkEmulatorCreateJob(b *testing.B) {
	srv := start(b)
	c := adminClient(b, srv)
	ctx := context.Background()
	cfg := job("d", "true")
	i := 0
	for b.Loop() {
		i++
		if err := c.CreateJob(ctx, fmt.Sprintf("job %d", i), cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// Triggers under faults start exactly one build each, whether the fault
// hit before the build was queued or lost the answer after.
func TestEmulatorTriggerUnderFaults(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 4} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			t.Parallel()
			testTriggerFaults(t, seed)
		})
	}
}

func testTriggerFaults(t *testing.T, seed uint64) {
	srv := start(t, jenkinstest.WithFaultRate(0.3, seed), jenkinstest.WithFaultsAfterMutation(0.5))
	c := adminClient(t, srv)
	ctx := ctxFor(t)
	const name = "f/build me"
	if err := c.CreateFolder(ctx, "f", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateJob(ctx, name, job("", "echo run")); err != nil {
		t.Fatal(err)
	}
	const runs = 6
	for i := 1; i <= runs; i++ {
		q, err := c.TriggerBuild(ctx, name)
		if err != nil {
			t.Fatalf("trigger %d: %v", i, err)
		}
		n, err := c.WaitForQueueItem(ctx, q)
		if err != nil {
			t.Fatalf("queue %d: %v", i, err)
		}
		b, err := c.WaitForBuild(ctx, name, n)
		if err != nil {
			t.Fatalf("build %d: %v", i, err)
		}
		if n != i || b.Result != "SUCCESS" {
			t.Errorf("trigger %d started build #%d (%s)", i, n, b.Result)
		}
	}
	last, err := c.LastBuild(ctx, name)
	if err != nil || last.Number != runs {
		t.Errorf("last build %+v, %v; want #%d", last, err, runs)
	}
	triggers, lost := 0, 0
	for _, r := range srv.Jenkins.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/build") {
			triggers++
			if r.Fault != "" {
				lost++
				t.Logf("build POST fault: %s", r.Fault)
			}
		}
	}
	t.Logf("%d build POSTs, %d with a fault", triggers, lost)
}

// Credentials plugins before 1488.v9049e8c8b_d98 redirect after every form
// post, a duplicate id included: the client reads the credential back.
func TestEmulatorOldCredentialsPlugin(t *testing.T) {
	t.Parallel()
	srv := start(t, jenkinstest.WithPluginVersion("credentials", "1415.v831096eb_5534"))
	c := adminClient(t, srv)
	ctx := ctxFor(t)
	if err := c.CreateCredential(ctx, "", credForm("string", "oidc", "jenkins", "", "d")); err != nil {
		t.Fatal(err)
	}
	err := c.CreateCredential(ctx, "", credForm("file", "oidc", "other", "", "d"))
	if !errors.Is(err, jenkins.ErrAlreadyExists) || !strings.Contains(err.Error(), "Credentials with specified ID already exist") {
		t.Errorf("duplicate behind a 302: %v", err)
	}
	if got, err := c.GetCredential(ctx, "", "oidc"); err != nil || got.Kind != "string" || got.Audience != "jenkins" {
		t.Errorf("the first credential must stay: %+v %v", got, err)
	}
}

// After an XML create Jenkins returns the posted text (identity copy,
// comments kept) until the next save writes XStream's form (here: a change
// to the folder's credential store). Both must normalise alike.
func TestEmulatorIdentityCopyThenSaved(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := adminClient(t, srv)
	ctx := ctxFor(t)
	posted := []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- managed -->\n<com.cloudbees.hudson.plugins.folder.Folder>\n  <description>it&apos;s &#x3C;ours&gt; ü</description>\n  <properties/>\n</com.cloudbees.hudson.plugins.folder.Folder>\n")
	if err := c.CreateFolder(ctx, "f", posted); err != nil {
		t.Fatal(err)
	}
	copyText, err := c.JobConfig(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(copyText, []byte("<!-- managed -->")) || bytes.Contains(copyText, []byte("version='1.1'")) {
		t.Errorf("not the identity copy:\n%s", copyText)
	}
	if err := c.CreateCredential(ctx, "f", credForm("string", "x", "a", "", "")); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteCredential(ctx, "f", "x"); err != nil {
		t.Fatal(err)
	}
	saved, err := c.JobConfig(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(saved, []byte("<!--")) || !bytes.HasPrefix(saved, []byte("<?xml version='1.1' encoding='UTF-8'?>\n<com.cloudbees.hudson.plugins.folder.Folder plugin=\"cloudbees-folder@")) {
		t.Errorf("not XStream's form after a save:\n%s", saved)
	}
	same(t, copyText, saved)
	same(t, posted, saved)
}

// TestEmulatorCredentialScope: GetCredential reports a credential's scope,
// since builds never see a SYSTEM-scoped one of the system store.
func TestEmulatorCredentialScope(t *testing.T) {
	t.Parallel()
	srv := start(t)
	c := adminClient(t, srv)
	ctx := ctxFor(t)
	form := bytes.Replace(credForm("string", "sys", "jenkins", "", "d"), []byte(`"scope":"GLOBAL"`), []byte(`"scope":"SYSTEM"`), 1)
	if err := c.CreateCredential(ctx, "", form); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetCredential(ctx, "", "sys")
	if err != nil || got.Scope != "SYSTEM" {
		t.Fatalf("GetCredential = %+v, %v; want scope SYSTEM", got, err)
	}
}
