package cloudsmithtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// serviceJSON is the Service schema of Cloudsmith's OpenAPI description.
type serviceJSON struct {
	Name         string     `json:"name"`
	Slug         string     `json:"slug"`
	Description  string     `json:"description,omitempty"`
	Role         string     `json:"role"`
	Teams        []teamJSON `json:"teams"`
	Key          string     `json:"key,omitempty"`
	KeyExpiresAt *string    `json:"key_expires_at"`
	CreatedAt    string     `json:"created_at"`
	CreatedBy    string     `json:"created_by"`
	CreatedByURL string     `json:"created_by_url"`
}

type teamJSON struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
	Role string `json:"role"`
}

// providerJSON is ProviderSettings (reads); with DynamicMappings set it is
// ProviderSettingsWrite (responses to writes).
type providerJSON struct {
	Claims          map[string]any    `json:"claims"`
	DynamicMappings *[]DynamicMapping `json:"dynamic_mappings,omitempty"`
	Enabled         bool              `json:"enabled"`
	MappingClaim    *string           `json:"mapping_claim"`
	Name            string            `json:"name"`
	ProviderURL     string            `json:"provider_url"`
	ServiceAccounts []string          `json:"service_accounts"`
	Slug            string            `json:"slug"`
	SlugPerm        string            `json:"slug_perm"`
}

// serviceView renders a service. The key is shown whole only when it was
// just created or refreshed (Cloudsmith shows a service's key once),
// redacted otherwise.
func serviceView(r *http.Request, s *Service, withKey bool) serviceJSON {
	v := serviceJSON{
		Name:         s.Name,
		Slug:         s.Slug,
		Description:  s.Description,
		Role:         s.Role,
		Teams:        []teamJSON{},
		CreatedAt:    s.CreatedAt.UTC().Format(time.RFC3339Nano),
		CreatedBy:    s.CreatedBy,
		CreatedByURL: baseURL(r) + "/v1/users/profile/" + url.PathEscape(s.CreatedBy) + "/",
	}
	if withKey {
		v.Key = s.Key
	} else if len(s.Key) > 4 {
		// Only the create and refresh answers show the key; reads show it
		// redacted to its last four characters (the Terraform provider's
		// resource_service.go compares those to notice a rotation).
		v.Key = strings.Repeat("*", 8) + s.Key[len(s.Key)-4:]
	}
	for _, t := range s.Teams {
		name := t.Name
		if name == "" {
			name = t.Slug
		}
		v.Teams = append(v.Teams, teamJSON{Name: name, Slug: t.Slug, Role: t.Role})
	}
	return v
}

func providerView(p *ProviderSettings, write bool) providerJSON {
	v := providerJSON{
		Claims:          p.Claims,
		Enabled:         p.Enabled,
		Name:            p.Name,
		ProviderURL:     p.ProviderURL,
		ServiceAccounts: slices.Clone(p.ServiceAccounts),
		Slug:            p.Slug,
		SlugPerm:        p.SlugPerm,
	}
	if v.Claims == nil {
		v.Claims = map[string]any{}
	}
	if v.ServiceAccounts == nil {
		v.ServiceAccounts = []string{}
	}
	if p.MappingClaim != "" {
		mc := p.MappingClaim
		v.MappingClaim = &mc
	}
	if write {
		dm := slices.Clone(p.DynamicMappings)
		if dm == nil {
			dm = []DynamicMapping{}
		}
		v.DynamicMappings = &dm
	}
	return v
}

