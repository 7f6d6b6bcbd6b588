package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/claimrule"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// ProviderSettings is the Cloudsmith OIDC provider the spec wants: it
// trusts the issuer, requires the claims and lets tokens exchange into the
// service accounts.
type ProviderSettings struct {
	Name        string            `json:"name"`
	Slug        string            `json:"slug,omitempty"`
	ProviderURL string            `json:"provider_url"`
	Claims      map[string]string `json:"claims"`
	// ClaimJSON are the claims that are numbers or booleans, as JSON
	// (spec.Provider.ClaimJSON, cloudsmith.ProviderSettings.ClaimJSON).
	ClaimJSON       map[string]json.RawMessage `json:"claim_json,omitempty"`
	Enabled         bool                       `json:"enabled"`
	ServiceAccounts []string                   `json:"service_accounts"`
	// MappingClaim is set when the provider maps a claim to services
	// instead (read only: apply replaces it with ServiceAccounts).
	MappingClaim string `json:"mapping_claim,omitempty"`
}

// ServiceSettings is a Cloudsmith service account.
type ServiceSettings struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
	Role string `json:"role,omitempty"`
}

// PrivilegeGrant is a repository privilege the service account needs:
// apply adds it with PATCH /repos/{org}/{repo}/privileges, which leaves
// every other holder's privilege alone.
type PrivilegeGrant struct {
	Repo string `json:"repo"`
	// Service is the account's slug (its name while Cloudsmith has not
	// assigned one yet).
	Service   string `json:"service"`
	Privilege string `json:"privilege"`
	// Have is what the service holds there now ("" for none).
	Have string `json:"have,omitempty"`
}

// Cloudsmith is what planning reads from Cloudsmith's management API.
type Cloudsmith interface {
	// FindService is the service account called name, else the one whose
	// slug is name; nil when there is none. Cloudsmith assigns slugs, so
	// matching by name is what keeps a re-apply from creating a second
	// account.
	FindService(ctx context.Context, org, name string) (*ServiceSettings, error)
	// Providers lists the org's OIDC providers.
	Providers(ctx context.Context, org string) ([]ProviderSettings, error)
	// RepositoryPrivilege is the privilege service holds on repo by a
	// grant to it ("" for none).
	RepositoryPrivilege(ctx context.Context, org, repo, service string) (string, error)
}

// DefaultProviderClaims are the claims of the provider apply creates when
// the spec names none: every token of one of this controller's jobs has a
// sub under <root>job/. The audience is deliberately not required: the
// oidc-provider plugin writes aud as a string before 212.v7657c4d… and as
// a JSON array since (April 2026), and Cloudsmith does not document how it
// compares a required string with an array; compared exactly (the
// strictest reading) an aud claim would stop every build once the plugin
// is upgraded. sub is a string in every version. iss already pins the
// issuer and its keys.
func DefaultProviderClaims(s *spec.Spec) map[string]string {
	return map[string]string{"sub": s.Jenkins.RootURL() + "job/.*"}
}

// DesiredProvider is the provider the spec asks for.
func DesiredProvider(in Input) ProviderSettings {
	cs := in.Spec.Cloudsmith
	name := cs.Provider.Name
	if name == "" {
		name = "jenkins"
	}
	claims, typed := maps.Clone(cs.Provider.Claims), maps.Clone(cs.Provider.ClaimJSON)
	if len(claims) == 0 {
		claims, typed = DefaultProviderClaims(in.Spec), nil
	}
	return ProviderSettings{Name: name, ProviderURL: in.Spec.IssuerURL(), Claims: claims, ClaimJSON: typed,
		Enabled: true, ServiceAccounts: []string{cs.BuildService()}}
}

// resolveService finds the spec's service account and, when Cloudsmith
// gave it a slug other than the one the spec was rendered with, re-renders
// a copy of the spec with that slug, so the jobs carry what the exchange
// needs. It returns the account (nil when it is still to be created) for
// planCloudsmith.
func resolveService(ctx context.Context, in Input) (Input, *ServiceSettings, error) {
	cs := in.Spec.Cloudsmith
	found, err := in.Cloudsmith.FindService(ctx, cs.Org, cs.Service)
	if err != nil {
		return in, nil, fmt.Errorf("find the Cloudsmith service account %q (cloudsmith.service) of org %q on %s: %w", cs.Service, cs.Org, cs.API(), err)
	}
	if found == nil || found.Slug == cs.BuildService() || in.Render == nil {
		return in, found, nil
	}
	next := *in.Spec
	next.Cloudsmith.ServiceSlug = found.Slug
	out, err := in.Render(&next)
	if err != nil {
		return in, nil, err
	}
	in.Spec, in.Output = &next, out
	return in, found, nil
}

