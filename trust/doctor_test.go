package trust_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/apply"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/views"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/trust/trusttest"
)

func reportText(r *trust.Report) string {
	var b bytes.Buffer
	_ = views.DoctorText(&b, r, nil)
	return b.String()
}

// doctor fails on exactly the broken link and names it; fixed, it passes.
func TestDoctorProviderURLAndClaims(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	w.Export()
	iss := w.S.IssuerURL()
	w.AddProvider(iss+"/", map[string]any{"aud": "jenkins"})

	r := trust.Doctor(w.Ctx(), w.Env, trust.DoctorOptions{})
	if got := r.Failed(); !slices.Equal(got, []string{trust.LinkProvider}) {
		t.Fatalf("failed links %q, want only %q:\n%s", got, trust.LinkProvider, reportText(r))
	}
	l := r.Link(trust.LinkProvider)
	if !strings.Contains(l.Detail, `provider "jenkins" has provider_url "`+iss+`/"`) || !strings.Contains(l.Fix, "exactly "+iss) {
		t.Errorf("provider url link does not say what differs:\n%s", reportText(r))
	}

	ps, err := w.Env.Cloudsmith.ListProviders(w.Ctx(), w.S.Cloudsmith.Org)
	if err != nil || len(ps) != 1 {
		t.Fatalf("providers %v, %v", ps, err)
	}
	setProvider := func(claims map[string]string) {
		t.Helper()
		p := ps[0]
		p.ProviderURL, p.Claims = iss, claims
		if _, err := w.Env.Cloudsmith.UpdateProvider(w.Ctx(), w.S.Cloudsmith.Org, p.SlugPerm, p); err != nil {
			t.Fatal(err)
		}
	}

	root := w.S.Jenkins.RootURL()
	setProvider(map[string]string{"aud": "jenkins", "sub": root + "job/app/.*"})
	r = trust.Doctor(w.Ctx(), w.Env, trust.DoctorOptions{})
	if got := r.Failed(); !slices.Equal(got, []string{trust.LinkClaims}) {
		t.Fatalf("failed links %q, want only %q:\n%s", got, trust.LinkClaims, reportText(r))
	}
	if d := r.Link(trust.LinkClaims).Detail; !strings.Contains(d, `sub="`+root+`job/app/.*"`) || !strings.Contains(d, "job deploy") || strings.Contains(d, "app/build") {
		t.Errorf("claims link must name the claim and only job deploy:\n%s", reportText(r))
	}

	// A claim no job satisfies names every job.
	setProvider(map[string]string{"aud": "cloudsmith"})
	r = trust.Doctor(w.Ctx(), w.Env, trust.DoctorOptions{})
	if got := r.Failed(); !slices.Equal(got, []string{trust.LinkClaims}) ||
		!strings.Contains(r.Link(trust.LinkClaims).Detail, `aud="cloudsmith" is not satisfied by job app/build, deploy`) {
		t.Fatalf("failed links %q:\n%s", got, reportText(r))
	}

	setProvider(map[string]string{"aud": "jenkins", "sub": root + "job/.*"})
	token, err := w.J.Jenkins.IDToken("app/build", "oidc-token-cred")
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "id_token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = trust.Doctor(w.Ctx(), w.Env, trust.DoctorOptions{TokenFile: tokenFile})
	if !r.OK() {
		t.Fatalf("doctor fails after the fixes:\n%s", reportText(r))
	}
	for _, l := range r.Links {
		// The provider still requires aud, which this plugin writes as an
		// array: doctor warns about the shape.
		if l.Status != trust.OK && !(l.Name == trust.LinkIssuer && l.Status == trust.Warn) && !(l.Name == trust.LinkTokenShape && l.Status == trust.Warn) {
			t.Errorf("link %s is %s, want ok:\n%s", l.Name, l.Status, reportText(r))
		}
	}
	if d := r.Link(trust.LinkTokenShape).Detail; !strings.Contains(d, "oidc-provider 212.") || !strings.Contains(d, `a JSON array (["jenkins"])`) || !strings.Contains(d, `requires aud="jenkins"`) {
		t.Errorf("token shape link must name the plugin version, the shape and the claim:\n%s", reportText(r))
	}
	text := reportText(r)
	t.Logf("doctor after the fixes:\n%s", text)
	if strings.Contains(text, token) || strings.Contains(text, w.CS.APIKey) {
		t.Fatal("doctor printed a secret")
	}
	var buf bytes.Buffer
	if err := views.DoctorJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var js struct {
		OK    bool `json:"ok"`
		Links []struct{ Name, Status string }
	}
	if err := json.Unmarshal(buf.Bytes(), &js); err != nil || !js.OK || len(js.Links) != len(r.Links) {
		t.Fatalf("json report %s: %v", buf.Bytes(), err)
	}
}

