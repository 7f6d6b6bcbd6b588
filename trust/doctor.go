package trust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/plan"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/spec"
)

// Status of one link of the chain.
type Status string

// Statuses, as doctor prints them.
const (
	OK   Status = "ok"
	Fail Status = "FAIL"
	Warn Status = "warn"
	// Skip: not checked, because an earlier link failed or the spec gives
	// no way to check it (no cloudsmith.api_key, no --token-file).
	Skip Status = "skip"
)

// Link is one link of the trust chain and its state.
type Link struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Report is doctor's result, one Link per link of the chain in the order a
// token travels it.
type Report struct {
	Links []Link `json:"links"`
}

// OK reports whether every link holds (warnings and skips allowed).
func (r *Report) OK() bool {
	return !slices.ContainsFunc(r.Links, func(l Link) bool { return l.Status == Fail })
}

// Link returns the named link, or nil.
func (r *Report) Link(name string) *Link {
	for i := range r.Links {
		if r.Links[i].Name == name {
			return &r.Links[i]
		}
	}
	return nil
}

// Failed lists the names of failed links.
func (r *Report) Failed() []string {
	var out []string
	for _, l := range r.Links {
		if l.Status == Fail {
			out = append(out, l.Name)
		}
	}
	return out
}

func (r *Report) add(name string, st Status, fix, format string, args ...any) {
	r.Links = append(r.Links, Link{Name: name, Status: st, Detail: fmt.Sprintf(format, args...), Fix: fix})
}

// WriteText prints one line per link ("ok", "FAIL", "warn", "skip", the
// link, what was found) and the fix under each failure or warning.
func (r *Report) WriteText(w io.Writer, color bool) error {
	width := 0
	for _, l := range r.Links {
		width = max(width, len(l.Name))
	}
	var b strings.Builder
	for _, l := range r.Links {
		st := fmt.Sprintf("%-4s", l.Status)
		if color {
			switch l.Status {
			case OK:
				st = "\x1b[32m" + st + "\x1b[0m"
			case Fail:
				st = "\x1b[31m" + st + "\x1b[0m"
			case Warn:
				st = "\x1b[33m" + st + "\x1b[0m"
			}
		}
		indent := strings.Repeat(" ", 4+2+width+2)
		fmt.Fprintf(&b, "%s  %-*s  %s\n", st, width, l.Name, strings.ReplaceAll(l.Detail, "\n", "\n"+indent))
		if l.Fix != "" && l.Status != OK {
			fmt.Fprintf(&b, "%sfix: %s\n", indent, l.Fix)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints {"ok": bool, "links": [...]}.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		OK    bool   `json:"ok"`
		Links []Link `json:"links"`
	}{r.OK(), r.Links})
}

// Link names, in chain order.
const (
	LinkJenkins    = "jenkins"
	LinkPlugins    = "plugins"
	LinkCredential = "credential"
	// LinkKeyCache is reported when the credential's key was generated
	// recently enough that a verifier may still hold the previous key of
	// the same kid (a re-saved credential).
	LinkKeyCache = "verifier key cache"
	LinkIssuer   = "issuer documents"
	LinkProvider = "provider url"
	LinkEnabled  = "provider enabled"
	LinkService  = "service linked"
	LinkClaims   = "required claims"
	LinkExchange = "exchange"
)

// DoctorOptions tune Doctor.
type DoctorOptions struct {
	// TokenFile holds a real ID token (e.g. saved by a build) to exchange.
	TokenFile string
	// Now is the clock for the evaluated tokens' iat/exp; time.Now if nil.
	Now func() time.Time
}

