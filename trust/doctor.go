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
	LinkAccount  = "service account"
	LinkService  = "service linked"
	LinkClaims   = "required claims"
	// LinkTokenShape explains the shape of aud in this plugin's tokens and
	// whether the provider's claims depend on it.
	LinkTokenShape = "token shape"
	// LinkPrivileges checks the service may read (or write) every
	// repository the jobs use.
	LinkPrivileges = "repository privileges"
	LinkExchange   = "exchange"
)

// DoctorOptions tune Doctor.
type DoctorOptions struct {
	// TokenFile holds a real ID token (e.g. saved by a build) to exchange.
	TokenFile string
	// Now is the clock for the evaluated tokens' iat/exp; time.Now if nil.
	Now func() time.Time
}

// Doctor walks the trust chain of env's spec and reports each link, one
// row of doctorChecks after the other: Jenkins reachable (version, user),
// its required plugins, the credential with the spec's audience, issuer
// and kind, the issuer's documents hosted and matching Jenkins' keys, the
// Cloudsmith provider (through the management API when cloudsmith.api_key
// is set) with its URL exactly the tokens' iss, enabled, the service
// linked and its required claims satisfied by every job's token, and with
// a token file a real exchange. It never stops at the first failure: a
// check is skipped only when something it needs is missing.
func Doctor(ctx context.Context, env *Env, o DoctorOptions) *Report {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	d := &doctorRun{env: env, opts: o, now: now(), r: &Report{}, have: map[need]bool{}, missing: map[need]string{}}
	// What the spec itself gives, before any check runs.
	if env.Cloudsmith != nil {
		d.have[needManagementAPI] = true
	} else {
		d.missing[needManagementAPI] = "not checked: set cloudsmith.api_key to let doctor read the provider through the management API"
		// Without the management API the spec's own claims are judged.
		d.required, d.requiredJSON, d.claimsFrom = env.Spec.Cloudsmith.Provider.Claims, env.Spec.Cloudsmith.Provider.ClaimJSON, "the spec (cloudsmith.provider.claims)"
		d.have[needClaims] = true
	}
	if o.TokenFile != "" {
		d.have[needTokenFile] = true
	} else {
		d.missing[needTokenFile] = "not tried: pass --token-file with an ID token (`jenkins-cloudsmith token --out FILE` mints one) to try a real exchange"
	}
	for _, c := range doctorChecks {
		if why, ok := d.lacks(c.needs); !ok {
			for _, l := range c.links {
				d.r.add(l, Skip, "", "%s", why)
			}
			for _, p := range c.provides {
				d.lack(p, why)
			}
			continue
		}
		c.run(ctx, d)
	}
	return d.r
}

// need is something a doctor check needs: a fact an earlier check
// established, or something the spec or the flags give.
type need int

const (
	// needJenkins: Jenkins answered as a real user (d.info is set).
	needJenkins need = iota
	// needManagementAPI: cloudsmith.api_key is set (env.Cloudsmith).
	needManagementAPI
	// needProvider: a provider's URL is exactly the issuer (d.provider).
	needProvider
	// needClaims: the required claims are known (d.required).
	needClaims
	// needTokenFile: --token-file names an ID token to exchange.
	needTokenFile
	// needService: the spec's service account was found (d.serviceSlug).
	needService
)

// doctorCheck is one row of doctor's table. A check runs when all it
// needs is there; otherwise each of its links is reported skipped with the
// reason the first missing need gives, and what it provides goes missing
// for the same reason. To add a check, add a row: where it goes in the
// table is where its links appear in the report.
type doctorCheck struct {
	// links are the links the check reports (a skipped check reports each
	// as skipped); run may add a link the table does not name, such as
	// LinkKeyCache.
	links    []string
	needs    []need
	provides []need
	// run reports the check's links on d.r and provides (d.provide) or
	// explains the lack of (d.lack) each need in provides.
	run func(ctx context.Context, d *doctorRun)
}

