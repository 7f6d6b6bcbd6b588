package cloudsmith

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const testAPIKey = "0123456789abcdef0123456789abcdef01234567"

// fakeAPI is a small in-memory management API, enough to exercise the
// client's paths, pagination and error mapping. The real emulator is
// cloudsmithtest; this one lets a test choose the pagination style.
type fakeAPI struct {
	mu        sync.Mutex
	services  []map[string]any
	providers []map[string]any
	pageSize  int
	linkStyle bool // paginate with Link rel="next" (else only X-Pagination-PageTotal)
	writes    int
	keys      []string // X-Api-Key of every request
	seq       int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, r.Header.Get("X-Api-Key"))
	if r.Header.Get("X-Api-Key") != testAPIKey {
		writeJSON(w, 401, map[string]any{"detail": "Invalid token."})
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/v1"), "/"), "/")
	if len(parts) < 3 || parts[0] != "orgs" {
		writeJSON(w, 404, map[string]any{"detail": "Not found."})
		return
	}
	if parts[1] != "acme" {
		writeJSON(w, 404, map[string]any{"detail": "Organization not found"})
		return
	}
	var coll *[]map[string]any
	key := "slug"
	switch parts[2] {
	case "services":
		coll = &f.services
	case "openid-connect":
		coll, key = &f.providers, "slug_perm"
	default:
		writeJSON(w, 404, map[string]any{"detail": "Not found."})
		return
	}
	if r.Method != http.MethodGet {
		f.writes++
	}
	if len(parts) == 3 {
		switch r.Method {
		case http.MethodGet:
			f.page(w, r, *coll)
		case http.MethodPost:
			var in map[string]any
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in["name"] == nil || in["name"] == "" {
				writeJSON(w, 422, map[string]any{"detail": "Invalid input.", "fields": map[string][]string{"name": {"This field is required."}}})
				return
			}
			f.seq++
			in["slug"] = fmt.Sprintf("%s-%d", strings.ToLower(strings.ReplaceAll(in["name"].(string), " ", "-")), f.seq)
			status := 200 // services: POST answers 200
			if key == "slug_perm" {
				in["slug_perm"] = fmt.Sprintf("perm%04d", f.seq)
				status = 201
			} else {
				in["key"] = "servicekey" + strings.Repeat("x", 30)
				if in["role"] == nil {
					in["role"] = "Member"
				}
			}
			*coll = append(*coll, in)
			writeJSON(w, status, in)
		default:
			writeJSON(w, 405, map[string]any{"detail": "Method not allowed."})
		}
		return
	}
	i := slices.IndexFunc(*coll, func(m map[string]any) bool { return m[key] == parts[3] })
	if i < 0 {
		writeJSON(w, 404, map[string]any{"detail": "Not found."})
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, 200, (*coll)[i])
	case http.MethodPatch:
		var in map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		for k, v := range in {
			(*coll)[i][k] = v
		}
		writeJSON(w, 200, (*coll)[i])
	case http.MethodDelete:
		*coll = slices.Delete(*coll, i, i+1)
		w.WriteHeader(204)
	}
}

