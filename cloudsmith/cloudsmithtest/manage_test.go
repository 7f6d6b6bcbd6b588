package cloudsmithtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// apiClient calls the management API and validates every request and
// response it can route against Cloudsmith's (trimmed) OpenAPI description.
type apiClient struct {
	t      *testing.T
	base   string
	router routers.Router
}

func newAPIClient(t *testing.T, base string) *apiClient {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("testdata/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The upstream examples are invalid (claims: "{}", duplicate items), so
	// only the schemas are validated.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("testdata/openapi.yaml: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: base + "/"}}
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, base: base, router: router}
}

type apiResult struct {
	status int
	header http.Header
	body   []byte
}

func (r apiResult) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (r apiResult) list(t *testing.T) []map[string]any {
	t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return l
}

// do sends method path with body (JSON-encoded unless a string) and
// authHeader "Name: value" ("" for none).
func (c *apiClient) do(method, path string, body any, authHeader string) apiResult {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authHeader != "" {
		name, value, _ := strings.Cut(authHeader, ": ")
		req.Header.Set(name, value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(resp.Body)

	route, params, err := c.router.FindRoute(req)
	if err != nil && resp.StatusCode < 400 && !strings.HasPrefix(path, "/v1/") && !strings.HasPrefix(path, "/user/") {
		c.t.Errorf("%s %s: no route in the OpenAPI description: %v", method, path, err)
	}
	if err == nil {
		ctx := context.Background()
		vreq, _ := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
		vreq.Header = req.Header.Clone()
		in := &openapi3filter.RequestValidationInput{
			Request: vreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		// Requests are validated only when the test means them to be valid.
		if resp.StatusCode < 400 {
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				c.t.Errorf("%s %s: request does not match the OpenAPI description: %v", method, path, err)
			}
		}
		if err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Body: io.NopCloser(bytes.NewReader(respBody)),
		}); err != nil {
			c.t.Errorf("%s %s: %d response does not match the OpenAPI description: %v\n%s", method, path, resp.StatusCode, err, respBody)
		}
	}
	return apiResult{status: resp.StatusCode, header: resp.Header, body: respBody}
}

func expect(t *testing.T, r apiResult, status int, detail string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d (%s), want %d", r.status, r.body, status)
	}
	if detail != "" {
		if got := r.object(t)["detail"]; got != detail {
			t.Fatalf("detail %q, want %q", got, detail)
		}
	}
}

func TestManagementAuth(t *testing.T) {
	cs := New(WithPlainServiceSlugs())
	srv := httptest.NewServer(cs)
	defer srv.Close()
	api := newAPIClient(t, srv.URL)
	key := "X-Api-Key: " + cs.APIKey()

	expect(t, api.do("GET", "/orgs/acme/services/", nil, ""), 401, msgNoCredentials)
	expect(t, api.do("GET", "/orgs/acme/services/", nil, "X-Api-Key: nope"), 401, msgInvalidToken)
	expect(t, api.do("GET", "/orgs/acme/services/", nil, "Authorization: Bearer nope.nope.nope"), 401, msgInvalidToken)
	expect(t, api.do("GET", "/orgs/nope/services/", nil, key), 404, msgNotFound)
	expect(t, api.do("GET", "/orgs/acme/services/", nil, key), 200, "")
	expect(t, api.do("GET", "/orgs/acme/services/", nil, "Authorization: Token "+cs.APIKey()), 200, "")
	expect(t, api.do("GET", "/orgs/acme/services/", nil, "Authorization: Bearer "+cs.APIKey()), 200, "")
	expect(t, api.do("GET", "/v1/orgs/acme/openid-connect/", nil, key), 200, "")
	expect(t, api.do("PUT", "/orgs/acme/services/", map[string]any{}, key), 405, `Method "PUT" not allowed.`)

	member := api.do("POST", "/orgs/acme/services/", map[string]any{"name": "reader"}, key).object(t)
	manager := api.do("POST", "/orgs/acme/services/", map[string]any{"name": "admin", "role": "Manager"}, key).object(t)
	expect(t, api.do("GET", "/orgs/acme/services/", nil, "X-Api-Key: "+member["key"].(string)), 403, msgForbidden)
	expect(t, api.do("GET", "/orgs/acme/services/", nil, "X-Api-Key: "+manager["key"].(string)), 200, "")

	me := api.do("GET", "/user/self/", nil, "X-Api-Key: "+member["key"].(string))
	expect(t, me, 200, "")
	if got := me.object(t)["slug"]; got != "reader" {
		t.Errorf("/user/self/ slug %v", got)
	}
}

