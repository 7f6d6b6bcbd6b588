package cloudsmithtest

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestServiceHasNoPrivilegeUntilGranted: an exchanged token of a service
// with no grant is refused (403, Cloudsmith's JSON) on every package host;
// Read opens reads only; the owner's API key reads everything.
func TestServiceHasNoPrivilegeUntilGranted(t *testing.T) {
	s := startWithToken(t)
	c := s.Cloudsmith
	if err := c.AddRepo("acme", "private"); err != nil {
		t.Fatal(err)
	}
	for _, p := range c.art.demoPackages() {
		if err := c.AddPackage("acme", "private", p); err != nil {
			t.Fatal(err)
		}
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("token:"+s.token))
	auth := http.Header{"Authorization": {basic}}
	urls := []string{
		s.DownloadURL + "/basic/acme/private/python/simple/",
		s.DownloadURL + "/basic/acme/private/raw/files/" + DemoRawFile,
		s.URLs[HostNPM] + "/acme/private/" + DemoNPMPackage,
		s.URLs[HostGo] + "/acme/private/" + DemoGoModule + "/@v/list",
	}
	for _, u := range urls {
		resp, body := get(t, u, auth)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), msgForbidden) ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s without a grant: %d %s %q; want 403 with DRF's detail", u, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if resp, _ := get(t, u, http.Header{"X-Api-Key": {c.APIKey()}}); resp.StatusCode != 200 {
			t.Errorf("%s with the owner's API key: %d, want 200", u, resp.StatusCode)
		}
	}
	if !strings.Contains(lastFailure(c), `holds no privilege on repository acme/private, the request needs Read`) {
		t.Errorf("log reason %q", lastFailure(c))
	}
	if err := c.GrantPrivilege("acme", "private", "jenkins", PrivilegeRead); err != nil {
		t.Fatal(err)
	}
	for _, u := range urls {
		if resp, body := get(t, u, auth); resp.StatusCode != 200 {
			t.Errorf("%s with Read: %d %s", u, resp.StatusCode, body)
		}
	}
	// An upload needs Write.
	upload := s.URLs[HostMaven] + "/acme/private/com/example/up/1.0/up-1.0.jar"
	put := func() *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, upload, strings.NewReader("jar"))
		req.Header.Set("Authorization", basic)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := put(); resp.StatusCode != http.StatusForbidden {
		t.Errorf("upload with Read: %d, want 403", resp.StatusCode)
	}
	if err := c.GrantPrivilege("acme", "private", "jenkins", PrivilegeWrite); err != nil {
		t.Fatal(err)
	}
	if resp := put(); resp.StatusCode >= 300 {
		t.Errorf("upload with Write: %d", resp.StatusCode)
	}
}

func lastFailure(c *Cloudsmith) string {
	reqs := c.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Failure != "" {
			return reqs[i].Failure
		}
	}
	return ""
}