// doctorChecks is the trust chain in the order a token travels it.
var doctorChecks = []doctorCheck{
	{links: []string{LinkJenkins}, provides: []need{needJenkins}, run: doctorJenkins},
	{links: []string{LinkPlugins}, needs: []need{needJenkins}, run: doctorPlugins},
	{links: []string{LinkCredential}, needs: []need{needJenkins}, run: doctorCredential},
	{links: []string{LinkIssuer}, needs: []need{needJenkins}, run: doctorIssuer},
	{links: []string{LinkProvider}, needs: []need{needManagementAPI}, provides: []need{needProvider, needClaims}, run: doctorProvider},
	{links: []string{LinkEnabled}, needs: []need{needProvider}, run: doctorEnabled},
	{links: []string{LinkAccount}, needs: []need{needManagementAPI}, provides: []need{needService}, run: doctorAccount},
	{links: []string{LinkService}, needs: []need{needProvider, needService}, run: doctorService},
	{links: []string{LinkClaims}, needs: []need{needClaims}, run: doctorClaims},
	{links: []string{LinkTokenShape}, needs: []need{needJenkins, needClaims}, run: doctorTokenShape},
	{links: []string{LinkPrivileges}, needs: []need{needService}, run: doctorPrivileges},
	{links: []string{LinkExchange}, needs: []need{needTokenFile}, run: doctorExchange},
}

// doctorRun is one walk of the table: what the checks found so far.
type doctorRun struct {
	env  *Env
	opts DoctorOptions
	now  time.Time
	r    *Report
	// have and missing say which needs are met, and why the others are
	// not (the detail of the links skipped for want of them).
	have    map[need]bool
	missing map[need]string

	info       *jenkins.Info                // needJenkins
	provider   *cloudsmith.ProviderSettings // needProvider
	required   map[string]string            // needClaims
	claimsFrom string                       // where required comes from
	// requiredJSON are the required claims that are numbers or booleans.
	requiredJSON map[string]json.RawMessage
	// serviceSlug is the slug Cloudsmith gave the spec's service account
	// (needService).
	serviceSlug string
}

// buildService is the slug builds exchange into: the one found, else the
// spec's.
func (d *doctorRun) buildService() string {
	if d.serviceSlug != "" {
		return d.serviceSlug
	}
	return d.env.Spec.Cloudsmith.BuildService()
}

func (d *doctorRun) provide(n need) { d.have[n] = true }

// lack records why n is missing, unless it is met already (the claims
// the spec gives without the management API).
func (d *doctorRun) lack(n need, why string) {
	if !d.have[n] {
		if _, ok := d.missing[n]; !ok {
			d.missing[n] = why
		}
	}
}

// lacks reports the reason for the first missing need of needs.
func (d *doctorRun) lacks(needs []need) (string, bool) {
	for _, n := range needs {
		if !d.have[n] {
			why := d.missing[n]
			if why == "" {
				why = "not checked: an earlier link did not hold"
			}
			return why, false
		}
	}
	return "", true
}

func (d *doctorRun) add(name string, st Status, fix, format string, args ...any) {
	d.r.add(name, st, fix, format, args...)
}

func doctorJenkins(ctx context.Context, d *doctorRun) {
	s := d.env.Spec
	const unreachable = "not checked: Jenkins is not reachable"
	info, err := d.env.Jenkins.Info(ctx)
	if err != nil {
		fix := "check jenkins.url, the network path to it and jenkins.ca_bundle for a private CA"
		switch {
		case errors.Is(err, jenkins.ErrUnauthorized):
			fix = "check jenkins.user and the API token in the variable jenkins.token names (User » Security » API Token)"
		case errors.Is(err, jenkins.ErrForbidden):
			fix = "give jenkins.user Overall/Administer (or Overall/Read plus credential and job permissions; the plugin check then needs Overall/SystemRead)"
		}
		d.add(LinkJenkins, Fail, fix, "cannot reach Jenkins at %s: %v", s.Jenkins.URL, err)
		d.lack(needJenkins, unreachable)
		return
	}
	if info.User == "" || info.User == "anonymous" {
		d.add(LinkJenkins, Fail, "set jenkins.user and jenkins.token (an API token) in the spec",
			"Jenkins %s at %s answers, but as anonymous", info.Version, s.Jenkins.URL)
		d.lack(needJenkins, unreachable)
		return
	}
	if problem := info.RootURLProblem(s.Jenkins.URL, s.OIDC.Issuer != ""); problem != "" {
		d.add(LinkJenkins, Fail, jenkins.RootURLHint+" to "+s.Jenkins.RootURL(), "%s", problem)
	} else {
		d.add(LinkJenkins, OK, "", "Jenkins %s at %s, logged in as %s", orUnknown(info.Version), s.Jenkins.URL, info.User)
	}
	d.info = info
	d.provide(needJenkins)
}