// serveServices handles /orgs/{org}/services/[{slug}/[refresh/]].
func (c *Cloudsmith) serveServices(w http.ResponseWriter, r *http.Request, orgSlug string, rest []string) {
	switch len(rest) {
	case 0:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			c.listServices(w, r, orgSlug)
		case http.MethodPost:
			c.createService(w, r, orgSlug)
		default:
			methodNotAllowed(w, r, http.MethodGet, http.MethodPost)
		}
	case 1:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			c.withService(w, orgSlug, rest[0], func(o *org, s *Service) { writeJSON(w, http.StatusOK, serviceView(r, s, false)) })
		case http.MethodPatch:
			c.patchService(w, r, orgSlug, rest[0])
		case http.MethodDelete:
			c.withService(w, orgSlug, rest[0], func(o *org, s *Service) {
				o.services = slices.DeleteFunc(o.services, func(x *Service) bool { return x == s })
				// A deleted service can no longer be a provider's target, nor
				// hold a repository privilege.
				for _, repo := range o.repos {
					repo.grants = slices.DeleteFunc(repo.grants, func(g Grant) bool { return g.Service == s.Slug })
				}
				for _, p := range o.providers {
					p.ServiceAccounts = slices.DeleteFunc(p.ServiceAccounts, func(x string) bool { return x == s.Slug })
					p.DynamicMappings = slices.DeleteFunc(p.DynamicMappings, func(m DynamicMapping) bool { return m.ServiceAccount == s.Slug })
				}
				w.WriteHeader(http.StatusNoContent)
			})
		default:
			methodNotAllowed(w, r, http.MethodGet, http.MethodPatch, http.MethodDelete)
		}
	case 2:
		if rest[1] != "refresh" {
			writeDetail(w, http.StatusNotFound, msgNotFound)
			return
		}
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, http.MethodPost)
			return
		}
		c.withService(w, orgSlug, rest[0], func(o *org, s *Service) {
			s.Key = randomHex(20)
			writeJSON(w, http.StatusOK, serviceView(r, s, true))
		})
	default:
		writeDetail(w, http.StatusNotFound, msgNotFound)
	}
}

// withService runs fn under the lock with the named service, or writes 404.
func (c *Cloudsmith) withService(w http.ResponseWriter, orgSlug, slug string, fn func(*org, *Service)) {
	withItem(c, w, orgSlug, func(o *org) *Service { return c.seeService(o, slug) }, fn)
}