// Doctor walks the trust chain of env's spec and reports each link: Jenkins
// reachable (version, user), its required plugins, the credential with the
// spec's audience, issuer and kind, the issuer's documents hosted and
// matching Jenkins' keys, the Cloudsmith provider (through the management
// API when cloudsmith.api_key is set) with its URL exactly the tokens' iss,
// enabled, the service linked and its required claims satisfied by every
// job's token, and with a token file a real exchange. It never stops at
// the first failure unless later links depend on it.
func Doctor(ctx context.Context, env *Env, o DoctorOptions) *Report {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	s := env.Spec
	r := &Report{}
	jenkinsOK := doctorJenkins(ctx, env, r)
	if jenkinsOK {
		doctorCredential(ctx, env, now(), r)
		doctorIssuer(ctx, env, r)
	} else {
		for _, n := range []string{LinkPlugins, LinkCredential, LinkIssuer} {
			r.add(n, Skip, "", "not checked: Jenkins is not reachable")
		}
	}
	required := s.Cloudsmith.Provider.Claims
	claimsFrom := "the spec (cloudsmith.provider.claims)"
	if env.Cloudsmith == nil {
		for _, n := range []string{LinkProvider, LinkEnabled, LinkService} {
			r.add(n, Skip, "", "not checked: set cloudsmith.api_key to let doctor read the provider through the management API")
		}
	} else {
		p, ok := doctorProvider(ctx, env, r)
		if !ok {
			r.add(LinkClaims, Skip, "", "not checked: no provider to read the required claims from")
			doctorExchange(ctx, env, o, now(), r)
			return r
		}
		required, claimsFrom = p.Claims, fmt.Sprintf("provider %q", p.Name)
	}
	doctorClaims(s, required, claimsFrom, now(), r)
	doctorExchange(ctx, env, o, now(), r)
	return r
}

func doctorJenkins(ctx context.Context, env *Env, r *Report) bool {
	s := env.Spec
	info, err := env.Jenkins.Info(ctx)
	if err != nil {
		fix := "check jenkins.url, the network path to it and jenkins.ca_bundle for a private CA"
		switch {
		case errors.Is(err, jenkins.ErrUnauthorized):
			fix = "check jenkins.user and the API token in the variable jenkins.token names (User » Security » API Token)"
		case errors.Is(err, jenkins.ErrForbidden):
			fix = "give jenkins.user Overall/Administer (or Overall/Read plus credential and job permissions; the plugin check then needs Overall/SystemRead)"
		}
		r.add(LinkJenkins, Fail, fix, "cannot reach Jenkins at %s: %v", s.Jenkins.URL, err)
		return false
	}
	if info.User == "" || info.User == "anonymous" {
		r.add(LinkJenkins, Fail, "set jenkins.user and jenkins.token (an API token) in the spec",
			"Jenkins %s at %s answers, but as anonymous", info.Version, s.Jenkins.URL)
		return false
	}
	if problem := info.RootURLProblem(s.Jenkins.URL, s.OIDC.Issuer != ""); problem != "" {
		r.add(LinkJenkins, Fail, jenkins.RootURLHint+" to "+s.Jenkins.RootURL(), "%s", problem)
	} else {
		r.add(LinkJenkins, OK, "", "Jenkins %s at %s, logged in as %s", orUnknown(info.Version), s.Jenkins.URL, info.User)
	}
	if info.PluginsHidden {
		r.add(LinkPlugins, Warn, "give jenkins.user Overall/Administer, or start Jenkins with -Djenkins.security.SystemReadPermission=true and grant Overall/SystemRead",
			"%s", jenkins.PluginsHiddenHint)
	} else if err := env.Jenkins.CheckPlugins(ctx, jenkins.RequiredPlugins()...); err != nil {
		r.add(LinkPlugins, Fail, "run `jenkins-cloudsmith apply --install-plugins`, or install them in Manage Jenkins » Plugins", "%v", err)
	} else {
		var have []string
		for _, n := range jenkins.RequiredPlugins() {
			have = append(have, n+" "+info.Plugins[n].Version)
		}
		r.add(LinkPlugins, OK, "", "%s", strings.Join(have, ", "))
	}
	return true
}

func orUnknown(s string) string {
	if s == "" {
		return "(version unknown)"
	}
	return s
}

