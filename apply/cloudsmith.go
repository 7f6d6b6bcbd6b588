package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

// Cloudsmith is what applying writes to Cloudsmith's management API.
type Cloudsmith interface {
	plan.Cloudsmith
	// CreateService creates a service account and returns it as created,
	// with the slug Cloudsmith assigned.
	CreateService(ctx context.Context, org string, s plan.ServiceSettings) (*plan.ServiceSettings, error)
	// CreateProvider creates an OIDC provider.
	CreateProvider(ctx context.Context, org string, p plan.ProviderSettings) error
	// UpdateProvider replaces the provider with slug p.Slug.
	UpdateProvider(ctx context.Context, org string, p plan.ProviderSettings) error
	// GrantPrivilege adds (or raises) one service's privilege on a
	// repository, leaving every other privilege there as it is.
	GrantPrivilege(ctx context.Context, org string, g plan.PrivilegeGrant) error
}

// visibleWithin bounds how long apply waits for what it created to show
// in Cloudsmith's reads: its API is eventually consistent (the Terraform
// provider polls reads for up to a minute after a create and sleeps after
// privilege updates), and what depends on a fresh object (a provider
// naming a new service, a build using a new grant) fails until it shows.
const visibleWithin = time.Minute

// awaitVisible polls seen with growing pauses until it reports true, for
// at most visibleWithin.
func (e *executor) awaitVisible(ctx context.Context, what string, seen func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(visibleWithin)
	pause := 100 * time.Millisecond
	for {
		ok, err := seen(ctx)
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("%s was written but reading it back failed for %s: %w", what, visibleWithin, err)
			}
			return fmt.Errorf("%s was written but Cloudsmith still does not show it after %s; run apply again later", what, visibleWithin)
		}
		// A real pause even when retries are not slept (tests): polling
		// waits on Cloudsmith, not on a backoff schedule.
		if serr := httpx.Sleep(ctx, pause); serr != nil {
			return serr
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// slugOf is the slug Cloudsmith assigned to the service this apply created
// under name, or name: the plan names a service it is to create by its
// name, since only Cloudsmith knows the slug.
func (e *executor) slugOf(name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if slug, ok := e.slugs[name]; ok {
		return slug
	}
	return name
}

func (e *executor) cloudsmith(ctx context.Context, c plan.Change) error {
	if e.cs == nil {
		return fmt.Errorf("no Cloudsmith API key: set cloudsmith.api_key in the spec")
	}
	org := e.opt.Org
	switch {
	case c.Kind == plan.KindService && c.Service != nil:
		name := c.Service.Name
		find := func(ctx context.Context) (*plan.ServiceSettings, error) { return e.cs.FindService(ctx, org, name) }
		create := func(ctx context.Context) error {
			_, err := e.cs.CreateService(ctx, org, *c.Service)
			return err
		}
		err := e.retry(ctx, create, func(ctx context.Context) (func(context.Context) error, error) {
			// Matched by name: the slug is Cloudsmith's to choose.
			if s, err := find(ctx); err != nil || s != nil {
				return nil, err
			}
			return create, nil
		})
		if err != nil {
			return err
		}
		return e.awaitVisible(ctx, "service account "+name, func(ctx context.Context) (bool, error) {
			s, err := find(ctx)
			if s != nil {
				e.mu.Lock()
				e.slugs[name] = s.Slug
				e.mu.Unlock()
			}
			return s != nil, err
		})
	case c.Kind == plan.KindPrivilege && c.Privilege != nil:
		g := *c.Privilege
		g.Service = e.slugOf(g.Service)
		holds := func(ctx context.Context) (bool, error) {
			have, err := e.cs.RepositoryPrivilege(ctx, org, g.Repo, g.Service)
			return cloudsmith.PrivilegeRank(have) >= cloudsmith.PrivilegeRank(g.Privilege), err
		}
		grant := func(ctx context.Context) error { return e.cs.GrantPrivilege(ctx, org, g) }
		err := e.retry(ctx, grant, func(ctx context.Context) (func(context.Context) error, error) {
			if ok, err := holds(ctx); err != nil || ok {
				return nil, err
			}
			return grant, nil
		})
		if err != nil {
			return err
		}
		return e.awaitVisible(ctx, fmt.Sprintf("%s privilege of %s on %s/%s", g.Privilege, g.Service, org, g.Repo), holds)
	case c.Kind == plan.KindProvider && c.Provider != nil:
		want := *c.Provider
		want.ServiceAccounts = slices.Clone(want.ServiceAccounts)
		for i, s := range want.ServiceAccounts {
			want.ServiceAccounts[i] = e.slugOf(s)
		}
		create := func(ctx context.Context) error { return e.cs.CreateProvider(ctx, org, want) }
		update := func(ctx context.Context) error { return e.cs.UpdateProvider(ctx, org, want) }
		first := create
		if c.Action == plan.Update {
			first = update
		}
		landed := func(ctx context.Context) (*plan.ProviderSettings, bool, error) {
			list, err := e.cs.Providers(ctx, org)
			if err != nil {
				return nil, false, err
			}
			i := plan.FindProvider(list, want.Name)
			if i < 0 {
				return nil, false, nil
			}
			have := list[i]
			linked := have.MappingClaim == ""
			for _, s := range want.ServiceAccounts {
				linked = linked && slices.Contains(have.ServiceAccounts, s)
			}
			return &have, have.ProviderURL == want.ProviderURL && plan.SameClaims(have, want) && have.Enabled && linked, nil
		}
		err := e.retry(ctx, first, func(ctx context.Context) (func(context.Context) error, error) {
			have, ok, err := landed(ctx)
			switch {
			case err != nil || ok:
				return nil, err
			case have == nil:
				return create, nil
			}
			want.Slug = have.Slug
			return update, nil
		})
		if err != nil {
			return err
		}
		return e.awaitVisible(ctx, "OIDC provider "+want.Name, func(ctx context.Context) (bool, error) {
			_, ok, err := landed(ctx)
			return ok, err
		})
	}
	return fmt.Errorf("unsupported change %s %s", c.Action, c.Kind)
}

// CloudsmithClient adapts *cloudsmith.Client to Cloudsmith.
type CloudsmithClient struct{ C *cloudsmith.Client }

// FindService implements plan.Cloudsmith.
func (c CloudsmithClient) FindService(ctx context.Context, org, name string) (*plan.ServiceSettings, error) {
	list, err := c.C.ListServices(ctx, org)
	if err != nil {
		return nil, err
	}
	s, err := cloudsmith.FindService(list, name)
	if s == nil || err != nil {
		return nil, err
	}
	return &plan.ServiceSettings{Name: s.Name, Slug: s.Slug, Role: s.Role}, nil
}

// Providers implements plan.Cloudsmith.
func (c CloudsmithClient) Providers(ctx context.Context, org string) ([]plan.ProviderSettings, error) {
	list, err := c.C.ListProviders(ctx, org)
	if err != nil {
		return nil, err
	}
	out := make([]plan.ProviderSettings, len(list))
	for i, p := range list {
		out[i] = plan.ProviderSettings{Name: p.Name, Slug: p.SlugPerm, ProviderURL: p.ProviderURL, Claims: p.Claims, ClaimJSON: p.ClaimJSON,
			Enabled: p.Enabled, ServiceAccounts: p.ServiceAccounts, MappingClaim: p.MappingClaim}
	}
	return out, nil
}

// CreateService implements Cloudsmith.
func (c CloudsmithClient) CreateService(ctx context.Context, org string, s plan.ServiceSettings) (*plan.ServiceSettings, error) {
	got, err := c.C.CreateService(ctx, org, cloudsmith.Service{Name: s.Name, Role: s.Role,
		Description: "Jenkins builds exchange their OIDC token into this account (managed by jenkins-cloudsmith)"})
	if err != nil {
		return nil, err
	}
	return &plan.ServiceSettings{Name: got.Name, Slug: got.Slug, Role: got.Role}, nil
}

func toProvider(p plan.ProviderSettings) cloudsmith.ProviderSettings {
	return cloudsmith.ProviderSettings{Name: p.Name, SlugPerm: p.Slug, ProviderURL: p.ProviderURL, Claims: p.Claims, ClaimJSON: p.ClaimJSON,
		Enabled: p.Enabled, ServiceAccounts: p.ServiceAccounts}
}

// CreateProvider implements Cloudsmith.
func (c CloudsmithClient) CreateProvider(ctx context.Context, org string, p plan.ProviderSettings) error {
	_, err := c.C.CreateProvider(ctx, org, toProvider(p))
	return err
}

// UpdateProvider implements Cloudsmith. It starts from the provider as
// Cloudsmith holds it and sets every field the spec decides, the claims
// with their JSON types (the spec's numbers and booleans stay so).
func (c CloudsmithClient) UpdateProvider(ctx context.Context, org string, p plan.ProviderSettings) error {
	next, err := c.C.GetProvider(ctx, org, p.Slug)
	if err != nil {
		return err
	}
	want := toProvider(p)
	next.Name, next.ProviderURL, next.Claims, next.ClaimJSON, next.Enabled = want.Name, want.ProviderURL, want.Claims, want.ClaimJSON, want.Enabled
	next.ServiceAccounts, next.MappingClaim, next.DynamicMappings = want.ServiceAccounts, "", nil
	_, err = c.C.UpdateProvider(ctx, org, p.Slug, *next)
	return err
}

// RepositoryPrivilege implements plan.Cloudsmith.
func (c CloudsmithClient) RepositoryPrivilege(ctx context.Context, org, repo, service string) (string, error) {
	list, err := c.C.RepositoryPrivileges(ctx, org, repo)
	if errors.Is(err, cloudsmith.ErrNotFound) {
		return "", fmt.Errorf("repository %s/%s does not exist, or cloudsmith.api_key cannot see it (create it in Cloudsmith, or fix jobs[].repo / defaults.repo): %w", org, repo, err)
	}
	if err != nil {
		return "", err
	}
	return cloudsmith.ServicePrivilege(list, service), nil
}

// GrantPrivilege implements Cloudsmith, always with PATCH (never PUT,
// which would replace everyone's privileges on the repository).
func (c CloudsmithClient) GrantPrivilege(ctx context.Context, org string, g plan.PrivilegeGrant) error {
	return c.C.GrantPrivileges(ctx, org, g.Repo, []cloudsmith.RepositoryPrivilege{{Privilege: g.Privilege, Service: g.Service}})
}

// The real client satisfies the interface.
var _ Cloudsmith = CloudsmithClient{}