func doctorPlugins(ctx context.Context, d *doctorRun) {
	for _, w := range d.info.VersionWarnings() {
		d.add(LinkPlugins, Warn, "update it in Manage Jenkins (see the README's supported versions)", "%s", w)
	}
	if d.info.PluginsHidden {
		d.add(LinkPlugins, Warn, "give jenkins.user Overall/Administer, or start Jenkins with -Djenkins.security.SystemReadPermission=true and grant Overall/SystemRead",
			"%s", jenkins.PluginsHiddenHint)
		return
	}
	required, uses := requiredPlugins(d.env.Spec)
	if err := checkPlugins(d.info, d.env.Spec.Jenkins.URL, required, uses); err != nil {
		d.add(LinkPlugins, Fail, "run `jenkins-cloudsmith apply --install-plugins`, or install them in Manage Jenkins » Plugins", "%v", err)
		return
	}
	var have []string
	for _, n := range required {
		have = append(have, n+" "+d.info.Plugins[n].Version)
	}
	d.add(LinkPlugins, OK, "", "%s", strings.Join(have, ", "))
}

// requiredPlugins is what s's rendered jobs, folders and credential use
// (render.Output.RequiredPlugins); when s does not render, every plugin a
// spec may need.
func requiredPlugins(s *spec.Spec) ([]string, map[string]string) {
	if r, err := render.New(render.Options{}); err == nil {
		if out, err := r.Render(s); err == nil {
			if names, uses, err := out.RequiredPlugins(); err == nil {
				return names, uses
			}
		}
	}
	return jenkins.RequiredPlugins(), nil
}

// checkPlugins names every plugin of required that info lacks, is
// disabled or not yet active, with what uses it.
func checkPlugins(info *jenkins.Info, url string, required []string, uses map[string]string) error {
	missing, disabled := plan.MissingPlugins(info, required)
	if len(missing)+len(disabled) == 0 {
		return nil
	}
	e := &jenkins.PluginsError{URL: url, Disabled: disabled, Uses: uses}
	for _, n := range missing {
		if _, installed := info.Plugins[n]; installed {
			e.Inactive = append(e.Inactive, n)
		} else {
			e.Missing = append(e.Missing, n)
		}
	}
	// A plugin that cannot load for a missing dependency: name that.
	for _, dep := range info.MissingDependencies(missing) {
		e.Missing = append(e.Missing, dep)
		if e.Uses == nil {
			e.Uses = map[string]string{}
		}
		e.Uses[dep] = "installed plugins that cannot load without it"
	}
	return e
}

func orUnknown(s string) string {
	if s == "" {
		return "(version unknown)"
	}
	return s
}

