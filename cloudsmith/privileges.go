package cloudsmith

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Repository privileges, lowest first (RepositoryPrivilegeDict.privilege):
// each includes the ones before it.
const (
	PrivilegeRead  = "Read"
	PrivilegeWrite = "Write"
	PrivilegeAdmin = "Admin"
)

// PrivilegeRank orders privileges: 0 for none or an unknown name, then
// Read < Write < Admin.
func PrivilegeRank(p string) int {
	return slices.Index([]string{PrivilegeRead, PrivilegeWrite, PrivilegeAdmin}, p) + 1
}

// RepositoryPrivilege is one explicit privilege on a repository
// (RepositoryPrivilegeDict): exactly one of Service, Team and User holds
// Privilege.
type RepositoryPrivilege struct {
	Privilege string `json:"privilege"`
	Service   string `json:"service,omitempty"`
	Team      string `json:"team,omitempty"`
	User      string `json:"user,omitempty"`
}

// privilegeList is RepositoryPrivilegeInput and its request forms.
type privilegeList struct {
	Privileges []RepositoryPrivilege `json:"privileges"`
}

// privilegesURL is /repos/{owner}/{repo}/privileges, spelled without a
// trailing slash as Cloudsmith's OpenAPI description and Terraform
// provider do.
func (c *Client) privilegesURL(org, repo string) (*url.URL, error) {
	if err := checkSlugs(org, "repository", repo); err != nil {
		return nil, err
	}
	u := endpoint(c.apiURL, "repos", org, repo, "privileges")
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	return u, nil
}

// RepositoryPrivileges lists a repository's explicit privileges (every
// page); errors.Is(err, ErrNotFound) when the repository does not exist or
// the key may not see it.
func (c *Client) RepositoryPrivileges(ctx context.Context, org, repo string) ([]RepositoryPrivilege, error) {
	base, err := c.privilegesURL(org, repo)
	if err != nil {
		return nil, err
	}
	const size = 1000 // what the Terraform provider asks for
	var all []RepositoryPrivilege
	for page := 1; page <= maxPages; page++ {
		u := *base
		u.RawQuery = url.Values{"page": {strconv.Itoa(page)}, "page_size": {strconv.Itoa(size)}}.Encode()
		var got privilegeList
		hdr, err := c.do(ctx, call{method: http.MethodGet, url: &u, out: &got})
		if err != nil {
			return nil, err
		}
		all = append(all, got.Privileges...)
		total, terr := strconv.Atoi(hdr.Get("X-Pagination-PageTotal"))
		if len(got.Privileges) == 0 || (terr == nil && page >= total) || (terr != nil && len(got.Privileges) < size) {
			return all, nil
		}
	}
	return nil, fmt.Errorf("cloudsmith: GET %s: more than %d pages", base, maxPages)
}

// GrantPrivileges adds or changes the given privileges on a repository
// with PATCH, which leaves every other user's, team's and service's
// privilege as it is. There is deliberately no PUT here: it replaces all
// of a repository's privileges and would lock their holders out.
func (c *Client) GrantPrivileges(ctx context.Context, org, repo string, grants []RepositoryPrivilege) error {
	u, err := c.privilegesURL(org, repo)
	if err != nil {
		return err
	}
	for _, g := range grants {
		if PrivilegeRank(g.Privilege) == 0 {
			return fmt.Errorf("cloudsmith: %w: privilege %q is not one of Read, Write, Admin", ErrInvalidInput, g.Privilege)
		}
		if n := countSet(g.Service, g.Team, g.User); n != 1 {
			return fmt.Errorf("cloudsmith: %w: a privilege names exactly one service, team or user", ErrInvalidInput)
		}
	}
	// Retried: PATCH sets absolute values per grantee.
	_, err = c.do(ctx, call{method: http.MethodPatch, url: u, in: privilegeList{Privileges: grants}, retry: true})
	return err
}

func countSet(vals ...string) int {
	n := 0
	for _, v := range vals {
		if v != "" {
			n++
		}
	}
	return n
}

// ServicePrivilege is the privilege a service account holds on a
// repository through an explicit grant to it ("" for none). Privileges it
// gets through a team are not counted here (see TeamPrivilege): apply
// grants the service itself.
func ServicePrivilege(list []RepositoryPrivilege, service string) string {
	best := ""
	for _, p := range list {
		if p.Service == service && PrivilegeRank(p.Privilege) > PrivilegeRank(best) {
			best = p.Privilege
		}
	}
	return best
}

// TeamPrivilege is the highest privilege one of teams holds on a
// repository and the team holding it ("" for none): Cloudsmith lets a
// service account do what its teams may.
func TeamPrivilege(list []RepositoryPrivilege, teams []string) (privilege, team string) {
	for _, p := range list {
		if p.Team != "" && slices.Contains(teams, p.Team) && PrivilegeRank(p.Privilege) > PrivilegeRank(privilege) {
			privilege, team = p.Privilege, p.Team
		}
	}
	return privilege, team
}
