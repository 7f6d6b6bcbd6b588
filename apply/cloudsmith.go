package apply

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
)

// Cloudsmith is what applying writes to Cloudsmith's management API.
type Cloudsmith interface {
	plan.Cloudsmith
	// CreateService creates a service account and returns it as created
	// (Cloudsmith may choose a different slug than asked).
	CreateService(ctx context.Context, org string, s plan.ServiceSettings) (*plan.ServiceSettings, error)
	// CreateProvider creates an OIDC provider.
	CreateProvider(ctx context.Context, org string, p plan.ProviderSettings) error
	// UpdateProvider replaces the provider with slug p.Slug.
	UpdateProvider(ctx context.Context, org string, p plan.ProviderSettings) error
}

func (e *executor) cloudsmith(ctx context.Context, c plan.Change) error {
	if e.cs == nil {
		return fmt.Errorf("no Cloudsmith API key: set cloudsmith.api_key in the spec")
	}
	org := e.opt.Org
	switch {
	case c.Kind == plan.KindService && c.Service != nil:
		var got *plan.ServiceSettings
		create := func(ctx context.Context) error {
			s, err := e.cs.CreateService(ctx, org, *c.Service)
			got = s
			return err
		}
		err := e.retry(ctx, create, func(ctx context.Context) (func(context.Context) error, error) {
			list, err := e.cs.Services(ctx, org)
			if err != nil {
				return nil, err
			}
			if slices.ContainsFunc(list, func(s plan.ServiceSettings) bool { return s.Slug == c.Service.Slug }) {
				return nil, nil
			}
			return create, nil
		})
		if err == nil && got != nil && got.Slug != "" && got.Slug != c.Service.Slug {
			return fmt.Errorf("Cloudsmith created the service account with slug %q, not %q: set cloudsmith.service to %q in the spec and apply again",
				got.Slug, c.Service.Slug, got.Slug)
		}
		return err
	case c.Kind == plan.KindProvider && c.Provider != nil:
		want := *c.Provider
		create := func(ctx context.Context) error { return e.cs.CreateProvider(ctx, org, want) }
		update := func(ctx context.Context) error { return e.cs.UpdateProvider(ctx, org, want) }
		first := create
		if c.Action == plan.Update {
			first = update
		}
		return e.retry(ctx, first, func(ctx context.Context) (func(context.Context) error, error) {
			list, err := e.cs.Providers(ctx, org)
			if err != nil {
				return nil, err
			}
			i := slices.IndexFunc(list, func(p plan.ProviderSettings) bool { return p.Name == want.Name })
			if i < 0 {
				return create, nil
			}
			have := list[i]
			linked := true
			for _, s := range c.Provider.ServiceAccounts {
				linked = linked && slices.Contains(have.ServiceAccounts, s)
			}
			if have.ProviderURL == want.ProviderURL && maps.Equal(have.Claims, want.Claims) && have.Enabled && linked {
				return nil, nil
			}
			want.Slug = have.Slug
			return update, nil
		})
	}
	return fmt.Errorf("unsupported change %s %s", c.Action, c.Kind)
}

// CloudsmithClient adapts *cloudsmith.Client to Cloudsmith.
type CloudsmithClient struct{ C *cloudsmith.Client }

// Services implements plan.Cloudsmith.
func (c CloudsmithClient) Services(ctx context.Context, org string) ([]plan.ServiceSettings, error) {
	list, err := c.C.ListServices(ctx, org)
	if err != nil {
		return nil, err
	}
	out := make([]plan.ServiceSettings, len(list))
	for i, s := range list {
		out[i] = plan.ServiceSettings{Name: s.Name, Slug: s.Slug, Role: s.Role}
	}
	return out, nil
}

// Providers implements plan.Cloudsmith.
func (c CloudsmithClient) Providers(ctx context.Context, org string) ([]plan.ProviderSettings, error) {
	list, err := c.C.ListProviders(ctx, org)
	if err != nil {
		return nil, err
	}
	out := make([]plan.ProviderSettings, len(list))
	for i, p := range list {
		out[i] = plan.ProviderSettings{Name: p.Name, Slug: p.SlugPerm, ProviderURL: p.ProviderURL, Claims: p.Claims,
			Enabled: p.Enabled, ServiceAccounts: p.ServiceAccounts}
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
	return cloudsmith.ProviderSettings{Name: p.Name, SlugPerm: p.Slug, ProviderURL: p.ProviderURL, Claims: p.Claims,
		Enabled: p.Enabled, ServiceAccounts: p.ServiceAccounts}
}

// CreateProvider implements Cloudsmith.
func (c CloudsmithClient) CreateProvider(ctx context.Context, org string, p plan.ProviderSettings) error {
	_, err := c.C.CreateProvider(ctx, org, toProvider(p))
	return err
}

// UpdateProvider implements Cloudsmith.
func (c CloudsmithClient) UpdateProvider(ctx context.Context, org string, p plan.ProviderSettings) error {
	_, err := c.C.UpdateProvider(ctx, org, p.Slug, toProvider(p))
	return err
}

// The real client satisfies the interface.
var _ Cloudsmith = CloudsmithClient{}