func doctorCredential(ctx context.Context, d *doctorRun) {
	env, now, r := d.env, d.now, d.r
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

func doctorIssuer(ctx context.Context, d *doctorRun) {
	env, r := d.env, d.r
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

// doctorProvider finds the provider whose URL is exactly the issuer; its
// required claims are the ones doctorClaims judges.
func doctorProvider(ctx context.Context, d *doctorRun) {
	s, r := d.env.Spec, d.r
	org, iss := s.Cloudsmith.Org, s.IssuerURL()
	noProvider := func(why string) {
		d.lack(needProvider, "not checked: "+why)
		d.lack(needClaims, "not checked: no provider to read the required claims from")
	}
	providers, err := d.env.Cloudsmith.ListProviders(ctx, org)
	if err != nil {
		r.add(LinkProvider, Fail, "check cloudsmith.org and that cloudsmith.api_key belongs to an org Manager or Owner", "cannot list the OIDC providers of org %q: %v", org, err)
		noProvider("the providers could not be read")
		return
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
		noProvider("no provider matches the issuer")
		return
	}
	p := match[0]
	for _, m := range match {
		if m.Name == s.Cloudsmith.Provider.Name || (m.Enabled && !p.Enabled) {
			p = m
			break
		}
	}
	r.add(LinkProvider, OK, "", "provider %q of org %q has provider_url %s, exactly the tokens' iss", p.Name, org, p.ProviderURL)
	d.provider = &p
	d.required, d.requiredJSON, d.claimsFrom = p.Claims, p.ClaimJSON, fmt.Sprintf("provider %q", p.Name)
	d.provide(needProvider)
	d.provide(needClaims)
}

// doctorEnabled checks the provider is enabled.
func doctorEnabled(_ context.Context, d *doctorRun) {
	p := d.provider
	if p.Enabled {
		d.add(LinkEnabled, OK, "", "provider %q is enabled", p.Name)
	} else {
		d.add(LinkEnabled, Fail, "enable it (Cloudsmith » Settings » OpenID Connect, or `jenkins-cloudsmith apply`)", "provider %q is disabled: Cloudsmith ignores it for exchanges", p.Name)
	}
}

// doctorAccount finds the spec's service account by name (or slug), as
// apply does: Cloudsmith assigns the slug builds must use.
func doctorAccount(ctx context.Context, d *doctorRun) {
	env, r := d.env, d.r
	org, name := env.Spec.Cloudsmith.Org, env.Spec.Cloudsmith.Service
	list, err := env.Cloudsmith.ListServices(ctx, org)
	if err != nil {
		r.add(LinkAccount, Fail, "check cloudsmith.api_key's permissions (an org Manager or Owner)", "cannot list the service accounts of org %q: %v", org, err)
		d.lack(needService, "not checked: the service accounts could not be read")
		return
	}
	found, err := cloudsmith.FindService(list, name)
	switch {
	case err != nil:
		r.add(LinkAccount, Fail, "set cloudsmith.service to the slug of the account builds should use", "%v", err)
	case found == nil:
		r.add(LinkAccount, Fail, "run `jenkins-cloudsmith apply` (it creates the account and gives the jobs the slug Cloudsmith assigns)",
			"org %q has no service account named %q (nor one with that slug)", org, name)
	default:
		d.serviceSlug = found.Slug
		note := ""
		if found.Slug != name {
			note = fmt.Sprintf(", slug %q assigned by Cloudsmith", found.Slug)
		}
		r.add(LinkAccount, OK, "", "service account %q (role %s%s) exists in org %q", found.Name, orUnknown(found.Role), note, org)
		d.provide(needService)
		return
	}
	d.lack(needService, "not checked: the service account was not found")
}

// doctorService checks the service account is linked to the provider.
func doctorService(_ context.Context, d *doctorRun) {
	p, r, svc := d.provider, d.r, d.serviceSlug
	switch {
	case p.MappingClaim != "":
		r.add(LinkService, Warn, "check the dynamic mappings in Cloudsmith by hand, or let `jenkins-cloudsmith apply` replace them with the service account",
			"provider %q maps claim %q to services dynamically; doctor cannot read the mappings", p.Name, p.MappingClaim)
	case !slices.Contains(p.ServiceAccounts, svc):
		r.add(LinkService, Fail, fmt.Sprintf("add %q to the provider's service accounts (or run `jenkins-cloudsmith apply`)", svc),
			"service %q is not linked to provider %q (it links %q)", svc, p.Name, p.ServiceAccounts)
	default:
		r.add(LinkService, OK, "", "service %q is linked to provider %q", svc, p.Name)
	}
}

// doctorPrivileges checks the service holds Read (Write where a job
// publishes) on every repository the jobs use: Cloudsmith grants a service
// account no repository privilege by default, so without one the exchange
// works and every download is refused with 403.
func doctorPrivileges(ctx context.Context, d *doctorRun) {
	env, r, svc := d.env, d.r, d.serviceSlug
	org := env.Spec.Cloudsmith.Org
	uses := env.Spec.Repositories()
	if len(uses) == 0 {
		r.add(LinkPrivileges, OK, "", "no job uses a Cloudsmith repository")
		return
	}
	var bad, good []string
	fix := "run `jenkins-cloudsmith apply` (it grants them with PATCH, leaving other privileges alone), or grant them in the repository's Settings » Access Control"
	var teamSlugs []string
	teamsRead := false
	teams := func(ctx context.Context) []string {
		if !teamsRead {
			teamsRead = true
			if s, err := env.Cloudsmith.GetService(ctx, org, svc); err == nil {
				for _, t := range s.Teams {
					teamSlugs = append(teamSlugs, t.Slug)
				}
			}
		}
		return teamSlugs
	}
	for _, u := range uses {
		list, err := env.Cloudsmith.RepositoryPrivileges(ctx, org, u.Repo)
		if errors.Is(err, cloudsmith.ErrNotFound) {
			bad = append(bad, fmt.Sprintf("repository %s/%s (used by %s) does not exist, or cloudsmith.api_key cannot see it", org, u.Repo, strings.Join(u.Jobs, ", ")))
			continue
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("cannot read the privileges of %s/%s: %v", org, u.Repo, err))
			continue
		}
		have, via := cloudsmith.ServicePrivilege(list, svc), ""
		if cloudsmith.PrivilegeRank(have) < cloudsmith.PrivilegeRank(u.Privilege()) {
			// What the service's teams hold counts too.
			if p, team := cloudsmith.TeamPrivilege(list, teams(ctx)); cloudsmith.PrivilegeRank(p) > cloudsmith.PrivilegeRank(have) {
				have, via = p, " (through team "+team+")"
			}
		}
		if cloudsmith.PrivilegeRank(have) < cloudsmith.PrivilegeRank(u.Privilege()) {
			held := "no privilege"
			if have != "" {
				held = have
			}
			bad = append(bad, fmt.Sprintf("service %q holds %s on %s/%s; jobs %s need %s", svc, held, org, u.Repo, strings.Join(u.Jobs, ", "), u.Privilege()))
			continue
		}
		good = append(good, fmt.Sprintf("%s on %s%s", have, u.Repo, via))
	}
	if len(bad) > 0 {
		r.add(LinkPrivileges, Fail, fix, "%s", strings.Join(bad, "\n"))
		return
	}
	r.add(LinkPrivileges, OK, "", "service %q holds %s", svc, strings.Join(good, ", "))
}

// doctorTokenShape says what the installed oidc-provider puts in aud (a
// string before 212.v7657c4d…, a JSON array since) and whether the
// provider's required claims depend on it: how Cloudsmith compares a
// required string with an array is undocumented, and compared exactly
// (the strictest reading) an aud requirement never matches the array.
func doctorTokenShape(_ context.Context, d *doctorRun) {
	version := d.info.Plugins["oidc-provider"].Version
	array, known := jenkins.AudIsArray(version)
	shape := `a JSON array (["` + d.env.Spec.OIDC.Audience + `"])`
	if known && !array {
		shape = `a string ("` + d.env.Spec.OIDC.Audience + `")`
	}
	plugin := "oidc-provider " + version
	if version == "" {
		plugin = "oidc-provider (version hidden; assuming a current one)"
	}
	want, requiresAud := d.required["aud"]
	switch {
	case !requiresAud:
		d.add(LinkTokenShape, OK, "", "%s writes aud as %s; %s does not require aud, so its shape does not matter", plugin, shape, d.claimsFrom)
	case known && !array:
		d.add(LinkTokenShape, Warn, "replace aud in the required claims with a sub prefix (apply's default: sub="+d.env.Spec.Jenkins.RootURL()+"job/.*) before upgrading the plugin",
			"%s writes aud as %s, which %s's aud=%q matches; from 212.v7657c4d… on the plugin writes an array, which Cloudsmith may not match against a string",
			plugin, shape, d.claimsFrom, want)
	default:
		d.add(LinkTokenShape, Warn, "remove aud from the required claims (cloudsmith.provider.claims) and require a sub prefix instead (apply's default: sub="+d.env.Spec.Jenkins.RootURL()+"job/.*)",
			"%s writes aud as %s; %s requires aud=%q, and Cloudsmith does not document how it compares a string with an array: if exactly, no build can exchange its token",
			plugin, shape, d.claimsFrom, want)
	}
}

// sameIssuerLoosely spots a provider URL that differs from iss only in
// case or a trailing slash: the usual mistake.
func sameIssuerLoosely(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}

func doctorClaims(_ context.Context, d *doctorRun) {
	s, required, from, now, r := d.env.Spec, d.required, d.claimsFrom, d.now, d.r
	if len(required) == 0 {
		r.add(LinkClaims, Warn, "require at least aud (the credential's audience) and a sub prefix such as "+s.Jenkins.RootURL()+"job/.* in cloudsmith.provider.claims",
			"%s requires no claim: any token this issuer signs can be exchanged (Cloudsmith strongly recommends at least one)", from)
		return
	}
	fails := CheckClaims(s, required, d.requiredJSON, now)
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

func doctorExchange(ctx context.Context, d *doctorRun) {
	env, o, now, r := d.env, d.opts, d.now, d.r
	s := env.Spec
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
	tok, err := env.Exchange.Exchange(ctx, s.Cloudsmith.Org, d.buildService(), token)
	if err != nil {
		r.add(LinkExchange, Fail, "see the causes listed; the links above narrow them down", "%v", err)
		return
	}
	r.add(LinkExchange, OK, "", "Cloudsmith exchanged the token for service %q of org %q (its token expires %s)",
		d.buildService(), s.Cloudsmith.Org, tok.Expiry.UTC().Format(time.RFC3339))
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