func TestServicesCRUD(t *testing.T) {
	cs := New(WithPlainServiceSlugs())
	srv := httptest.NewServer(cs)
	defer srv.Close()
	api := newAPIClient(t, srv.URL)
	key := "X-Api-Key: " + cs.APIKey()

	created := api.do("POST", "/orgs/acme/services/", map[string]any{"name": "Jenkins CI", "description": "builds"}, key)
	expect(t, created, 200, "") // Cloudsmith documents 200 for this create
	svc := created.object(t)
	if svc["slug"] != "jenkins-ci" || svc["role"] != "Member" || svc["key"] == "" {
		t.Fatalf("created %v", svc)
	}
	dup := api.do("POST", "/orgs/acme/services/", map[string]any{"name": "Jenkins CI"}, key).object(t)
	if s, _ := dup["slug"].(string); !strings.HasPrefix(s, "jenkins-ci-") || len(s) != len("jenkins-ci-")+4 {
		t.Errorf("duplicate name got slug %q, want jenkins-ci-xxxx", s)
	}
	long := api.do("POST", "/orgs/acme/services/", map[string]any{"name": strings.Repeat("very long name ", 5)}, key).object(t)
	if s := long["slug"].(string); len(s) > 30 {
		t.Errorf("slug %q longer than 30", s)
	}

	for _, tc := range []struct {
		body  any
		field string
		msg   string
	}{
		{map[string]any{}, "name", msgRequired},
		{map[string]any{"name": ""}, "name", msgBlank},
		{map[string]any{"name": "x", "role": "Owner"}, "role", `"Owner" is not a valid choice.`},
		{map[string]any{"name": strings.Repeat("n", 121)}, "name", "Ensure this field has no more than 120 characters."},
	} {
		r := api.do("POST", "/orgs/acme/services/", tc.body, key)
		expect(t, r, 422, msgInvalidInput)
		if got := r.object(t)["fields"].(map[string]any)[tc.field].([]any)[0]; got != tc.msg {
			t.Errorf("%v: %s error %q, want %q", tc.body, tc.field, got, tc.msg)
		}
	}
	expect(t, api.do("POST", "/orgs/acme/services/", `{"name": "x",}`, key), 400, "")

	got := api.do("GET", "/orgs/acme/services/jenkins-ci/", nil, key)
	expect(t, got, 200, "")
	// Reads carry the key redacted to its last four characters: the
	// Terraform provider compares those to spot a rotation (and slices the
	// key, so it is never absent there).
	full, _ := svc["key"].(string)
	if k, _ := got.object(t)["key"].(string); k == full || len(full) < 8 || !strings.HasSuffix(k, full[len(full)-4:]) || strings.Contains(k, full[:8]) {
		t.Errorf("GET key %q: want the key %q redacted to its last four", k, full)
	}
	expect(t, api.do("GET", "/orgs/acme/services/ghost/", nil, key), 404, msgNotFound)

	patched := api.do("PATCH", "/orgs/acme/services/jenkins-ci/", map[string]any{"description": "new", "role": "Manager"}, key)
	expect(t, patched, 200, "")
	if p := patched.object(t); p["description"] != "new" || p["role"] != "Manager" || p["name"] != "Jenkins CI" {
		t.Errorf("patched %v", p)
	}

	refreshed := api.do("POST", "/orgs/acme/services/jenkins-ci/refresh/", nil, key).object(t)
	if refreshed["key"] == svc["key"] || refreshed["key"] == "" {
		t.Error("refresh did not rotate the key")
	}

	page := api.do("GET", "/orgs/acme/services/?page_size=2&page=2", nil, key)
	expect(t, page, 200, "")
	if n := len(page.list(t)); n != 1 || page.header.Get("X-Pagination-Count") != "3" || page.header.Get("X-Pagination-PageTotal") != "2" {
		t.Errorf("page 2 has %d items, headers %v", n, page.header)
	}
	if l := page.header.Get("Link"); !strings.Contains(l, `page=1&page_size=2>; rel="prev"`) || strings.Contains(l, `rel="next"`) {
		t.Errorf("Link %q", l)
	}
	expect(t, api.do("GET", "/orgs/acme/services/?page=9", nil, key), 404, "Invalid page.")
	sorted := api.do("GET", "/orgs/acme/services/?sort=-created_at&query=jenkins", nil, key).list(t)
	if len(sorted) != 2 || sorted[0]["slug"] == "jenkins-ci" {
		t.Errorf("query/sort gave %v", sorted)
	}

	expect(t, api.do("DELETE", "/orgs/acme/services/jenkins-ci/", nil, key), 204, "")
	expect(t, api.do("GET", "/orgs/acme/services/jenkins-ci/", nil, key), 404, msgNotFound)
}