// withItem runs fn under the lock with the item find returns, or writes 404.
func withItem[T any](c *Cloudsmith, w http.ResponseWriter, orgSlug string, find func(*org) *T, fn func(*org, *T)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.orgs[orgSlug]
	item := find(o)
	if item == nil {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	fn(o, item)
}

func (c *Cloudsmith) listServices(w http.ResponseWriter, r *http.Request, orgSlug string) {
	listItems(c, w, r, orgSlug, func(o *org) []*Service {
		return visible(c, o.services, func(s *Service) time.Time { return s.visibleAt })
	},
		func(s *Service, q string) bool {
			return strings.Contains(strings.ToLower(s.Name), q) || strings.Contains(strings.ToLower(s.Role), q)
		},
		"created_at", map[string]func(*Service) string{
			"created_at": func(s *Service) string { return s.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000") },
			"name":       func(s *Service) string { return s.Name },
			"role":       func(s *Service) string { return s.Role },
		},
		func(s *Service) serviceJSON { return serviceView(r, s, false) })
}

// visible returns the items reads see: those created at least
// WithVisibilityDelay ago. Callers hold c.mu.
func visible[T any](c *Cloudsmith, items []*T, at func(*T) time.Time) []*T {
	now := c.now()
	var out []*T
	for _, item := range items {
		if !now.Before(at(item)) {
			out = append(out, item)
		}
	}
	return out
}

// listItems serves a list endpoint: the query filter (lower-cased), the
// sort parameter (def when absent or unknown) and pagination.
func listItems[T, V any](c *Cloudsmith, w http.ResponseWriter, r *http.Request, orgSlug string,
	items func(*org) []*T, matches func(item *T, query string) bool,
	def string, keys map[string]func(*T) string, view func(*T) V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := slices.Clone(items(c.orgs[orgSlug]))
	if q := strings.ToLower(r.URL.Query().Get("query")); q != "" {
		all = slices.DeleteFunc(all, func(item *T) bool { return !matches(item, q) })
	}
	sortBy(all, r.URL.Query().Get("sort"), def, keys)
	lo, hi, ok := c.page(w, r, len(all))
	if !ok {
		return
	}
	out := make([]V, 0, hi-lo)
	for _, item := range all[lo:hi] {
		out = append(out, view(item))
	}
	writeJSON(w, http.StatusOK, out)
}

// sortBy sorts stably by one of keys, "-" prefix meaning descending;
// unknown keys fall back to def.
func sortBy[T any](items []T, sort, def string, keys map[string]func(T) string) {
	desc := strings.HasPrefix(sort, "-")
	key, ok := keys[strings.TrimPrefix(sort, "-")]
	if !ok {
		key, desc = keys[def], false
	}
	slices.SortStableFunc(items, func(a, b T) int {
		cmp := strings.Compare(key(a), key(b))
		if desc {
			return -cmp
		}
		return cmp
	})
}

var roles = []string{"Manager", "Member"}

// parseServiceFields validates ServiceRequest / ServiceRequestPatch.
func parseServiceFields(obj map[string]json.RawMessage, fe fieldErrors, partial bool) (name, desc, role string, teams []ServiceTeam, set map[string]bool) {
	set = map[string]bool{}
	var present bool
	name, present, _ = stringField(obj, fe, "name", !partial, false, 120)
	set["name"] = present
	desc, present, _ = stringField(obj, fe, "description", false, false, 1024)
	set["description"] = present
	role, present, _ = stringField(obj, fe, "role", false, false, 0)
	set["role"] = present
	if present && role != "" && !slices.Contains(roles, role) {
		fe.add("role", fmt.Sprintf("%q is not a valid choice.", role))
	}
	if raw, ok := obj["teams"]; ok {
		set["teams"] = true
		var list []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			fe.add("teams", `Expected a list of items but got type "`+jsonKind(raw)+`".`)
		}
		for _, t := range list {
			tfe := fieldErrors{}
			slug, _, _ := stringField(t, tfe, "slug", true, false, 0)
			trole, tpresent, _ := stringField(t, tfe, "role", false, false, 0)
			if slug != "" && !slugPattern.MatchString(slug) {
				tfe.add("slug", "Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens.")
			}
			if !tpresent {
				trole = "Manager"
			} else if trole != "" && !slices.Contains(roles, trole) {
				tfe.add("role", fmt.Sprintf("%q is not a valid choice.", trole))
			}
			for k, msgs := range tfe {
				for _, m := range msgs {
					fe.add("teams", k+": "+m)
				}
			}
			teams = append(teams, ServiceTeam{Slug: slug, Role: trole})
		}
	}
	return name, desc, role, teams, set
}

var slugPattern = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)

func jsonKind(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "invalid"
	}
	return pyTypeName(v)
}

func (c *Cloudsmith) createService(w http.ResponseWriter, r *http.Request, orgSlug string) {
	obj, ok := decodeObject(w, r)
	if !ok {
		return
	}
	fe := fieldErrors{}
	name, desc, role, teams, _ := parseServiceFields(obj, fe, false)
	c.mu.Lock()
	c.orgs[orgSlug].missingTeams(teams, fe)
	c.mu.Unlock()
	if len(fe) > 0 {
		writeFieldErrors(w, fe)
		return
	}
	s, err := c.AddServiceTo(orgSlug, Service{Name: name, Description: desc, Role: role, Teams: teams})
	if err != nil {
		writeDetail(w, http.StatusBadRequest, err.Error())
		return
	}
	// Cloudsmith's OpenAPI documents 200, not 201, for this create.
	writeJSON(w, http.StatusOK, serviceView(r, &s, true))
}

func (c *Cloudsmith) patchService(w http.ResponseWriter, r *http.Request, orgSlug, slug string) {
	obj, ok := decodeObject(w, r)
	if !ok {
		return
	}
	c.withService(w, orgSlug, slug, func(o *org, s *Service) {
		fe := fieldErrors{}
		name, desc, role, teams, set := parseServiceFields(obj, fe, true)
		o.missingTeams(teams, fe)
		if len(fe) > 0 {
			writeFieldErrors(w, fe)
			return
		}
		if set["name"] {
			s.Name = name // the slug is immutable
		}
		if set["description"] {
			s.Description = desc
		}
		if set["role"] {
			s.Role = role
		}
		if set["teams"] {
			s.Teams = teams
		}
		writeJSON(w, http.StatusOK, serviceView(r, s, false))
	})
}

