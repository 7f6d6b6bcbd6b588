package plan

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// ProviderSettings is the Cloudsmith OIDC provider the spec wants: it
// trusts the issuer, requires the claims and lets tokens exchange into the
// service accounts.
type ProviderSettings struct {
	Name            string            `json:"name"`
	Slug            string            `json:"slug,omitempty"`
	ProviderURL     string            `json:"provider_url"`
	Claims          map[string]string `json:"claims"`
	Enabled         bool              `json:"enabled"`
	ServiceAccounts []string          `json:"service_accounts"`
}

// ServiceSettings is a Cloudsmith service account.
type ServiceSettings struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
	Role string `json:"role,omitempty"`
}

// Cloudsmith is what planning reads from Cloudsmith's management API.
type Cloudsmith interface {
	// Services lists the org's service accounts.
	Services(ctx context.Context, org string) ([]ServiceSettings, error)
	// Providers lists the org's OIDC providers.
	Providers(ctx context.Context, org string) ([]ProviderSettings, error)
}

// DesiredProvider is the provider the spec asks for.
func DesiredProvider(in Input) ProviderSettings {
	cs := in.Spec.Cloudsmith
	name := cs.Provider.Name
	if name == "" {
		name = "jenkins"
	}
	claims := maps.Clone(cs.Provider.Claims)
	if len(claims) == 0 {
		// Cloudsmith requires at least one claim; the audience is the one
		// every token of this credential carries.
		claims = map[string]string{"aud": in.Spec.OIDC.Audience}
	}
	return ProviderSettings{Name: name, ProviderURL: in.Spec.IssuerURL(), Claims: claims,
		Enabled: true, ServiceAccounts: []string{cs.Service}}
}

func planCloudsmith(ctx context.Context, in Input) ([]Change, error) {
	org := in.Spec.Cloudsmith.Org
	api := in.Spec.Cloudsmith.API()
	var out []Change

	services, err := in.Cloudsmith.Services(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("list Cloudsmith service accounts of org %q on %s: %w", org, api, err)
	}
	slug := in.Spec.Cloudsmith.Service
	if !slices.ContainsFunc(services, func(s ServiceSettings) bool { return s.Slug == slug }) {
		out = append(out, Change{Action: Create, Kind: KindService, Name: slug,
			Service: &ServiceSettings{Name: slug, Slug: slug}, Reason: "service account builds exchange their token into"})
	}

	want := DesiredProvider(in)
	providers, err := in.Cloudsmith.Providers(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("list Cloudsmith OIDC providers of org %q on %s: %w", org, api, err)
	}
	i := slices.IndexFunc(providers, func(p ProviderSettings) bool { return p.Name == want.Name })
	if i < 0 {
		out = append(out, Change{Action: Create, Kind: KindProvider, Name: want.Name, Provider: &want,
			Reason: "trust issuer " + want.ProviderURL})
		return out, nil
	}
	have := providers[i]
	want.Slug = have.Slug
	// Keep service accounts someone else linked; only add ours.
	want.ServiceAccounts = have.ServiceAccounts
	if !slices.Contains(want.ServiceAccounts, slug) {
		want.ServiceAccounts = append(slices.Clone(want.ServiceAccounts), slug)
	}
	var diffs []string
	if have.ProviderURL != want.ProviderURL {
		diffs = append(diffs, fmt.Sprintf("provider_url %q → %q", have.ProviderURL, want.ProviderURL))
	}
	if !maps.Equal(have.Claims, want.Claims) {
		diffs = append(diffs, fmt.Sprintf("claims %s → %s", claimString(have.Claims), claimString(want.Claims)))
	}
	if !have.Enabled {
		diffs = append(diffs, "enabled false → true")
	}
	if len(want.ServiceAccounts) != len(have.ServiceAccounts) {
		diffs = append(diffs, "link service account "+slug)
	}
	if len(diffs) > 0 {
		out = append(out, Change{Action: Update, Kind: KindProvider, Name: want.Name, Provider: &want,
			Reason: strings.Join(diffs, ", ")})
	}
	return out, nil
}

func claimString(m map[string]string) string {
	keys := slices.Collect(maps.Keys(m))
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
