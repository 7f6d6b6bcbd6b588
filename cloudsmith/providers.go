package cloudsmith

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/claimrule"
)

// ProviderSettings is an organization's OIDC provider (OpenAPI schemas
// ProviderSettings for reads, ProviderSettingsWrite* for writes): tokens
// whose iss equals ProviderURL and that carry Claims may be exchanged for
// the listed ServiceAccounts.
type ProviderSettings struct {
	Name string `json:"name"`
	// Slug and SlugPerm are read-only; SlugPerm is the immutable id used in
	// URLs.
	Slug     string `json:"slug,omitempty"`
	SlugPerm string `json:"slug_perm,omitempty"`
	// ProviderURL must equal the tokens' iss exactly.
	ProviderURL string `json:"provider_url"`
	// Claims that tokens must carry: exact values, or a prefix when the value
	// ends in ".*". A value that is not a JSON string is kept as its JSON
	// text here and in ClaimJSON.
	Claims  map[string]string `json:"claims"`
	Enabled bool              `json:"enabled"`
	// ServiceAccounts are service slugs; exclusive with MappingClaim.
	ServiceAccounts []string `json:"service_accounts,omitempty"`
	// MappingClaim and DynamicMappings map a claim's value to a service
	// (early access at Cloudsmith). DynamicMappings are write-only here:
	// Cloudsmith lists them under a sub-resource.
	MappingClaim    string           `json:"mapping_claim,omitempty"`
	DynamicMappings []DynamicMapping `json:"dynamic_mappings,omitempty"`
	// ClaimJSON are the claims that are not JSON strings (numbers,
	// booleans), as JSON: Cloudsmith compares a required claim with the
	// token's as JSON values, so writes send these with their type.
	ClaimJSON map[string]json.RawMessage `json:"-"`
}

// DynamicMapping maps a MappingClaim value to a service account slug.
type DynamicMapping struct {
	ClaimValue     string `json:"claim_value"`
	ServiceAccount string `json:"service_account"`
}