func TestDoctorStaleJWKSAndDisabledProvider(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	// Nothing exported: the static server answers 404.
	_, err := w.Env.Cloudsmith.CreateProvider(w.Ctx(), w.S.Cloudsmith.Org, cloudsmith.ProviderSettings{Name: "jenkins",
		ProviderURL: w.S.IssuerURL(), Claims: map[string]string{"aud": "jenkins"}, Enabled: false, ServiceAccounts: []string{w.Service}})
	if err != nil {
		t.Fatal(err)
	}
	r := trust.Doctor(w.Ctx(), w.Env, trust.DoctorOptions{})
	if got := r.Failed(); !slices.Equal(got, []string{trust.LinkIssuer, trust.LinkEnabled}) {
		t.Fatalf("failed links %q:\n%s", got, reportText(r))
	}
	if !strings.Contains(r.Link(trust.LinkIssuer).Detail, "answers 404") {
		t.Errorf("issuer link:\n%s", reportText(r))
	}
}

func TestDoctorJenkinsUnreachable(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	_ = w.J.Close()
	r := trust.Doctor(w.Ctx(), w.Env, trust.DoctorOptions{})
	if r.OK() || r.Link(trust.LinkJenkins).Status != trust.Fail || r.Link(trust.LinkCredential).Status != trust.Skip {
		t.Fatalf("report:\n%s", reportText(r))
	}
}

func TestMatchClaim(t *testing.T) {
	tests := []struct {
		want string
		got  any
		ok   bool
		why  string
	}{
		{"jenkins", []any{"jenkins"}, true, ""},
		{"jenkins", []any{"other"}, false, "no element"},
		{"https://j/job/.*", "https://j/job/a/", true, ""},
		{"https://j/job/.*", "https://k/job/a/", false, "does not start with"},
		{"https://j/job/a/", "https://j/job/a/", true, ""},
		{"https://j/job/a", "https://j/job/a/", false, "is not"},
		{"12", 12, false, "compares JSON values"},
		{"1.*", 12, false, "wildcard only matches strings"},
		{"true", true, false, "boolean"},
	}
	for _, tt := range tests {
		ok, why := trust.MatchClaim(tt.want, tt.got, true)
		if ok != tt.ok || !strings.Contains(why, tt.why) {
			t.Errorf("MatchClaim(%q, %v) = %v, %q; want %v, %q", tt.want, tt.got, ok, why, tt.ok, tt.why)
		}
	}
	if ok, why := trust.MatchClaim("x", nil, false); ok || !strings.Contains(why, "no such claim") {
		t.Errorf("absent claim: %v %q", ok, why)
	}
}

func TestDoctorTokenFile(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	w.Export()
	w.AddProvider(w.S.IssuerURL(), map[string]any{"aud": "jenkins"})
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct{ name, content, want string }{
		{"garbage", "not a token", "does not hold a JWT"},
		{"other issuer", "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL290aGVyLmV4YW1wbGUuY29tIn0.c2ln", `the token's iss "https://other.example.com"`},
	}
	for _, tt := range tests {
		r := trust.Doctor(w.Ctx(), w.Env, trust.DoctorOptions{TokenFile: write(tt.name, tt.content)})
		if l := r.Link(trust.LinkExchange); l.Status != trust.Fail || !strings.Contains(l.Detail, tt.want) {
			t.Errorf("%s: exchange link %+v", tt.name, l)
		}
	}
}

