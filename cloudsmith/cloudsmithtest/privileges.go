package cloudsmithtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Privilege is a repository privilege, in Cloudsmith's order: each one
// includes those below it.
type Privilege int

// Repository privileges (RepositoryPrivilegeDict's "privilege").
const (
	PrivilegeNone Privilege = iota
	PrivilegeRead
	PrivilegeWrite
	PrivilegeAdmin
)

// privilegeNames are the enum values of RepositoryPrivilegeDict.privilege.
var privilegeNames = map[Privilege]string{PrivilegeRead: "Read", PrivilegeWrite: "Write", PrivilegeAdmin: "Admin"}

// String is the privilege as Cloudsmith spells it ("" for none).
func (p Privilege) String() string { return privilegeNames[p] }

func parsePrivilege(s string) (Privilege, bool) {
	for p, name := range privilegeNames {
		if name == s {
			return p, true
		}
	}
	return PrivilegeNone, false
}

// Grant is one explicit repository privilege (RepositoryPrivilegeDict):
// exactly one of Service, Team and User names who holds it.
type Grant struct {
	Privilege Privilege
	Service   string
	Team      string
	User      string
	// visibleAt is when the grant takes effect (WithVisibilityDelay).
	visibleAt time.Time
}

// grantee is the one identity a grant is for, as "kind:slug".
func (g Grant) grantee() string {
	switch {
	case g.Service != "":
		return "service:" + g.Service
	case g.Team != "":
		return "team:" + g.Team
	}
	return "user:" + g.User
}

// privilegeJSON is RepositoryPrivilegeDict.
type privilegeJSON struct {
	Privilege string `json:"privilege"`
	Service   string `json:"service,omitempty"`
	Team      string `json:"team,omitempty"`
	User      string `json:"user,omitempty"`
}

// GrantPrivilege gives a service account a privilege on a repository, as
// PATCH /repos/{org}/{repo}/privileges would (immediately visible). Tests
// use it where the setup is not what is under test: a service account has
// no repository privilege until granted one.
func (c *Cloudsmith) GrantPrivilege(orgSlug, repoSlug, service string, p Privilege) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.lookupRepo(orgSlug, repoSlug)
	if err != nil {
		return err
	}
	if c.orgs[orgSlug].service(service) == nil {
		return fmt.Errorf("cloudsmithtest: no service %q in org %q", service, orgSlug)
	}
	r.merge([]Grant{{Privilege: p, Service: service}})
	return nil
}

// AddGrant stores any explicit privilege (a user's or a team's too), for
// tests that check those are left alone.
func (c *Cloudsmith) AddGrant(orgSlug, repoSlug string, g Grant) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.lookupRepo(orgSlug, repoSlug)
	if err != nil {
		return err
	}
	r.merge([]Grant{g})
	return nil
}

// Grants returns a repository's explicit privileges, visible or not.
func (c *Cloudsmith) Grants(orgSlug, repoSlug string) []Grant {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.lookupRepo(orgSlug, repoSlug)
	if err != nil {
		return nil
	}
	return slices.Clone(r.grants)
}

// merge adds grants, replacing the privilege of a grantee that has one
// (PATCH's semantics). Callers hold c.mu.
func (r *repository) merge(gs []Grant) {
	for _, g := range gs {
		if i := slices.IndexFunc(r.grants, func(h Grant) bool { return h.grantee() == g.grantee() }); i >= 0 {
			r.grants[i] = g
			continue
		}
		r.grants = append(r.grants, g)
	}
}

// privilegeOf is what a caller may do on a repository. The owner's API key
// may do everything; a service account (its key or an exchanged token)
// holds what was granted to it or to one of its teams, and nothing else:
// Cloudsmith grants Members and Managers no repository privilege by
// default. Callers hold c.mu.
func (c *Cloudsmith) privilegeOf(o *org, r *repository, p *principal) Privilege {
	if p.service == "" {
		return PrivilegeAdmin
	}
	s := o.service(p.service)
	if s == nil {
		return PrivilegeNone
	}
	now := c.now()
	best := PrivilegeNone
	for _, g := range r.grants {
		if now.Before(g.visibleAt) {
			continue
		}
		mine := g.Service == s.Slug || (g.Team != "" && slices.ContainsFunc(s.Teams, func(t ServiceTeam) bool { return t.Slug == g.Team }))
		if mine && g.Privilege > best {
			best = g.Privilege
		}
	}
	return best
}