func doctorCredential(ctx context.Context, env *Env, now time.Time, r *Report) {
	s := env.Spec
	where := spec.StoreName(s.OIDC.Folder)
	id, err := plan.ActiveCredentialID(ctx, env.Jenkins, s)
	if err != nil {
		r.add(LinkCredential, Fail, "give jenkins.user permission to view credentials (Credentials/View)", "%v", err)
		return
	}
	have, err := env.Jenkins.GetCredential(ctx, s.OIDC.Folder, id)
	if errors.Is(err, jenkins.ErrNotFound) {
		r.add(LinkCredential, Fail, "run `jenkins-cloudsmith apply` to create it", "credential %q does not exist in %s", id, where)
		return
	}
	if err != nil {
		r.add(LinkCredential, Fail, "give jenkins.user permission to view credentials", "%v", err)
		return
	}
	if have.Kind == "" {
		r.add(LinkCredential, Fail, "delete it in Jenkins (or pick another oidc.credential) and run `jenkins-cloudsmith apply`",
			"credential %q in %s is a %s, not an oidc-provider ID token credential", id, where, have.Class)
		return
	}
	var broken, cosmetic []string
	for _, d := range plan.DesiredCredential(s.WithCredential(id), nil).Compare(have) {
		if d.Field == "description" {
			cosmetic = append(cosmetic, d.String())
		} else {
			broken = append(broken, d.String())
		}
	}
	if len(broken) > 0 {
		r.add(LinkCredential, Fail, "run `jenkins-cloudsmith rotate` (a successor credential with the spec's settings, no failed build)",
			"credential %q in %s differs from the spec: %s", id, where, strings.Join(broken, "; "))
		return
	}
	if len(cosmetic) > 0 {
		r.add(LinkCredential, Warn, "run `jenkins-cloudsmith rotate` to apply it without downtime (a re-save would replace the key)",
			"credential %q in %s: %s", id, where, strings.Join(cosmetic, "; "))
	}
	gen := ""
	if id != s.OIDC.Credential {
		gen = fmt.Sprintf(" (successor of %q after a rotation)", s.OIDC.Credential)
	}
	aud := have.Audience
	if aud == "" {
		aud = "(none)"
	}
	r.add(LinkCredential, OK, "", "credential %q%s in %s: %s ID token, audience %s, iss %s", id, gen, where, have.Kind, aud, s.IssuerURL())
	doctorKeyCache(id, have, now, r)
}

// doctorKeyCache warns while a verifier may still hold an older key for
// the credential's kid: Jenkins' kid is the credential id, so a re-saved
// (or deleted and re-created) credential publishes a new key under a kid
// that verifiers already cached, and they only refetch when the cache
// expires (plan.VerifierCache). apply stamps the key's birth in the
// credential's marker when it re-saves one (--replace-key-with-downtime);
// without a stamp there is nothing to say.
func doctorKeyCache(id string, have *jenkins.IDTokenCredential, now time.Time, r *Report) {
	born, ok := render.KeyTime(have.Description)
	if !ok {
		return
	}
	until := born.Add(plan.VerifierCache)
	if now.Before(until) {
		r.add(LinkKeyCache, Warn, fmt.Sprintf("if builds fail with an invalid signature, wait until %s (or run `jenkins-cloudsmith rotate` next time: a new kid is fetched at once)", until.UTC().Format(time.RFC3339)),
			"the key of credential %q was generated at %s: a verifier that fetched the JWKS for kid %q before then (Cloudsmith and its emulator cache it about %s per kid) may still hold the older key until %s",
			id, born.UTC().Format(time.RFC3339), id, plan.VerifierCache, until.UTC().Format(time.RFC3339))
		return
	}
	r.add(LinkKeyCache, OK, "", "key of credential %q generated at %s: no verifier can still hold an older one for this kid (cache about %s)",
		id, born.UTC().Format(time.RFC3339), plan.VerifierCache)
}