func TestProvidersCRUD(t *testing.T) {
	cs := New(WithPlainServiceSlugs())
	srv := httptest.NewServer(cs)
	defer srv.Close()
	api := newAPIClient(t, srv.URL)
	key := "X-Api-Key: " + cs.APIKey()
	for _, n := range []string{"jenkins", "deploy"} {
		expect(t, api.do("POST", "/orgs/acme/services/", map[string]any{"name": n}, key), 200, "")
	}

	body := map[string]any{
		"name":             "Jenkins",
		"provider_url":     "https://jenkins.example/oidc",
		"claims":           map[string]any{"aud": "cloudsmith", "sub": "https://jenkins.example/job/.*"},
		"enabled":          true,
		"service_accounts": []string{"jenkins"},
	}
	created := api.do("POST", "/orgs/acme/openid-connect/", body, key)
	expect(t, created, 201, "")
	p := created.object(t)
	perm, _ := p["slug_perm"].(string)
	if p["slug"] != "jenkins" || len(perm) != 12 {
		t.Fatalf("created %v", p)
	}
	if _, ok := p["dynamic_mappings"]; !ok {
		t.Error("write response lacks dynamic_mappings (ProviderSettingsWrite)")
	}

	invalid := []struct {
		name  string
		edit  map[string]any
		field string
		msg   string
	}{
		{"missing claims", map[string]any{"claims": nil}, "claims", msgRequired},
		{"claims a list", map[string]any{"claims": []string{"a"}}, "claims", `Expected a dictionary of items but got type "list".`},
		{"bad url", map[string]any{"provider_url": "jenkins.example"}, "provider_url", "Enter a valid URL."},
		{"enabled string", map[string]any{"enabled": "yes"}, "enabled", "Must be a valid boolean."},
		{"unknown service", map[string]any{"service_accounts": []string{"ghost"}}, "service_accounts", "Object with slug=ghost does not exist."},
		{"duplicate name", map[string]any{}, "name", "OpenID Connect provider settings with this name already exist."},
		{"service accounts and mappings", map[string]any{"mapping_claim": "team", "dynamic_mappings": []any{map[string]any{"claim_value": "a", "service_account": "deploy"}}},
			"service_accounts", "Cannot be provided if `mapping_claim` or `dynamic_mappings` are specified."},
	}
	for _, tc := range invalid {
		b := map[string]any{}
		for k, v := range body {
			b[k] = v
		}
		if tc.name != "duplicate name" {
			b["name"] = "Other " + tc.name
		}
		for k, v := range tc.edit {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		r := api.do("POST", "/orgs/acme/openid-connect/", b, key)
		if r.status != 422 {
			t.Errorf("%s: status %d %s", tc.name, r.status, r.body)
			continue
		}
		if got, _ := r.object(t)["fields"].(map[string]any)[tc.field].([]any); len(got) == 0 || got[0] != tc.msg {
			t.Errorf("%s: %s errors %v, want %q", tc.name, tc.field, got, tc.msg)
		}
	}

	read := api.do("GET", "/orgs/acme/openid-connect/"+perm+"/", nil, key)
	expect(t, read, 200, "")
	if _, ok := read.object(t)["dynamic_mappings"]; ok {
		t.Error("ProviderSettings (read) carries dynamic_mappings")
	}
	patched := api.do("PATCH", "/orgs/acme/openid-connect/"+perm+"/", map[string]any{"enabled": false}, key)
	expect(t, patched, 200, "")
	if pp := patched.object(t); pp["enabled"] != false || pp["provider_url"] != body["provider_url"] {
		t.Errorf("patch changed more than enabled: %v", pp)
	}
	// PUT is a full update: fields left out are required again.
	expect(t, api.do("PUT", "/orgs/acme/openid-connect/"+perm+"/", map[string]any{"enabled": true}, key), 422, msgInvalidInput)
	put := map[string]any{"name": "Jenkins", "provider_url": "https://jenkins.example/oidc", "claims": map[string]any{}, "enabled": true,
		"mapping_claim": "team", "dynamic_mappings": []any{map[string]any{"claim_value": "blue", "service_account": "deploy"}}}
	replaced := api.do("PUT", "/orgs/acme/openid-connect/"+perm+"/", put, key)
	expect(t, replaced, 200, "")
	if rp := replaced.object(t); rp["mapping_claim"] != "team" || len(rp["service_accounts"].([]any)) != 0 || rp["slug_perm"] != perm {
		t.Errorf("put gave %v", rp)
	}
	maps := api.do("GET", "/orgs/acme/openid-connect/"+perm+"/dynamic-mappings/", nil, key).list(t)
	if len(maps) != 1 || maps[0]["service_account"] != "deploy" {
		t.Errorf("dynamic mappings %v", maps)
	}
	expect(t, api.do("GET", "/orgs/acme/openid-connect/"+perm+"/dynamic-mappings/blue/", nil, key), 200, "")
	expect(t, api.do("GET", "/orgs/acme/openid-connect/"+perm+"/dynamic-mappings/red/", nil, key), 404, msgNotFound)

	list := api.do("GET", "/orgs/acme/openid-connect/?query=jenkins.example", nil, key)
	expect(t, list, 200, "")
	if n := len(list.list(t)); n != 1 {
		t.Errorf("list has %d providers", n)
	}
	expect(t, api.do("DELETE", "/orgs/acme/openid-connect/"+perm+"/", nil, key), 204, "")
	expect(t, api.do("GET", "/orgs/acme/openid-connect/"+perm+"/", nil, key), 404, msgNotFound)
	if cs.Providers("acme") == nil || len(cs.Providers("acme")) != 0 {
		t.Errorf("providers left: %v", cs.Providers("acme"))
	}
}

// TestExchangeMatchesOpenAPI checks the exchange's responses against the
// OpenAPI description too.
func TestExchangeMatchesOpenAPI(t *testing.T) {
	f := newExchangeFixture(t)
	api := newAPIClient(t, f.srv.URL)
	expect(t, api.do("POST", "/openid/acme/", map[string]string{"oidc_token": f.token(t, nil), "service_slug": "jenkins"}, ""), 201, "")
	expect(t, api.do("POST", "/openid/acme/", map[string]string{"oidc_token": "x.y.z", "service_slug": "jenkins"}, ""), 401, GenericExchangeError)
	expect(t, api.do("POST", "/openid/acme/", map[string]string{}, ""), 422, msgInvalidInput)
	expect(t, api.do("POST", "/openid/acme/", "{", ""), 400, "")
}
