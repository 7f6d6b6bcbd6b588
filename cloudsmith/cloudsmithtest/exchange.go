package cloudsmithtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
)

// issuedClaims are the claims of the tokens the exchange mints. Cloudsmith
// documents only that the token is a JWT with an exp; the rest names what
// the token grants so tests and `inspect` can show it.
type issuedClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Org      string `json:"org"`
	Service  string `json:"service"`
	Provider string `json:"provider"`
	Iat      int64  `json:"iat"`
	Nbf      int64  `json:"nbf"`
	Exp      int64  `json:"exp"`
	Jti      string `json:"jti"`
}

// serveExchange is POST /openid/{org}/.
func (c *Cloudsmith) serveExchange(w http.ResponseWriter, r *http.Request, orgSlug string) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	obj, ok := decodeObject(w, r)
	if !ok {
		return
	}
	fe := fieldErrors{}
	oidcToken, _, _ := stringField(obj, fe, "oidc_token", true, false, 0)
	serviceSlug, _, _ := stringField(obj, fe, "service_slug", true, false, 0)
	if len(fe) > 0 {
		writeFieldErrors(w, fe)
		return
	}
	grant, err := c.verifyExchange(r.Context(), orgSlug, oidcToken, serviceSlug)
	if err != nil {
		c.mu.Lock()
		c.lastFailure = err.Error()
		c.mu.Unlock()
		noteFailure(r, err.Error())
		writeDetail(w, http.StatusUnauthorized, GenericExchangeError)
		return
	}
	tok, err := c.issue(baseURL(r), orgSlug, serviceSlug, grant)
	if err != nil {
		writeDetail(w, http.StatusBadRequest, "The JWT cannot be created.")
		return
	}
	c.mu.Lock()
	c.lastFailure = ""
	c.mu.Unlock()
	noteAuth(r, "oidc")
	writeJSON(w, http.StatusCreated, map[string]string{"token": tok})
}

// issue mints a Cloudsmith token for a service.
func (c *Cloudsmith) issue(apiBase, orgSlug, serviceSlug, provider string) (string, error) {
	now := c.now()
	return jwtutil.Sign(c.signKey, c.signKid, issuedClaims{
		Iss:      apiBase + "/openid/" + orgSlug + "/",
		Sub:      serviceSlug,
		Aud:      orgSlug,
		Org:      orgSlug,
		Service:  serviceSlug,
		Provider: provider,
		Iat:      now.Unix(),
		Nbf:      now.Unix(),
		Exp:      now.Add(c.cfg.tokenLifetime).Unix(),
		Jti:      randomHex(16),
	})
}

// MintToken returns a token for an existing service as the exchange would,
// without an OIDC round trip: for tests of package-manager configuration
// that need a valid Cloudsmith token and nothing else.
func (c *Cloudsmith) MintToken(orgSlug, serviceSlug string) (string, error) {
	c.mu.Lock()
	o, ok := c.orgs[orgSlug]
	exists := ok && c.seeService(o, serviceSlug) != nil
	c.mu.Unlock()
	if !exists {
		return "", fmt.Errorf("cloudsmithtest: no service %q in org %q", serviceSlug, orgSlug)
	}
	return c.issue("https://api.cloudsmith.io", orgSlug, serviceSlug, "")
}

// verifyExchange applies every check Cloudsmith documents (and the
// strictest plausible version of those it does not) and returns the
// slug_perm of the provider that granted the exchange. Its errors are for
// the log: the client only ever sees GenericExchangeError.
func (c *Cloudsmith) verifyExchange(ctx context.Context, orgSlug, token, serviceSlug string) (string, error) {
	hdr, claims, err := jwtutil.Decode(token)
	if err != nil {
		return "", fmt.Errorf("oidc_token is not a JWT: %w", err)
	}
	iss, _ := claims["iss"].(string)
	if iss == "" {
		return "", errors.New("token has no string iss claim")
	}

	c.mu.Lock()
	o, ok := c.orgs[orgSlug]
	var cands []ProviderSettings
	var disabled []string
	var urls []string
	serviceExists := false
	if ok {
		serviceExists = c.seeService(o, serviceSlug) != nil
		for _, p := range o.providers {
			if c.seeProvider(o, p.SlugPerm) == nil {
				continue // not visible yet (WithVisibilityDelay)
			}
			urls = append(urls, p.ProviderURL)
			if !c.issuerMatches(p.ProviderURL, iss) {
				continue
			}
			if !p.Enabled {
				disabled = append(disabled, p.Name)
				continue
			}
			cands = append(cands, cloneProvider(*p))
		}
	}
	c.mu.Unlock()
	switch {
	case !ok:
		return "", fmt.Errorf("org %q does not exist", orgSlug)
	case len(cands) == 0 && len(disabled) > 0:
		return "", fmt.Errorf("the providers whose provider_url matches iss %q are disabled: %s", iss, strings.Join(disabled, ", "))
	case len(cands) == 0:
		return "", fmt.Errorf("no provider of org %q has provider_url equal to iss %q (provider URLs: %q)", orgSlug, iss, urls)
	}

	if hdr.Alg != "RS256" {
		return "", fmt.Errorf("token alg is %q; only RS256 is accepted", hdr.Alg)
	}
	if hdr.Kid == "" {
		return "", errors.New("token header has no kid")
	}
	pub, err := c.issuers.key(ctx, iss, hdr.Kid, c.now())
	if err != nil {
		return "", err
	}
	if _, _, err := jwtutil.Verify(token, pub); err != nil {
		return "", fmt.Errorf("signature does not verify with key %q of issuer %q", hdr.Kid, iss)
	}
	if err := c.checkTimes(claims); err != nil {
		return "", err
	}

	var reasons []string
	for _, p := range cands {
		if why := c.claimsMismatch(p.Claims, claims); why != "" {
			reasons = append(reasons, fmt.Sprintf("provider %q: %s", p.Name, why))
			continue
		}
		if !c.linked(p, claims, serviceSlug) {
			reasons = append(reasons, fmt.Sprintf("provider %q: service %q is not linked to it", p.Name, serviceSlug))
			continue
		}
		if !serviceExists {
			return "", fmt.Errorf("service %q does not exist in org %q", serviceSlug, orgSlug)
		}
		return p.SlugPerm, nil
	}
	return "", errors.New(strings.Join(reasons, "; "))
}