// UnmarshalJSON accepts claims of any JSON type and a null mapping_claim.
func (p *ProviderSettings) UnmarshalJSON(b []byte) error {
	type plain ProviderSettings
	var raw struct {
		plain
		Claims       map[string]json.RawMessage `json:"claims"`
		MappingClaim *string                    `json:"mapping_claim"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = ProviderSettings(raw.plain)
	p.Claims = nil
	if raw.Claims != nil {
		p.Claims = make(map[string]string, len(raw.Claims))
		for k, v := range raw.Claims {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(v)
				if p.ClaimJSON == nil {
					p.ClaimJSON = map[string]json.RawMessage{}
				}
				p.ClaimJSON[k] = v
			}
			p.Claims[k] = s
		}
	}
	if raw.MappingClaim != nil {
		p.MappingClaim = *raw.MappingClaim
	}
	return nil
}

// providerWrite is ProviderSettingsWriteRequest(Patch): every writable
// field, so a PATCH sets the provider to exactly what is wanted. The two
// ways of naming services are exclusive and Cloudsmith answers 422 when a
// write leaves both set, so each write also resets the other one, as the
// Terraform provider does (resource_oidc.go): service accounts go with
// mapping_claim null and dynamic_mappings [], a mapping claim with
// service_accounts [].
type providerWrite struct {
	Name            string           `json:"name"`
	ProviderURL     string           `json:"provider_url"`
	Claims          map[string]any   `json:"claims"`
	Enabled         bool             `json:"enabled"`
	ServiceAccounts []string         `json:"service_accounts"`
	MappingClaim    *string          `json:"mapping_claim"`
	DynamicMappings []DynamicMapping `json:"dynamic_mappings"`
}

func (p ProviderSettings) write() providerWrite {
	w := providerWrite{Name: p.Name, ProviderURL: p.ProviderURL, Claims: p.claimValues(), Enabled: p.Enabled,
		ServiceAccounts: []string{}, DynamicMappings: []DynamicMapping{}}
	if p.MappingClaim != "" {
		mc := p.MappingClaim
		w.MappingClaim = &mc
		w.DynamicMappings = append(w.DynamicMappings, p.DynamicMappings...)
	} else {
		w.ServiceAccounts = append(w.ServiceAccounts, p.ServiceAccounts...)
	}
	return w
}

// claimValues are the claims as JSON values: those in ClaimJSON (whose
// text Claims still holds) keep their type, the rest are strings.
func (p ProviderSettings) claimValues() map[string]any {
	out := make(map[string]any, len(p.Claims))
	for k, v := range p.Claims {
		if raw, ok := p.ClaimJSON[k]; ok && string(raw) == v {
			out[k] = raw
			continue
		}
		out[k] = v
	}
	return out
}

func (p ProviderSettings) validate() error {
	var missing []string
	if strings.TrimSpace(p.Name) == "" {
		missing = append(missing, "name")
	}
	if strings.TrimSpace(p.ProviderURL) == "" {
		missing = append(missing, "provider URL")
	}
	if len(missing) > 0 {
		return fmt.Errorf("cloudsmith: %w: an OIDC provider needs a %s", ErrInvalidInput, strings.Join(missing, " and a "))
	}
	if p.MappingClaim != "" && len(p.ServiceAccounts) > 0 {
		return fmt.Errorf("cloudsmith: %w: OIDC provider %q sets both service accounts and a mapping claim; Cloudsmith accepts one or the other", ErrInvalidInput, p.Name)
	}
	return nil
}

// ListProviders returns every OIDC provider of org (all pages).
func (c *Client) ListProviders(ctx context.Context, org string) ([]ProviderSettings, error) {
	if err := checkSlug("organization", org); err != nil {
		return nil, err
	}
	return list[ProviderSettings](ctx, c, endpoint(c.apiURL, "orgs", org, "openid-connect"))
}

// GetProvider returns one OIDC provider by slug_perm.
func (c *Client) GetProvider(ctx context.Context, org, slugPerm string) (*ProviderSettings, error) {
	if err := checkSlugs(org, "OIDC provider slug_perm", slugPerm); err != nil {
		return nil, err
	}
	return send[ProviderSettings](ctx, c, call{method: http.MethodGet, url: endpoint(c.apiURL, "orgs", org, "openid-connect", slugPerm)})
}

// CreateProvider creates an OIDC provider and returns it with its slugs.
func (c *Client) CreateProvider(ctx context.Context, org string, p ProviderSettings) (*ProviderSettings, error) {
	if err := checkSlug("organization", org); err != nil {
		return nil, err
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	// POST is not retried: a lost answer may hide a provider that was created.
	return send[ProviderSettings](ctx, c, call{method: http.MethodPost, url: endpoint(c.apiURL, "orgs", org, "openid-connect"), in: p.write()})
}

// UpdateProvider sets OIDC provider slugPerm to p's writable fields with a
// PATCH (retried: it sets absolute values, so repeating it is harmless).
func (c *Client) UpdateProvider(ctx context.Context, org, slugPerm string, p ProviderSettings) (*ProviderSettings, error) {
	if err := checkSlugs(org, "OIDC provider slug_perm", slugPerm); err != nil {
		return nil, err
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return send[ProviderSettings](ctx, c, call{method: http.MethodPatch, url: endpoint(c.apiURL, "orgs", org, "openid-connect", slugPerm), in: p.write(), retry: true})
}

// DeleteProvider deletes OIDC provider slugPerm.
func (c *Client) DeleteProvider(ctx context.Context, org, slugPerm string) error {
	if err := checkSlugs(org, "OIDC provider slug_perm", slugPerm); err != nil {
		return err
	}
	_, err := c.do(ctx, call{method: http.MethodDelete, url: endpoint(c.apiURL, "orgs", org, "openid-connect", slugPerm)})
	return err
}

// Diff lists the writable fields in which p differs from want, by their
// JSON names; empty when applying want would change nothing. Service
// accounts compare as a set; the provider URL compares exactly, since
// Cloudsmith compares it exactly with iss. Dynamic mappings are not
// compared (Cloudsmith doesn't return them with the provider).
func (p ProviderSettings) Diff(want ProviderSettings) []string {
	var d []string
	if p.Name != want.Name {
		d = append(d, "name")
	}
	if p.ProviderURL != want.ProviderURL {
		d = append(d, "provider_url")
	}
	if !claimrule.SameClaims(p.Claims, p.ClaimJSON, want.Claims, want.ClaimJSON) {
		d = append(d, "claims")
	}
	if p.Enabled != want.Enabled {
		d = append(d, "enabled")
	}
	if !sameSet(p.ServiceAccounts, want.ServiceAccounts) {
		d = append(d, "service_accounts")
	}
	if p.MappingClaim != want.MappingClaim {
		d = append(d, "mapping_claim")
	}
	return d
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// EnsureProvider makes org's OIDC provider match want: found by
// want.SlugPerm when set, else by name; created when absent, PATCHed when
// any field differs (see Diff), left alone otherwise. changed reports
// whether anything was written.
func (c *Client) EnsureProvider(ctx context.Context, org string, want ProviderSettings) (bool, error) {
	if err := want.validate(); err != nil {
		return false, err
	}
	have, err := c.findProvider(ctx, org, want)
	if err != nil {
		return false, err
	}
	if have == nil {
		_, err := c.CreateProvider(ctx, org, want)
		return err == nil, err
	}
	if len(have.Diff(want)) == 0 {
		return false, nil
	}
	if _, err := c.UpdateProvider(ctx, org, have.SlugPerm, want); err != nil {
		return false, err
	}
	return true, nil
}

func (c *Client) findProvider(ctx context.Context, org string, want ProviderSettings) (*ProviderSettings, error) {
	if want.SlugPerm != "" {
		return c.GetProvider(ctx, org, want.SlugPerm)
	}
	all, err := c.ListProviders(ctx, org)
	if err != nil {
		return nil, err
	}
	var found *ProviderSettings
	for i := range all {
		if all[i].Name != want.Name {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("cloudsmith: org %q has several OIDC providers named %q (slug_perm %s and %s): set the slug_perm to manage", org, want.Name, found.SlugPerm, all[i].SlugPerm)
		}
		found = &all[i]
	}
	return found, nil
}
