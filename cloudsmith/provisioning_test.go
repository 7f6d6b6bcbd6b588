package cloudsmith

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/cloudsmithtest"
)

// TestProviderWritesResetTheOtherMapping: switching a provider between
// dynamic mappings and static service accounts (either way) works on the
// emulator, which like Cloudsmith answers 422 when a write leaves both
// set; and a claim read as a number is written back as a number.
func TestProviderWritesResetTheOtherMapping(t *testing.T) {
	srv, iss, svc := emulator(t)
	c, err := NewClient(Options{APIURL: srv.APIURL, APIKey: srv.APIKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	created, err := c.CreateProvider(ctx, srv.Org, ProviderSettings{Name: "dyn", ProviderURL: iss + "/dyn", Enabled: true,
		Claims: map[string]string{"sub": "x"}, MappingClaim: "sub", DynamicMappings: []DynamicMapping{{ClaimValue: "x", ServiceAccount: svc}}})
	if err != nil {
		t.Fatal(err)
	}
	// Read back as Cloudsmith returns it; a number claim set by hand.
	if err := srv.Cloudsmith.UpdateProvider(srv.Org, created.SlugPerm, func(p *cloudsmithtest.ProviderSettings) {
		p.Claims["build_number"] = json.Number("1")
	}); err != nil {
		t.Fatal(err)
	}
	have, err := c.GetProvider(ctx, srv.Org, created.SlugPerm)
	if err != nil {
		t.Fatal(err)
	}
	have.MappingClaim, have.DynamicMappings, have.ServiceAccounts = "", nil, []string{svc}
	if _, err := c.UpdateProvider(ctx, srv.Org, created.SlugPerm, *have); err != nil {
		t.Fatalf("dynamic → static: %v", err)
	}
	p := providerNamed(t, srv, "dyn")
	if p.MappingClaim != "" || len(p.DynamicMappings) != 0 || !slices.Equal(p.ServiceAccounts, []string{svc}) {
		t.Errorf("after dynamic → static: %+v", p)
	}
	if n, ok := p.Claims["build_number"].(json.Number); !ok || n != "1" {
		t.Errorf("claim build_number is %#v after the round trip, want the number 1", p.Claims["build_number"])
	}
	have.ServiceAccounts, have.MappingClaim, have.DynamicMappings = nil, "sub", []DynamicMapping{{ClaimValue: "y", ServiceAccount: svc}}
	if _, err := c.UpdateProvider(ctx, srv.Org, created.SlugPerm, *have); err != nil {
		t.Fatalf("static → dynamic: %v", err)
	}
	if p := providerNamed(t, srv, "dyn"); len(p.ServiceAccounts) != 0 || p.MappingClaim != "sub" || len(p.DynamicMappings) != 1 {
		t.Errorf("after static → dynamic: %+v", p)
	}
}

func providerNamed(t *testing.T, srv *cloudsmithtest.Server, name string) cloudsmithtest.ProviderSettings {
	t.Helper()
	for _, p := range srv.Cloudsmith.Providers(srv.Org) {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no provider %q", name)
	return cloudsmithtest.ProviderSettings{}
}

// TestGrantPrivilegesPatchesOnly: a grant is a PATCH of one entry, which
// keeps every other holder's privilege, and reads list them all.
func TestGrantPrivilegesPatchesOnly(t *testing.T) {
	srv, _, svc := emulator(t)
	c, err := NewClient(Options{APIURL: srv.APIURL, APIKey: srv.APIKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := srv.Cloudsmith.AddGrant(srv.Org, srv.Repo, cloudsmithtest.Grant{Privilege: cloudsmithtest.PrivilegeAdmin, User: "alice"}); err != nil {
		t.Fatal(err)
	}
	srv.Cloudsmith.ResetRequests()
	if err := c.GrantPrivileges(ctx, srv.Org, srv.Repo, []RepositoryPrivilege{{Privilege: PrivilegeWrite, Service: svc}}); err != nil {
		t.Fatal(err)
	}
	list, err := c.RepositoryPrivileges(ctx, srv.Org, srv.Repo)
	if err != nil {
		t.Fatal(err)
	}
	if got := ServicePrivilege(list, svc); got != PrivilegeWrite {
		t.Errorf("service privilege %q, want Write (list %+v)", got, list)
	}
	if !slices.Contains(list, RepositoryPrivilege{Privilege: PrivilegeAdmin, User: "alice"}) {
		t.Errorf("alice's Admin is gone: %+v", list)
	}
	for _, r := range srv.Cloudsmith.Requests() {
		if r.Method == http.MethodPut || (r.Method != http.MethodGet && r.Method != http.MethodPatch) {
			t.Errorf("unexpected %s %s", r.Method, r.Path)
		}
	}
	for _, bad := range []RepositoryPrivilege{{Privilege: "Owner", Service: svc}, {Privilege: PrivilegeRead}, {Privilege: PrivilegeRead, Service: svc, Team: "t"}} {
		if err := c.GrantPrivileges(ctx, srv.Org, srv.Repo, []RepositoryPrivilege{bad}); err == nil {
			t.Errorf("grant %+v accepted", bad)
		}
	}
	if _, err := c.RepositoryPrivileges(ctx, srv.Org, "nope"); err == nil {
		t.Error("privileges of a missing repository: no error")
	}
}

// TestFindService: a service is found by name (Cloudsmith chose its
// slug), else by slug; two of one name is an error naming both slugs.
func TestFindService(t *testing.T) {
	all := []Service{{Name: "jenkins-ci", Slug: "jenkins-ci-dvha"}, {Name: "other", Slug: "jenkins"}, {Name: "twin", Slug: "twin-a"}, {Name: "twin", Slug: "twin-b"}}
	for _, tc := range []struct{ name, slug, err string }{
		{"jenkins-ci", "jenkins-ci-dvha", ""},
		{"jenkins-ci-dvha", "jenkins-ci-dvha", ""},
		{"jenkins", "jenkins", ""},
		{"ghost", "", ""},
		{"twin", "", "slugs twin-a, twin-b"},
	} {
		got, err := FindService(all, tc.name)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.slug == "" && got != nil, tc.slug != "" && (got == nil || got.Slug != tc.slug):
			t.Errorf("%s: found %+v, want slug %q", tc.name, got, tc.slug)
		}
	}
}

// TestPrivilegesForbiddenSaysAdmin: managing a repository's privileges
// takes Admin on it, which a Manager does not have by default ("no access
// to artifacts", DOCS workspaces/privileges.mdx); the 403 says so rather
// than pointing at the org role.
func TestPrivilegesForbiddenSaysAdmin(t *testing.T) {
	srv, _, _ := emulator(t)
	mgr, err := srv.Cloudsmith.AddService(cloudsmithtest.Service{Name: "ops", Role: RoleManager})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(Options{APIURL: srv.APIURL, APIKey: mgr.Key})
	if err != nil {
		t.Fatal(err)
	}
	err = c.GrantPrivileges(context.Background(), srv.Org, srv.Repo, []RepositoryPrivilege{{Privilege: PrivilegeRead, Service: mgr.Slug}})
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "Admin privilege on the repository") || strings.Contains(err.Error(), "to manage services") {
		t.Errorf("GrantPrivileges as a Manager: %v", err)
	}
}