func (c *Cloudsmith) issuerMatches(providerURL, iss string) bool {
	if providerURL == iss {
		return true
	}
	return c.cfg.lenientSlash && strings.TrimSuffix(providerURL, "/") == strings.TrimSuffix(iss, "/")
}

// checkTimes requires exp and checks exp, iat and nbf with the leeway.
func (c *Cloudsmith) checkTimes(claims map[string]any) error {
	now := c.now()
	lee := c.cfg.leeway
	exp, ok, err := numericDate(claims, "exp")
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("token has no exp claim")
	}
	if now.After(exp.Add(lee)) {
		return fmt.Errorf("token expired at %s (now %s, leeway %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), lee)
	}
	for _, name := range []string{"iat", "nbf"} {
		t, ok, err := numericDate(claims, name)
		if err != nil {
			return err
		}
		if ok && t.After(now.Add(lee)) {
			return fmt.Errorf("token %s %s is in the future (now %s, leeway %s)", name, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), lee)
		}
	}
	return nil
}

func numericDate(claims map[string]any, name string) (time.Time, bool, error) {
	v, ok := claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return time.Time{}, true, fmt.Errorf("token claim %s is not a number", name)
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, true, fmt.Errorf("token claim %s is not a number", name)
	}
	return time.Unix(int64(f), 0), true, nil
}

// claimsMismatch returns why a token's claims do not satisfy a provider's
// required claims, or "".
func (c *Cloudsmith) claimsMismatch(required map[string]any, claims map[string]any) string {
	keys := make([]string, 0, len(required))
	for k := range required {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		got, ok := claims[k]
		if !ok {
			return fmt.Sprintf("required claim %q is missing", k)
		}
		if !c.claimMatches(required[k], got) {
			return fmt.Sprintf("claim %q is %s, want %s", k, compactJSON(got), compactJSON(required[k]))
		}
	}
	return ""
}

// claimMatches compares one required value with a token's: strings exactly
// or, when the requirement ends in ".*" (Cloudsmith's only wildcard, only at
// the end), by prefix; other JSON values by equality. How Cloudsmith
// compares a string requirement with a token's array (aud from
// oidc-provider ≥ 212.v7657c4d…) is undocumented: by default it does not
// match (the strictest plausible rule, as a plain equality test in Python
// would be); WithClaimArrayElementMatch makes any element match.
func (c *Cloudsmith) claimMatches(want, got any) bool {
	if arr, ok := got.([]any); ok && c.cfg.arrayElementMatch {
		if _, wantArr := want.([]any); !wantArr {
			return slices.ContainsFunc(arr, func(e any) bool { return c.claimMatches(want, e) })
		}
	}
	if ws, ok := want.(string); ok {
		gs, ok := got.(string)
		if !ok {
			return false
		}
		if prefix, wild := strings.CutSuffix(ws, ".*"); wild {
			return strings.HasPrefix(gs, prefix)
		}
		return gs == ws
	}
	return compactJSON(want) == compactJSON(got)
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// linked reports whether a provider lets the token act as the service:
// listed in service_accounts, or by dynamic mapping of mapping_claim.
func (c *Cloudsmith) linked(p ProviderSettings, claims map[string]any, service string) bool {
	if p.MappingClaim == "" {
		return slices.Contains(p.ServiceAccounts, service)
	}
	v, ok := claims[p.MappingClaim]
	if !ok {
		return false
	}
	return slices.ContainsFunc(p.DynamicMappings, func(m DynamicMapping) bool {
		return m.ServiceAccount == service && c.claimMatches(m.ClaimValue, v)
	})
}

// verifyIssued checks a token this emulator minted: signature, expiry and
// that its service still exists.
func (c *Cloudsmith) verifyIssued(token string) (*principal, error) {
	_, claims, err := jwtutil.Verify(token, &c.signKey.PublicKey)
	if err != nil {
		return nil, errors.New("token was not issued by this emulator")
	}
	exp, ok, err := numericDate(claims, "exp")
	if err != nil || !ok {
		return nil, errors.New("token has no valid exp")
	}
	if !c.now().Before(exp) {
		return nil, fmt.Errorf("token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	org, _ := claims["org"].(string)
	svc, _ := claims["service"].(string)
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orgs[org]
	if !ok {
		return nil, fmt.Errorf("token names unknown org %q", org)
	}
	s := o.service(svc)
	if s == nil {
		return nil, fmt.Errorf("token's service %q no longer exists", svc)
	}
	return &principal{kind: "token", org: org, service: svc, role: s.Role}, nil
}