// serveProviders handles /orgs/{org}/openid-connect/[{slug_perm}/[dynamic-mappings/[{claim_value}/]]].
func (c *Cloudsmith) serveProviders(w http.ResponseWriter, r *http.Request, orgSlug string, rest []string) {
	switch len(rest) {
	case 0:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			c.listProviders(w, r, orgSlug)
		case http.MethodPost:
			c.writeProvider(w, r, orgSlug, "")
		default:
			methodNotAllowed(w, r, http.MethodGet, http.MethodPost)
		}
	case 1:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			c.withProvider(w, orgSlug, rest[0], func(o *org, p *ProviderSettings) { writeJSON(w, http.StatusOK, providerView(p, false)) })
		case http.MethodPut, http.MethodPatch:
			c.writeProvider(w, r, orgSlug, rest[0])
		case http.MethodDelete:
			c.withProvider(w, orgSlug, rest[0], func(o *org, p *ProviderSettings) {
				o.providers = slices.DeleteFunc(o.providers, func(x *ProviderSettings) bool { return x == p })
				w.WriteHeader(http.StatusNoContent)
			})
		default:
			methodNotAllowed(w, r, http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete)
		}
	case 2, 3:
		if rest[1] != "dynamic-mappings" {
			writeDetail(w, http.StatusNotFound, msgNotFound)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r, http.MethodGet)
			return
		}
		c.withProvider(w, orgSlug, rest[0], func(o *org, p *ProviderSettings) {
			if len(rest) == 2 {
				out := slices.Clone(p.DynamicMappings)
				if out == nil {
					out = []DynamicMapping{}
				}
				writeJSON(w, http.StatusOK, out)
				return
			}
			for _, m := range p.DynamicMappings {
				if m.ClaimValue == rest[2] {
					writeJSON(w, http.StatusOK, m)
					return
				}
			}
			writeDetail(w, http.StatusNotFound, msgNotFound)
		})
	default:
		writeDetail(w, http.StatusNotFound, msgNotFound)
	}
}

func (c *Cloudsmith) withProvider(w http.ResponseWriter, orgSlug, slugPerm string, fn func(*org, *ProviderSettings)) {
	withItem(c, w, orgSlug, func(o *org) *ProviderSettings { return c.seeProvider(o, slugPerm) }, fn)
}

func (c *Cloudsmith) listProviders(w http.ResponseWriter, r *http.Request, orgSlug string) {
	listItems(c, w, r, orgSlug, func(o *org) []*ProviderSettings {
		return visible(c, o.providers, func(p *ProviderSettings) time.Time { return p.visibleAt })
	},
		func(p *ProviderSettings, q string) bool {
			return strings.Contains(strings.ToLower(p.Name), q) ||
				strings.Contains(strings.ToLower(p.ProviderURL), q) ||
				slices.ContainsFunc(p.ServiceAccounts, func(s string) bool { return strings.Contains(strings.ToLower(s), q) })
		},
		"name", map[string]func(*ProviderSettings) string{"name": func(p *ProviderSettings) string { return p.Name }},
		func(p *ProviderSettings) providerJSON { return providerView(p, false) })
}