func planCloudsmith(ctx context.Context, in Input, found *ServiceSettings) ([]Change, error) {
	org := in.Spec.Cloudsmith.Org
	api := in.Spec.Cloudsmith.API()
	var out []Change
	var err error
	slug := in.Spec.Cloudsmith.BuildService()
	if found == nil {
		out = append(out, Change{Action: Create, Kind: KindService, Name: in.Spec.Cloudsmith.Service,
			Service: &ServiceSettings{Name: in.Spec.Cloudsmith.Service},
			Reason:  "service account builds exchange their token into (Cloudsmith assigns its slug; apply creates it first and renders the jobs with it)"})
	} else {
		slug = found.Slug
	}

	for _, use := range in.Spec.Repositories() {
		have := ""
		if found != nil {
			if have, err = in.Cloudsmith.RepositoryPrivilege(ctx, org, use.Repo, slug); err != nil {
				return nil, fmt.Errorf("read the privileges of Cloudsmith repository %s/%s on %s: %w", org, use.Repo, api, err)
			}
		}
		if privilegeRank(have) >= privilegeRank(use.Privilege()) {
			continue
		}
		why := "jobs install from it: " + strings.Join(use.Jobs, ", ")
		if use.Write {
			why = "jobs publish to it: " + strings.Join(use.Jobs, ", ")
		}
		if have != "" {
			why = "holds " + have + "; " + why
		}
		out = append(out, Change{Action: Create, Kind: KindPrivilege, Name: use.Repo,
			Privilege: &PrivilegeGrant{Repo: use.Repo, Service: slug, Privilege: use.Privilege(), Have: have},
			Reason:    fmt.Sprintf("grant %s %s on %s/%s (%s)", slug, use.Privilege(), org, use.Repo, why)})
	}

	want := DesiredProvider(in)
	want.ServiceAccounts = []string{slug}
	providers, err := in.Cloudsmith.Providers(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("list Cloudsmith OIDC providers of org %q on %s: %w", org, api, err)
	}
	i := FindProvider(providers, want.Name)
	if i < 0 {
		out = append(out, Change{Action: Create, Kind: KindProvider, Name: want.Name, Provider: &want,
			Reason: "trust issuer " + want.ProviderURL})
		return out, nil
	}
	have := providers[i]
	// Another spelling of the name keeps it: the provider is someone's.
	want.Name, want.Slug = have.Name, have.Slug
	// Keep service accounts someone else linked; only add ours.
	want.ServiceAccounts = have.ServiceAccounts
	if !slices.Contains(want.ServiceAccounts, slug) {
		want.ServiceAccounts = append(slices.Clone(want.ServiceAccounts), slug)
	}
	var diffs []string
	if have.ProviderURL != want.ProviderURL {
		diffs = append(diffs, fmt.Sprintf("provider_url %q → %q", have.ProviderURL, want.ProviderURL))
	}
	if !SameClaims(have, want) {
		diffs = append(diffs, fmt.Sprintf("claims %s → %s", claimString(have), claimString(want)))
	}
	if !have.Enabled {
		diffs = append(diffs, "enabled false → true")
	}
	if len(want.ServiceAccounts) != len(have.ServiceAccounts) {
		diffs = append(diffs, "link service account "+slug)
	}
	if have.MappingClaim != "" {
		diffs = append(diffs, fmt.Sprintf("mapping_claim %q → none (static service accounts)", have.MappingClaim))
	}
	if len(diffs) > 0 {
		out = append(out, Change{Action: Update, Kind: KindProvider, Name: want.Name, Provider: &want,
			Reason: strings.Join(diffs, ", ")})
	}
	return out, nil
}

// FindProvider is the index of the provider called name, else of the one
// whose name differs only in case, or -1. Cloudsmith derives a
// provider's slug from its name, so creating "jenkins" next to "Jenkins"
// is refused (422 "... with this name already exist").
func FindProvider(list []ProviderSettings, name string) int {
	if i := slices.IndexFunc(list, func(p ProviderSettings) bool { return p.Name == name }); i >= 0 {
		return i
	}
	return slices.IndexFunc(list, func(p ProviderSettings) bool { return strings.EqualFold(p.Name, name) })
}

// privilegeRank orders Cloudsmith's repository privileges: none < Read <
// Write < Admin.
func privilegeRank(p string) int {
	return slices.Index([]string{"Read", "Write", "Admin"}, p) + 1
}

// SameClaims reports whether two providers require the same claims as
// JSON values (the string "1" is not the number 1).
func SameClaims(a, b ProviderSettings) bool {
	return claimrule.SameClaims(a.Claims, a.ClaimJSON, b.Claims, b.ClaimJSON)
}

// claimString shows the claims, a number or boolean marked as such.
func claimString(p ProviderSettings) string {
	keys := slices.Collect(maps.Keys(p.Claims))
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p.Claims[k]
		if _, typed := p.ClaimJSON[k]; typed {
			parts[i] += " (JSON " + jsonKind(p.ClaimJSON[k]) + ")"
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func jsonKind(raw json.RawMessage) string {
	switch {
	case string(raw) == "true" || string(raw) == "false":
		return "boolean"
	case strings.HasPrefix(string(raw), "[") || strings.HasPrefix(string(raw), "{") || string(raw) == "null":
		return "value"
	}
	return "number"
}