// servePrivileges handles /repos/{org}/{repo}/privileges: GET lists the
// explicit privileges (RepositoryPrivilegeInput, paginated), PATCH adds or
// updates the ones given, PUT replaces them all; both answer 204.
func (c *Cloudsmith) servePrivileges(w http.ResponseWriter, r *http.Request, p *principal, orgSlug, repoSlug string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPut:
	default:
		methodNotAllowed(w, r, http.MethodGet, http.MethodPatch, http.MethodPut)
		return
	}
	var obj map[string]json.RawMessage
	if r.Method == http.MethodPatch || r.Method == http.MethodPut {
		var ok bool
		if obj, ok = decodeObject(w, r); !ok {
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.orgs[orgSlug]
	var repo *repository
	if o != nil && p.inOrg(orgSlug) {
		repo = o.repo(repoSlug)
	}
	if repo == nil {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	// Managing privileges takes Admin on the repository (DOCS
	// repository-privileges: "Admin: can manage ... privileges").
	if c.privilegeOf(o, repo, p) < PrivilegeAdmin {
		noteFailure(r, fmt.Sprintf("service %q lacks Admin on repository %q", p.service, repoSlug))
		writeDetail(w, http.StatusForbidden, msgForbidden)
		return
	}
	if obj == nil {
		now := c.now()
		var out []privilegeJSON
		for _, g := range repo.grants {
			if !now.Before(g.visibleAt) {
				out = append(out, privilegeJSON{Privilege: g.Privilege.String(), Service: g.Service, Team: g.Team, User: g.User})
			}
		}
		lo, hi, ok := c.page(w, r, len(out))
		if !ok {
			return
		}
		page := slices.Clone(out[lo:hi])
		if page == nil {
			page = []privilegeJSON{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"privileges": page})
		return
	}
	grants, fe := c.parseGrants(o, obj, r.Method == http.MethodPut)
	if len(fe) > 0 {
		writeFieldErrors(w, fe)
		return
	}
	if r.Method == http.MethodPut {
		repo.grants = nil
	}
	repo.merge(grants)
	w.WriteHeader(http.StatusNoContent)
}

// parseGrants validates RepositoryPrivilegeInputRequest(Patch): privileges
// is required for PUT; each entry needs a valid privilege and exactly one
// existing (visible) service, team or user. Callers hold c.mu.
func (c *Cloudsmith) parseGrants(o *org, obj map[string]json.RawMessage, required bool) ([]Grant, fieldErrors) {
	fe := fieldErrors{}
	raw, present := obj["privileges"]
	if !present {
		if required {
			fe.add("privileges", msgRequired)
		}
		return nil, fe
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || string(raw) == "null" {
		fe.add("privileges", `Expected a list of items but got type "`+jsonKind(raw)+`".`)
		return nil, fe
	}
	visibleAt := c.now().Add(c.cfg.visibilityDelay)
	var out []Grant
	for i, item := range list {
		efe := fieldErrors{}
		name, _, _ := stringField(item, efe, "privilege", true, false, 0)
		priv, ok := parsePrivilege(name)
		if name != "" && !ok {
			efe.add("privilege", fmt.Sprintf("%q is not a valid choice.", name))
		}
		g := Grant{Privilege: priv, visibleAt: visibleAt}
		n := 0
		for _, key := range []string{"service", "team", "user"} {
			v, set, _ := stringField(item, efe, key, false, false, 0)
			if !set {
				continue
			}
			n++
			switch {
			case v != "" && !slugPattern.MatchString(v):
				efe.add(key, "Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens.")
			case key == "service" && v != "" && c.seeService(o, v) == nil,
				key == "team" && v != "" && o.teamName(v) == "":
				efe.add(key, fmt.Sprintf("Object with slug=%s does not exist.", v))
			}
			switch key {
			case "service":
				g.Service = v
			case "team":
				g.Team = v
			default:
				g.User = v
			}
		}
		if n != 1 {
			efe.add("non_field_errors", "Exactly one of service, team or user must be given.")
		}
		for k, msgs := range efe {
			for _, m := range msgs {
				fe.add("privileges", fmt.Sprintf("%d: %s: %s", i, k, m))
			}
		}
		out = append(out, g)
	}
	return out, fe
}