func (f *fakeAPI) page(w http.ResponseWriter, r *http.Request, all []map[string]any) {
	size := f.pageSize
	if size == 0 {
		size = 2
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page < 1 {
		page = 1
	}
	total := max(1, (len(all)+size-1)/size)
	lo, hi := min(len(all), (page-1)*size), min(len(all), page*size)
	w.Header().Set("X-Pagination-Count", strconv.Itoa(len(all)))
	w.Header().Set("X-Pagination-Page", strconv.Itoa(page))
	w.Header().Set("X-Pagination-PageTotal", strconv.Itoa(total))
	if f.linkStyle && page < total {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page+1))
		w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?%s>; rel="next", <http://%s%s?page=%d>; rel="last"`, r.Host, r.URL.Path, q.Encode(), r.Host, r.URL.Path, total))
	}
	out := all[lo:hi]
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, 200, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newFake(t *testing.T, f *fakeAPI, apiPath string) (*Client, *specCheck) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	rec := newSpecCheck(t, nil)
	c, err := NewClient(fastRetry(Options{APIURL: srv.URL + apiPath, APIKey: testAPIKey, HTTPClient: rec.client()}))
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func TestServicesRoundTrip(t *testing.T) {
	for _, style := range []struct {
		name    string
		link    bool
		apiPath string
	}{{"link header", true, ""}, {"page total", false, "/v1"}} {
		t.Run(style.name, func(t *testing.T) {
			f := &fakeAPI{linkStyle: style.link}
			c, _ := newFake(t, f, style.apiPath)
			ctx := context.Background()
			for i := range 5 {
				s, err := c.CreateService(ctx, "acme", Service{Name: fmt.Sprintf("svc %d", i), Description: "made by a test", Teams: []ServiceTeam{{Slug: "ops", Role: RoleMember}}})
				if err != nil {
					t.Fatal(err)
				}
				if s.Slug == "" {
					t.Fatalf("created %+v", s)
				}
			}
			all, err := c.ListServices(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 5 || all[4].Name != "svc 4" {
				t.Fatalf("listed %d services over pages: %+v", len(all), all)
			}
			got, err := c.GetService(ctx, "acme", all[2].Slug)
			if err != nil || got.Name != "svc 2" || got.Role != RoleMember {
				t.Fatalf("GetService = %+v, %v", got, err)
			}
			up, err := c.UpdateService(ctx, "acme", got.Slug, Service{Description: "changed"})
			if err != nil || up.Description != "changed" || up.Name != "svc 2" {
				t.Fatalf("UpdateService = %+v, %v", up, err)
			}
			if err := c.DeleteService(ctx, "acme", got.Slug); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetService(ctx, "acme", got.Slug); !errors.Is(err, ErrNotFound) {
				t.Fatalf("after delete: %v", err)
			}
			for _, k := range f.keys {
				if k != testAPIKey {
					t.Fatalf("a request went without the API key")
				}
			}
		})
	}
}

func TestProvidersRoundTrip(t *testing.T) {
	f := &fakeAPI{linkStyle: true}
	c, rec := newFake(t, f, "")
	ctx := context.Background()
	want := ProviderSettings{
		Name: "jenkins", ProviderURL: "https://jenkins.example.com/oidc", Enabled: true,
		Claims: map[string]string{"aud": "cloudsmith", "sub": "https://jenkins.example.com/job/app/.*"}, ServiceAccounts: []string{"svc-a"},
	}
	p, err := c.CreateProvider(ctx, "acme", want)
	if err != nil {
		t.Fatal(err)
	}
	if p.SlugPerm == "" || len(p.Diff(want)) != 0 {
		t.Fatalf("created %+v, diff %v", p, p.Diff(want))
	}
	_, body := rec.last()
	var sent map[string]any
	_ = json.Unmarshal(body, &sent)
	if _, ok := sent["slug_perm"]; ok || sent["provider_url"] != want.ProviderURL {
		t.Errorf("create body %s", body)
	}
	all, err := c.ListProviders(ctx, "acme")
	if err != nil || len(all) != 1 {
		t.Fatalf("ListProviders = %+v, %v", all, err)
	}
	want.ServiceAccounts = nil // clearing must send an empty list
	want.Enabled = false
	up, err := c.UpdateProvider(ctx, "acme", p.SlugPerm, want)
	if err != nil {
		t.Fatal(err)
	}
	if up.Enabled || len(up.ServiceAccounts) != 0 {
		t.Errorf("updated %+v", up)
	}
	req, _ := rec.last()
	if req.Method != http.MethodPatch {
		t.Errorf("update used %s", req.Method)
	}
	got, err := c.GetProvider(ctx, "acme", p.SlugPerm)
	if err != nil || got.Enabled {
		t.Fatalf("GetProvider = %+v, %v", got, err)
	}
	if err := c.DeleteProvider(ctx, "acme", p.SlugPerm); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetProvider(ctx, "acme", p.SlugPerm); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestEnsureIdempotent(t *testing.T) {
	f := &fakeAPI{}
	c, _ := newFake(t, f, "")
	ctx := context.Background()
	s1, created, err := c.EnsureService(ctx, "acme", "jenkins")
	if err != nil || !created {
		t.Fatalf("first EnsureService: %v created=%v", err, created)
	}
	s2, created, err := c.EnsureService(ctx, "acme", "jenkins")
	if err != nil || created || s2.Slug != s1.Slug {
		t.Fatalf("second EnsureService: %+v %v created=%v", s2, err, created)
	}
	if _, created, err := c.EnsureService(ctx, "acme", s1.Slug); err != nil || created {
		t.Fatalf("EnsureService by slug: %v created=%v", err, created)
	}
	want := ProviderSettings{Name: "jenkins", ProviderURL: "https://jenkins.example.com/oidc", Enabled: true,
		Claims: map[string]string{"aud": "cloudsmith"}, ServiceAccounts: []string{s1.Slug}}
	steps := []struct {
		name   string
		mutate func(*ProviderSettings)
		want   bool
	}{
		{"create", func(*ProviderSettings) {}, true},
		{"unchanged", func(*ProviderSettings) {}, false},
		{"service order irrelevant", func(p *ProviderSettings) { p.ServiceAccounts = []string{s1.Slug, s1.Slug} }, false},
		{"claim changed", func(p *ProviderSettings) { p.Claims = map[string]string{"aud": "other"} }, true},
		{"unchanged again", func(p *ProviderSettings) { p.Claims = map[string]string{"aud": "other"} }, false},
		{"trailing slash counts", func(p *ProviderSettings) {
			p.Claims = map[string]string{"aud": "other"}
			p.ProviderURL += "/"
		}, true},
	}
	for _, st := range steps {
		w := want
		st.mutate(&w)
		before := f.writes
		changed, err := c.EnsureProvider(ctx, "acme", w)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if changed != st.want || (f.writes > before) != st.want {
			t.Errorf("%s: changed=%v writes %d→%d, want changed=%v", st.name, changed, before, f.writes, st.want)
		}
	}
	if n := len(f.providers); n != 1 {
		t.Errorf("%d providers, want 1", n)
	}
}

func TestManagementErrors(t *testing.T) {
	f := &fakeAPI{}
	c, _ := newFake(t, f, "")
	ctx := context.Background()
	if _, err := c.ListServices(ctx, "nope"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "Organization not found") {
		t.Errorf("unknown org: %v", err)
	}
	_, err := c.CreateService(ctx, "acme", Service{Name: " "})
	if !errors.Is(err, ErrInvalidInput) {
		t.Errorf("blank name: %v", err)
	}
	if _, err := c.CreateProvider(ctx, "acme", ProviderSettings{Name: "x", ProviderURL: "https://i", MappingClaim: "groups", ServiceAccounts: []string{"a"}}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("both mapping modes: %v", err)
	}
	if _, err := c.GetService(ctx, "acme", "../x"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("bad slug: %v", err)
	}

	bad, _ := NewClient(Options{APIURL: c.APIURL(), APIKey: "wrong-key"})
	_, err = bad.ListProviders(ctx, "acme")
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "X-Api-Key") || strings.Contains(err.Error(), "wrong-key") {
		t.Errorf("bad key: %v", err)
	}
	none, _ := NewClient(Options{APIURL: c.APIURL()})
	if _, err := none.ListServices(ctx, "acme"); !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "CLOUDSMITH_API_KEY") {
		t.Errorf("no key: %v", err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 422, map[string]any{"detail": "Invalid input.", "fields": map[string][]string{"provider_url": {"Enter a valid URL."}, "claims": {"Echoed " + testAPIKey}}})
	}))
	defer srv.Close()
	c2, _ := NewClient(Options{APIURL: srv.URL, APIKey: testAPIKey})
	_, err = c2.CreateProvider(ctx, "acme", ProviderSettings{Name: "x", ProviderURL: "nope"})
	var ae *APIError
	if !errors.As(err, &ae) || !errors.Is(err, ErrInvalidRequest) || ae.Fields["provider_url"][0] != "Enter a valid URL." {
		t.Fatalf("422: %#v", err)
	}
	if strings.Contains(err.Error(), testAPIKey) || !strings.Contains(err.Error(), "provider_url: Enter a valid URL.") {
		t.Errorf("422 message: %v", err)
	}
}

func TestProviderClaimsOfAnyType(t *testing.T) {
	var p ProviderSettings
	if err := json.Unmarshal([]byte(`{"name":"n","provider_url":"u","enabled":true,"claims":{"build":7,"x":"y"},"mapping_claim":null}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.Claims["build"] != "7" || p.Claims["x"] != "y" || p.MappingClaim != "" {
		t.Errorf("%+v", p)
	}
}

func TestLinkNext(t *testing.T) {
	tests := map[string]string{
		`<https://api.cloudsmith.io/orgs/a/services/?page=2>; rel="next", <https://x/?page=9>; rel="last"`: "https://api.cloudsmith.io/orgs/a/services/?page=2",
		`<https://x/?page=1>; rel="prev", <https://x/?page=3>; rel=next`:                                   "https://x/?page=3",
		`<https://x/?page=9>; rel="last"`:                                                                  "",
		``:                                                                                                 "",
	}
	for in, want := range tests {
		if got := linkNext(in); got != want {
			t.Errorf("linkNext(%q) = %q, want %q", in, got, want)
		}
	}
}