// writeProvider handles POST (slugPerm == ""), PUT and PATCH.
func (c *Cloudsmith) writeProvider(w http.ResponseWriter, r *http.Request, orgSlug, slugPerm string) {
	obj, ok := decodeObject(w, r)
	if !ok {
		return
	}
	partial := r.Method == http.MethodPatch
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.orgs[orgSlug]
	var cur *ProviderSettings
	next := ProviderSettings{Claims: map[string]any{}}
	if slugPerm != "" {
		if cur = c.seeProvider(o, slugPerm); cur == nil {
			writeDetail(w, http.StatusNotFound, msgNotFound)
			return
		}
		next = cloneProvider(*cur)
	}
	fe := fieldErrors{}
	required := !partial

	if v, present, _ := stringField(obj, fe, "name", required, false, 0); present {
		next.Name = v
	}
	if v, present, _ := stringField(obj, fe, "provider_url", required, false, 0); present && v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fe.add("provider_url", "Enter a valid URL.")
		}
		next.ProviderURL = v
	}
	if raw, present := obj["claims"]; present {
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if string(raw) == "null" {
			fe.add("claims", msgNull)
		} else if err := dec.Decode(&m); err != nil {
			fe.add("claims", `Expected a dictionary of items but got type "`+jsonKind(raw)+`".`)
		} else {
			next.Claims = m
		}
	} else if required {
		fe.add("claims", msgRequired)
	}
	if raw, present := obj["enabled"]; present {
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			fe.add("enabled", "Must be a valid boolean.")
		}
		next.Enabled = b
	} else if required {
		fe.add("enabled", msgRequired)
	}
	saSet, mcSet, dmSet := false, false, false
	if raw, present := obj["service_accounts"]; present {
		saSet = true
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			fe.add("service_accounts", `Expected a list of items but got type "`+jsonKind(raw)+`".`)
		}
		for i, sa := range list {
			if c.seeService(o, sa) == nil {
				fe.add("service_accounts", fmt.Sprintf("Object with slug=%s does not exist.", sa))
			}
			if slices.Contains(list[:i], sa) {
				fe.add("service_accounts", "This list may not contain duplicate items.")
			}
		}
		next.ServiceAccounts = list
	} else if !partial {
		next.ServiceAccounts = nil
	}
	if v, present, isNull := stringField(obj, fe, "mapping_claim", false, true, 0); present {
		mcSet = !isNull
		next.MappingClaim = v
	} else if !partial {
		next.MappingClaim = ""
	}
	if raw, present := obj["dynamic_mappings"]; present {
		dmSet = true
		var list []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			fe.add("dynamic_mappings", `Expected a list of items but got type "`+jsonKind(raw)+`".`)
		}
		next.DynamicMappings = nil
		for _, m := range list {
			mfe := fieldErrors{}
			cv, _, _ := stringField(m, mfe, "claim_value", true, false, 0)
			sa, _, _ := stringField(m, mfe, "service_account", true, false, 0)
			if sa != "" && c.seeService(o, sa) == nil {
				mfe.add("service_account", fmt.Sprintf("Object with slug=%s does not exist.", sa))
			}
			for k, msgs := range mfe {
				for _, msg := range msgs {
					fe.add("dynamic_mappings", k+": "+msg)
				}
			}
			next.DynamicMappings = append(next.DynamicMappings, DynamicMapping{ClaimValue: cv, ServiceAccount: sa})
		}
	} else if !partial {
		next.DynamicMappings = nil
	}
	// "Cannot be provided if mapping_claim or dynamic_mappings are specified."
	if len(next.ServiceAccounts) > 0 && (next.MappingClaim != "" || len(next.DynamicMappings) > 0) && (saSet || mcSet || dmSet) {
		fe.add("service_accounts", "Cannot be provided if `mapping_claim` or `dynamic_mappings` are specified.")
	}
	if (next.MappingClaim != "") != (len(next.DynamicMappings) > 0) && (mcSet || dmSet) {
		fe.add("mapping_claim", "`mapping_claim` and `dynamic_mappings` must be provided together.")
	}
	if next.Name != "" {
		next.Slug = slugify(next.Name, 0)
		for _, p := range o.providers {
			if p != cur && p.Slug == next.Slug {
				fe.add("name", "OpenID Connect provider settings with this name already exist.")
			}
		}
	}
	if len(fe) > 0 {
		writeFieldErrors(w, fe)
		return
	}
	if cur == nil {
		next.SlugPerm = randomString(12, alnum)
		next.visibleAt = c.now().Add(c.cfg.visibilityDelay)
		stored := next
		o.providers = append(o.providers, &stored)
		writeJSON(w, http.StatusCreated, providerView(&stored, true))
		return
	}
	*cur = next
	writeJSON(w, http.StatusOK, providerView(cur, true))
}