// TestPrivilegesAPI follows GET/PATCH/PUT /repos/{owner}/{repo}/privileges
// against the OpenAPI description: PATCH adds or changes one grantee and
// keeps the others, PUT replaces every privilege, bad entries are 422 and
// only Admin (here the owner) may manage them.
func TestPrivilegesAPI(t *testing.T) {
	cs := New(WithPlainServiceSlugs())
	srv := httptest.NewServer(cs)
	defer srv.Close()
	api := newAPIClient(t, srv.URL)
	key := "X-Api-Key: " + cs.APIKey()
	for _, n := range []string{"ci", "other"} {
		if _, err := cs.AddService(Service{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cs.AddGrant("acme", "demo", Grant{Privilege: PrivilegeAdmin, User: "alice"}); err != nil {
		t.Fatal(err)
	}
	const path = "/repos/acme/demo/privileges"
	list := func() string {
		t.Helper()
		r := api.do("GET", path, nil, key)
		expect(t, r, 200, "")
		return string(r.body)
	}
	if got := list(); got != `{"privileges":[{"privilege":"Admin","user":"alice"}]}` {
		t.Fatalf("initial list %s", got)
	}
	expect(t, api.do("PATCH", path, map[string]any{"privileges": []any{map[string]any{"service": "ci", "privilege": "Read"}}}, key), 204, "")
	expect(t, api.do("PATCH", path+"/", map[string]any{"privileges": []any{
		map[string]any{"service": "ci", "privilege": "Write"}, map[string]any{"service": "other", "privilege": "Read"}}}, key), 204, "")
	if got := list(); got != `{"privileges":[{"privilege":"Admin","user":"alice"},{"privilege":"Write","service":"ci"},{"privilege":"Read","service":"other"}]}` {
		t.Errorf("after PATCH %s", got)
	}
	for name, body := range map[string]any{
		"unknown service":  map[string]any{"privileges": []any{map[string]any{"service": "ghost", "privilege": "Read"}}},
		"bad privilege":    map[string]any{"privileges": []any{map[string]any{"service": "ci", "privilege": "Owner"}}},
		"two grantees":     map[string]any{"privileges": []any{map[string]any{"service": "ci", "team": "t", "privilege": "Read"}}},
		"no grantee":       map[string]any{"privileges": []any{map[string]any{"privilege": "Read"}}},
		"not a list":       map[string]any{"privileges": "Read"},
		"PUT without list": map[string]any{},
	} {
		method := "PATCH"
		if strings.HasPrefix(name, "PUT") {
			method = "PUT"
		}
		if r := api.do(method, path, body, key); r.status != 422 || r.object(t)["fields"] == nil {
			t.Errorf("%s: %d %s, want 422 with fields", name, r.status, r.body)
		}
	}
	member, _ := cs.AddService(Service{Name: "member"})
	expect(t, api.do("GET", path, nil, "X-Api-Key: "+member.Key), 403, msgForbidden)
	expect(t, api.do("GET", "/repos/acme/nope/privileges", nil, key), 404, msgNotFound)
	expect(t, api.do("GET", path, nil, ""), 401, msgNoCredentials)

	expect(t, api.do("PUT", path, map[string]any{"privileges": []any{map[string]any{"service": "other", "privilege": "Admin"}}}, key), 204, "")
	if got := list(); got != `{"privileges":[{"privilege":"Admin","service":"other"}]}` {
		t.Errorf("after PUT %s (PUT replaces every privilege)", got)
	}
}

// TestServiceSlugsAreSuffixed: by default every slug the API assigns
// carries random characters, as Cloudsmith's may; WithPlainServiceSlugs
// turns that off.
func TestServiceSlugsAreSuffixed(t *testing.T) {
	for _, tc := range []struct {
		opts []Option
		want func(string) bool
	}{
		{nil, func(s string) bool { return strings.HasPrefix(s, "jenkins-ci-") && len(s) == len("jenkins-ci-")+4 }},
		{[]Option{WithPlainServiceSlugs()}, func(s string) bool { return s == "jenkins-ci" }},
	} {
		cs := New(tc.opts...)
		srv := httptest.NewServer(cs)
		api := newAPIClient(t, srv.URL)
		got := api.do("POST", "/orgs/acme/services/", map[string]any{"name": "Jenkins CI"}, "X-Api-Key: "+cs.APIKey()).object(t)["slug"].(string)
		if !tc.want(got) {
			t.Errorf("options %d: slug %q", len(tc.opts), got)
		}
		srv.Close()
	}
}

// TestVisibilityDelay: for the delay, a new service is missing from lists
// and gets, a provider naming it is a 422 field error, and a new grant
// opens nothing; afterwards all of it is there.
func TestVisibilityDelay(t *testing.T) {
	now := testNow
	cs := New(WithVisibilityDelay(3*time.Second), WithClock(func() time.Time { return now }))
	srv := httptest.NewServer(cs)
	defer srv.Close()
	api := newAPIClient(t, srv.URL)
	key := "X-Api-Key: " + cs.APIKey()
	slug := api.do("POST", "/orgs/acme/services/", map[string]any{"name": "ci"}, key).object(t)["slug"].(string)
	if n := len(api.do("GET", "/orgs/acme/services/", nil, key).list(t)); n != 0 {
		t.Errorf("list shows %d services right after the create, want 0", n)
	}
	expect(t, api.do("GET", "/orgs/acme/services/"+slug+"/", nil, key), 404, msgNotFound)
	provider := map[string]any{"name": "jenkins", "provider_url": "https://jenkins.example/oidc", "claims": map[string]any{"sub": "x"},
		"enabled": true, "service_accounts": []string{slug}}
	r := api.do("POST", "/orgs/acme/openid-connect/", provider, key)
	if r.status != 422 || !strings.Contains(string(r.body), "Object with slug="+slug+" does not exist.") {
		t.Errorf("provider naming a fresh service: %d %s, want 422", r.status, r.body)
	}
	now = now.Add(3 * time.Second)
	expect(t, api.do("GET", "/orgs/acme/services/"+slug+"/", nil, key), 200, "")
	expect(t, api.do("POST", "/orgs/acme/openid-connect/", provider, key), 201, "")
	if n := len(api.do("GET", "/orgs/acme/openid-connect/", nil, key).list(t)); n != 0 {
		t.Errorf("list shows %d providers right after the create, want 0", n)
	}
	expect(t, api.do("PATCH", "/repos/acme/demo/privileges", map[string]any{"privileges": []any{map[string]any{"service": slug, "privilege": "Read"}}}, key), 204, "")
	if got := string(api.do("GET", "/repos/acme/demo/privileges", nil, key).body); got != `{"privileges":[]}` {
		t.Errorf("privileges right after the grant: %s", got)
	}
	now = now.Add(3 * time.Second)
	if n := len(api.do("GET", "/orgs/acme/openid-connect/", nil, key).list(t)); n != 1 {
		t.Errorf("list shows %d providers after the delay, want 1", n)
	}
	if got := string(api.do("GET", "/repos/acme/demo/privileges", nil, key).body); !strings.Contains(got, slug) {
		t.Errorf("privileges after the delay: %s", got)
	}
}

// TestTeamsMustExist: a service's team and a team's repository privilege
// name a team of the org (a slug field: "Object with slug=… does not
// exist." otherwise); AddTeam makes one, and reads show its name.
func TestTeamsMustExist(t *testing.T) {
	cs := New(WithPlainServiceSlugs())
	srv := httptest.NewServer(cs)
	defer srv.Close()
	api := newAPIClient(t, srv.URL)
	key := "X-Api-Key: " + cs.APIKey()
	ghost := map[string]any{"name": "ci", "teams": []any{map[string]any{"slug": "ghost"}}}
	r := api.do("POST", "/orgs/acme/services/", ghost, key)
	if r.status != 422 || !strings.Contains(string(r.body), "slug: Object with slug=ghost does not exist.") {
		t.Errorf("service in a missing team: %d %s, want 422", r.status, r.body)
	}
	grant := map[string]any{"privileges": []any{map[string]any{"team": "ghost", "privilege": "Read"}}}
	if r := api.do("PATCH", "/repos/acme/demo/privileges", grant, key); r.status != 422 || !strings.Contains(string(r.body), "Object with slug=ghost does not exist.") {
		t.Errorf("grant to a missing team: %d %s, want 422", r.status, r.body)
	}
	if err := cs.AddTeam("acme", "ghost", "Ghost Team"); err != nil {
		t.Fatal(err)
	}
	created := api.do("POST", "/orgs/acme/services/", ghost, key)
	expect(t, created, 200, "")
	if teams, _ := created.object(t)["teams"].([]any); len(teams) != 1 || teams[0].(map[string]any)["name"] != "Ghost Team" {
		t.Errorf("teams %v", created.object(t)["teams"])
	}
	expect(t, api.do("PATCH", "/repos/acme/demo/privileges", grant, key), 204, "")
}
