package cloudsmith

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Roles of a service account or of its membership in a team.
const (
	RoleManager = "Manager"
	RoleMember  = "Member"
)

// Service is a Cloudsmith service account (OpenAPI schema Service). The
// service's own API key, which Cloudsmith returns on create, is discarded:
// with OIDC no long-lived key is needed, and one not kept can't leak.
type Service struct {
	Name        string        `json:"name"`
	Slug        string        `json:"slug,omitempty"`
	Description string        `json:"description,omitempty"`
	Role        string        `json:"role,omitempty"` // RoleManager or RoleMember (default)
	Teams       []ServiceTeam `json:"teams,omitempty"`
	// Read-only fields.
	KeyExpiresAt *time.Time `json:"key_expires_at,omitempty"`
	CreatedAt    *time.Time `json:"created_at,omitempty"`
	CreatedBy    string     `json:"created_by,omitempty"`
	CreatedByURL string     `json:"created_by_url,omitempty"`
}

// ServiceTeam is a team membership of a service (OpenAPI ServiceTeams).
type ServiceTeam struct {
	Slug string `json:"slug"`
	Name string `json:"name,omitempty"` // read-only
	Role string `json:"role,omitempty"` // default RoleManager
}

// serviceWrite is ServiceRequest / ServiceRequestPatch: only writable
// fields, teams without their read-only name.
type serviceWrite struct {
	Name        string           `json:"name,omitempty"`
	Description string           `json:"description,omitempty"`
	Role        string           `json:"role,omitempty"`
	Teams       []serviceTeamRef `json:"teams,omitempty"`
}

type serviceTeamRef struct {
	Slug string `json:"slug"`
	Role string `json:"role,omitempty"`
}

func (s Service) write() serviceWrite {
	w := serviceWrite{Name: s.Name, Description: s.Description, Role: s.Role}
	for _, t := range s.Teams {
		w.Teams = append(w.Teams, serviceTeamRef{Slug: t.Slug, Role: t.Role})
	}
	return w
}

// ListServices returns every service account of org (all pages).
func (c *Client) ListServices(ctx context.Context, org string) ([]Service, error) {
	if err := checkSlug("organization", org); err != nil {
		return nil, err
	}
	return list[Service](ctx, c, endpoint(c.apiURL, "orgs", org, "services"))
}

// GetService returns one service account by slug; errors.Is(err,
// ErrNotFound) when it does not exist.
func (c *Client) GetService(ctx context.Context, org, slug string) (*Service, error) {
	if err := checkSlugs(org, "service", slug); err != nil {
		return nil, err
	}
	return send[Service](ctx, c, call{method: http.MethodGet, url: endpoint(c.apiURL, "orgs", org, "services", slug)})
}

// CreateService creates a service account from s's writable fields (Name
// required) and returns it with the slug Cloudsmith chose (truncated to 30
// characters, possibly with a random suffix).
func (c *Client) CreateService(ctx context.Context, org string, s Service) (*Service, error) {
	if err := checkSlug("organization", org); err != nil {
		return nil, err
	}
	if strings.TrimSpace(s.Name) == "" {
		return nil, fmt.Errorf("cloudsmith: %w: a service account needs a name", ErrInvalidInput)
	}
	// POST is not retried: a lost answer may hide a service that was created.
	return send[Service](ctx, c, call{method: http.MethodPost, url: endpoint(c.apiURL, "orgs", org, "services"), in: s.write()})
}

// UpdateService PATCHes the writable fields set in s onto service slug.
func (c *Client) UpdateService(ctx context.Context, org, slug string, s Service) (*Service, error) {
	if err := checkSlugs(org, "service", slug); err != nil {
		return nil, err
	}
	return send[Service](ctx, c, call{method: http.MethodPatch, url: endpoint(c.apiURL, "orgs", org, "services", slug), in: s.write(), retry: true})
}

// DeleteService deletes service account slug.
func (c *Client) DeleteService(ctx context.Context, org, slug string) error {
	if err := checkSlugs(org, "service", slug); err != nil {
		return err
	}
	_, err := c.do(ctx, call{method: http.MethodDelete, url: endpoint(c.apiURL, "orgs", org, "services", slug)})
	return err
}

// FindService returns the service account called name, else the one
// whose slug is name, or nil when there is none. Cloudsmith assigns slugs
// (possibly with random characters appended), so matching by name is what
// keeps a second apply from creating a second account; several accounts
// of that name are an error naming their slugs.
func FindService(all []Service, name string) (*Service, error) {
	var byName []Service
	for _, s := range all {
		if s.Name == name {
			byName = append(byName, s)
		}
	}
	switch len(byName) {
	case 1:
		return &byName[0], nil
	case 0:
		for _, s := range all {
			if s.Slug == name {
				return &s, nil
			}
		}
		return nil, nil
	}
	slugs := make([]string, len(byName))
	for i, s := range byName {
		slugs[i] = s.Slug
	}
	return nil, fmt.Errorf("%d service accounts are named %q (slugs %s): give the slug of the one to use", len(byName), name, strings.Join(slugs, ", "))
}

// EnsureService returns the service account called name (or whose slug is
// name, see FindService), creating it when there is none. It writes
// nothing when one exists.
func (c *Client) EnsureService(ctx context.Context, org, name string) (*Service, bool, error) {
	if strings.TrimSpace(name) == "" {
		return nil, false, fmt.Errorf("cloudsmith: %w: a service account needs a name", ErrInvalidInput)
	}
	all, err := c.ListServices(ctx, org)
	if err != nil {
		return nil, false, err
	}
	found, err := FindService(all, name)
	if err != nil {
		return nil, false, fmt.Errorf("cloudsmith: org %q: %w", org, err)
	}
	if found != nil {
		return found, false, nil
	}
	s, err := c.CreateService(ctx, org, Service{Name: name})
	if err != nil {
		return nil, false, err
	}
	return s, true, nil
}

func checkSlugs(org, kind, slug string) error {
	if err := checkSlug("organization", org); err != nil {
		return err
	}
	return checkSlug(kind, slug)
}