func doctorIssuer(ctx context.Context, env *Env, r *Report) {
	want, err := FromJenkins(ctx, env.Jenkins, env.Spec)
	if err != nil {
		r.add(LinkIssuer, Fail, "run `jenkins-cloudsmith apply` first, and check the credential's folder and issuer", "%v", err)
		return
	}
	res := Check(ctx, env.Issuer, want)
	var errs, warns []Finding
	for _, f := range res.Findings {
		if f.Severity == SevError {
			errs = append(errs, f)
		} else {
			warns = append(warns, f)
		}
	}
	switch {
	case len(errs) > 0:
		msgs := make([]string, len(errs))
		for i, f := range errs {
			msgs[i] = f.Message
		}
		r.add(LinkIssuer, Fail, errs[0].Fix, "%s", strings.Join(msgs, "\n"))
	case len(warns) > 0:
		msgs := make([]string, len(warns))
		for i, f := range warns {
			msgs[i] = f.Message
		}
		r.add(LinkIssuer, Warn, warns[0].Fix, "%s", strings.Join(msgs, "\n"))
	default:
		r.add(LinkIssuer, OK, "", "%s and its JWKS serve key %s, as Jenkins signs", res.ConfigURL, strings.Join(quoteAll(want.Kids()), ", "))
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// doctorProvider finds the provider whose URL is exactly the issuer and
// checks it is enabled and linked to the service.
func doctorProvider(ctx context.Context, env *Env, r *Report) (*cloudsmith.ProviderSettings, bool) {
	s := env.Spec
	org, iss := s.Cloudsmith.Org, s.IssuerURL()
	skipRest := func(why string) {
		r.add(LinkEnabled, Skip, "", "not checked: %s", why)
		r.add(LinkService, Skip, "", "not checked: %s", why)
	}
	providers, err := env.Cloudsmith.ListProviders(ctx, org)
	if err != nil {
		r.add(LinkProvider, Fail, "check cloudsmith.org and that cloudsmith.api_key belongs to an org Manager or Owner", "cannot list the OIDC providers of org %q: %v", org, err)
		skipRest("the providers could not be read")
		return nil, false
	}
	var match []cloudsmith.ProviderSettings
	for _, p := range providers {
		if p.ProviderURL == iss {
			match = append(match, p)
		}
	}
	if len(match) == 0 {
		fix := fmt.Sprintf("set the provider URL to exactly %s (run `jenkins-cloudsmith apply` with cloudsmith.api_key set, or edit it in Cloudsmith » Settings » OpenID Connect)", iss)
		var near []string
		for _, p := range providers {
			if p.Name == s.Cloudsmith.Provider.Name || sameIssuerLoosely(p.ProviderURL, iss) {
				near = append(near, fmt.Sprintf("provider %q has provider_url %q", p.Name, p.ProviderURL))
			}
		}
		detail := fmt.Sprintf("no OIDC provider of org %q has provider_url exactly equal to the tokens' iss %q", org, iss)
		if len(near) > 0 {
			detail += ": " + strings.Join(near, "; ")
		} else if len(providers) == 0 {
			detail += " (the org has no OIDC provider)"
		}
		r.add(LinkProvider, Fail, fix, "%s", detail)
		skipRest("no provider matches the issuer")
		return nil, false
	}
	p := match[0]
	for _, m := range match {
		if m.Name == s.Cloudsmith.Provider.Name || (m.Enabled && !p.Enabled) {
			p = m
			break
		}
	}
	r.add(LinkProvider, OK, "", "provider %q of org %q has provider_url %s, exactly the tokens' iss", p.Name, org, p.ProviderURL)
	if p.Enabled {
		r.add(LinkEnabled, OK, "", "provider %q is enabled", p.Name)
	} else {
		r.add(LinkEnabled, Fail, "enable it (Cloudsmith » Settings » OpenID Connect, or `jenkins-cloudsmith apply`)", "provider %q is disabled: Cloudsmith ignores it for exchanges", p.Name)
	}
	doctorService(ctx, env, p, r)
	return &p, true
}

// doctorService checks the spec's service account exists and is linked to
// provider p.
func doctorService(ctx context.Context, env *Env, p cloudsmith.ProviderSettings, r *Report) {
	org := env.Spec.Cloudsmith.Org
	svc := env.Spec.Cloudsmith.Service
	switch _, err := env.Cloudsmith.GetService(ctx, org, svc); {
	case errors.Is(err, cloudsmith.ErrNotFound):
		r.add(LinkService, Fail, "create the service account, or set cloudsmith.service to its slug (slugs may carry a random suffix)", "service account %q does not exist in org %q", svc, org)
	case err != nil:
		r.add(LinkService, Fail, "check cloudsmith.api_key's permissions", "cannot read service account %q: %v", svc, err)
	case p.MappingClaim != "":
		r.add(LinkService, Warn, "check the dynamic mappings in Cloudsmith by hand", "provider %q maps claim %q to services dynamically; doctor cannot read the mappings", p.Name, p.MappingClaim)
	case !slices.Contains(p.ServiceAccounts, svc):
		r.add(LinkService, Fail, fmt.Sprintf("add %q to the provider's service accounts (or run `jenkins-cloudsmith apply`)", svc),
			"service %q is not linked to provider %q (it links %q)", svc, p.Name, p.ServiceAccounts)
	default:
		r.add(LinkService, OK, "", "service %q is linked to provider %q", svc, p.Name)
	}
}

// sameIssuerLoosely spots a provider URL that differs from iss only in
// case or a trailing slash: the usual mistake.
func sameIssuerLoosely(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}

func doctorClaims(s *spec.Spec, required map[string]string, from string, now time.Time, r *Report) {
	if len(required) == 0 {
		r.add(LinkClaims, Warn, "require at least aud (the credential's audience) and a sub prefix such as "+s.Jenkins.RootURL()+"job/.* in cloudsmith.provider.claims",
			"%s requires no claim: any token this issuer signs can be exchanged (Cloudsmith strongly recommends at least one)", from)
		return
	}
	fails := CheckClaims(s, required, now)
	if len(fails) == 0 {
		keys := make([]string, 0, len(required))
		for k := range required {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		r.add(LinkClaims, OK, "", "the tokens of all %d jobs satisfy the %s required by %s (default claim templates: sub = job URL, build_number, aud)",
			len(s.Jobs), strings.Join(keys, ", "), from)
		return
	}
	msgs := make([]string, len(fails))
	for i, f := range fails {
		msgs[i] = f.String()
	}
	r.add(LinkClaims, Fail, "change the required claims of "+from+" (values match exactly, or by prefix with a trailing \".*\"), or the jobs' names",
		"%s", strings.Join(msgs, "\n"))
}

func doctorExchange(ctx context.Context, env *Env, o DoctorOptions, now time.Time, r *Report) {
	s := env.Spec
	if o.TokenFile == "" {
		r.add(LinkExchange, Skip, "", "not tried: pass --token-file with an ID token a build minted to try a real exchange")
		return
	}
	b, err := readTokenFile(o.TokenFile)
	if err != nil {
		r.add(LinkExchange, Fail, "pass a readable file holding one ID token", "cannot read the token file: %v", err)
		return
	}
	token := strings.TrimSpace(string(b))
	// Say what is wrong with the token itself before Cloudsmith's generic
	// 401 can hide it.
	c, err := cloudsmith.ParseClaims(token)
	switch {
	case err != nil:
		r.add(LinkExchange, Fail, "pass the file the oidc-provider credential binds (an ID token: three base64url parts)", "the token file does not hold a JWT: %v", err)
		return
	case c.Issuer != s.IssuerURL():
		r.add(LinkExchange, Fail, "mint the token with the spec's credential, or fix oidc.issuer / the Jenkins URL", "the token's iss %q is not the spec's issuer %q", c.Issuer, s.IssuerURL())
		return
	case !c.Expiry.IsZero() && now.After(c.Expiry):
		r.add(LinkExchange, Fail, "mint a fresh token (a build binds a new one each time) and run doctor again", "the token expired at %s", c.Expiry.UTC().Format(time.RFC3339))
		return
	}
	tok, err := env.Exchange.Exchange(ctx, s.Cloudsmith.Org, s.Cloudsmith.Service, token)
	if err != nil {
		r.add(LinkExchange, Fail, "see the causes listed; the links above narrow them down", "%v", err)
		return
	}
	r.add(LinkExchange, OK, "", "Cloudsmith exchanged the token for service %q of org %q (its token expires %s)",
		s.Cloudsmith.Service, s.Cloudsmith.Org, tok.Expiry.UTC().Format(time.RFC3339))
}

// maxTokenFile bounds what doctor reads from --token-file: an ID token is a
// few KiB, and a wrong path (a log, a device) must not be slurped whole.
const maxTokenFile = 64 << 10

func readTokenFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxTokenFile {
		return nil, fmt.Errorf("%s is larger than %d KiB: an ID token is a few KiB", name, maxTokenFile>>10)
	}
	return b, nil
}