// After apply re-saves the credential in place (--replace-key-with-downtime),
// doctor says a verifier may still hold the older key of the same kid, and
// until when; once the cache time has passed it says so too.
func TestDoctorKeyCacheAfterReplace(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{DefaultIssuer: true})
	w.Apply()
	ctx := w.Ctx()
	w.S.OIDC.Description = "re-saved"
	before := time.Now().Add(-time.Second)
	p, err := plan.Compute(ctx, planInput(t, w), plan.Options{ReplaceKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Execute(ctx, w.Env.Jenkins, nil, p, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	rep := trust.Doctor(ctx, w.Env, trust.DoctorOptions{})
	l := rep.Link(trust.LinkKeyCache)
	if l == nil || l.Status != trust.Warn || !strings.Contains(l.Detail, "may still hold the older key") {
		t.Fatalf("doctor right after the re-save:\n%s", reportText(rep))
	}
	until := regexp.MustCompile(`until (\S+)$`).FindStringSubmatch(l.Detail)
	u, err := time.Parse(time.RFC3339, until[len(until)-1])
	if err != nil || u.Before(before.Add(plan.VerifierCache)) || u.After(time.Now().Add(plan.VerifierCache)) {
		t.Errorf("until %v (%v), want about %s from now", u, err, plan.VerifierCache)
	}
	later := func() time.Time { return time.Now().Add(plan.VerifierCache + time.Minute) }
	if l := trust.Doctor(ctx, w.Env, trust.DoctorOptions{Now: later}).Link(trust.LinkKeyCache); l == nil || l.Status != trust.OK {
		t.Errorf("doctor after the cache time: %+v", l)
	}
}

// doctor checks the service may read every repository the jobs use
// (Cloudsmith grants none by default) and says the token shape does not
// matter for a provider that requires a sub prefix.
func TestDoctorPrivilegesAndTokenShape(t *testing.T) {
	w := trusttest.Start(t, trusttest.Options{})
	w.Apply()
	w.Export()
	w.AddProvider(w.S.IssuerURL(), map[string]any{"sub": w.S.Jenkins.RootURL() + "job/.*"})
	r := trust.Doctor(w.Ctx(), w.Env, trust.DoctorOptions{})
	for name, want := range map[string]string{
		trust.LinkPrivileges: `service "` + w.Service + `" holds Read on ` + w.CS.Repo,
		trust.LinkTokenShape: "does not require aud, so its shape does not matter",
		trust.LinkAccount:    "exists in org",
	} {
		if l := r.Link(name); l.Status != trust.OK || !strings.Contains(l.Detail, want) {
			t.Errorf("%s: %s %q, want ok with %q:\n%s", name, l.Status, l.Detail, want, reportText(r))
		}
	}

	// A publishing job on a repository the service may only read.
	w.S.Jobs[0].Publish = true
	r = trust.Doctor(w.Ctx(), w.Env, trust.DoctorOptions{})
	l := r.Link(trust.LinkPrivileges)
	if l.Status != trust.Fail || !strings.Contains(l.Detail, "holds Read on acme/"+w.CS.Repo) || !strings.Contains(l.Detail, "need Write") || !strings.Contains(l.Fix, "PATCH") {
		t.Errorf("privileges link: %s %q (fix %q):\n%s", l.Status, l.Detail, l.Fix, reportText(r))
	}

	// Write through one of the service's teams is enough, as Cloudsmith
	// counts it.
	if err := w.CS.Cloudsmith.AddTeam("acme", "ci-bots", "CI bots"); err != nil {
		t.Fatal(err)
	}
	if err := w.CS.Cloudsmith.AddGrant("acme", w.CS.Repo, cloudsmithtest.Grant{Privilege: cloudsmithtest.PrivilegeWrite, Team: "ci-bots"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Env.Cloudsmith.UpdateService(w.Ctx(), "acme", w.Service, cloudsmith.Service{Teams: []cloudsmith.ServiceTeam{{Slug: "ci-bots", Role: cloudsmith.RoleMember}}}); err != nil {
		t.Fatal(err)
	}
	r = trust.Doctor(w.Ctx(), w.Env, trust.DoctorOptions{})
	if l := r.Link(trust.LinkPrivileges); l.Status != trust.OK || !strings.Contains(l.Detail, "Write on "+w.CS.Repo+" (through team ci-bots)") {
		t.Errorf("privileges through a team: %s %q:\n%s", l.Status, l.Detail, reportText(r))
	}
}
