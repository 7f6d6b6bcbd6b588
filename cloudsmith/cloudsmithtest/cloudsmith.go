package cloudsmithtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/emumw"
)

// Host names one of the emulator's hosts. Cloudsmith serves the API,
// downloads (Python, raw), npm and Go from different host names; Start gives
// each its own listener so URLs have the same shape as Cloudsmith's.
type Host string

// The emulated hosts.
const (
	HostAPI      Host = "api"      // api.cloudsmith.io
	HostDownload Host = "download" // dl.cloudsmith.io
	HostNPM      Host = "npm"      // npm.cloudsmith.io
	HostGo       Host = "go"       // golang.cloudsmith.io
)

// GenericExchangeError is the detail of every failed exchange. Cloudsmith's
// errors are "intentionally quite generic" so they leak nothing about which
// check failed; the wording follows the 401 description in Cloudsmith's
// OpenAPI ("OIDC token cannot be authenticated.").
const GenericExchangeError = "OIDC token cannot be authenticated."

// Demo package coordinates, seeded in the default repository.
const (
	DemoPythonProject = "hello-cloudsmith"
	DemoPythonVersion = "1.0.0"
	DemoNPMPackage    = "hello-cloudsmith"
	DemoNPMVersion    = "1.0.0"
	DemoGoModule      = "example.com/hello-cloudsmith"
	DemoGoVersion     = "v1.0.0"
	DemoRawFile       = "hello.txt"
	DemoRawPackage    = "hello-cloudsmith"
	DemoRawVersion    = "1.0.0"
	DemoHelmChart     = "hello-cloudsmith"
	DemoHelmVersion   = "1.0.0"
)

// Service is a Cloudsmith service account.
type Service struct {
	Name        string
	Slug        string
	Description string
	// Role is "Member" (default) or "Manager". Managers may use the
	// management API with their key or an exchanged token.
	Role  string
	Teams []ServiceTeam
	// Key is the service's API key; empty in AddService means generate one.
	Key       string
	CreatedAt time.Time
	CreatedBy string
	// visibleAt is when reads start to see the service (WithVisibilityDelay).
	visibleAt time.Time
}

// ServiceTeam is a team membership of a service.
type ServiceTeam struct {
	Slug string
	Role string
	// Name is the team's name (AddTeam), shown in reads; the slug when
	// empty.
	Name string
}

// DynamicMapping maps a value of a provider's MappingClaim to a service.
type DynamicMapping struct {
	ClaimValue     string `json:"claim_value"`
	ServiceAccount string `json:"service_account"`
}

// ProviderSettings is an OIDC provider trusted by an org.
type ProviderSettings struct {
	Name string
	// Slug is derived from Name; SlugPerm is the immutable id used in URLs.
	// Both are generated when empty.
	Slug     string
	SlugPerm string
	// ProviderURL must equal the token's iss claim (see WithLenientIssuerSlash).
	ProviderURL string
	// Claims every token must carry: equal values, or for a string ending in
	// ".*" a prefix. Values are whatever JSON the API received.
	Claims map[string]any
	// Enabled providers take part in exchanges; disabled ones are ignored.
	Enabled         bool
	ServiceAccounts []string
	// MappingClaim and DynamicMappings are Cloudsmith's early-access
	// alternative to ServiceAccounts.
	MappingClaim    string
	DynamicMappings []DynamicMapping
	// visibleAt is when reads start to see the provider (WithVisibilityDelay).
	visibleAt time.Time
}

// Request is one entry of the request log. It never holds credentials,
// query strings or bodies.
type Request struct {
	Host   Host
	Method string
	Path   string
	// Status is the HTTP status written, 0 when the connection was reset.
	Status int
	// Fault names an injected fault ("503", "429", "reset"), if any.
	Fault string
	// Auth names how the request authenticated on a protected endpoint
	// ("api-key", "service-key", "token"), empty when it did not.
	Auth string
	// Failure is the real reason of a failed exchange or authentication,
	// which the response deliberately does not tell.
	Failure string
	Time    time.Time
}

type org struct {
	slug      string
	repos     []*repository
	services  []*Service          // creation order
	providers []*ProviderSettings // creation order
	teams     map[string]string   // name by slug (AddTeam)
}

// Cloudsmith is the emulator. It is an http.Handler serving the API and
// download hosts on one listener (Handler gives each host separately); use
// Start for a complete set of loopback listeners.
type Cloudsmith struct {
	cfg config

	signKey *rsa.PrivateKey
	signKid string
	apiKey  string
	art     *artifacts
	issuers *issuerCache

	mu          sync.Mutex
	orgs        map[string]*org
	lastFailure string
	uploads     map[string]*pendingUpload // API file uploads by identifier (apiupload.go)
	reg         *registryState            // Docker registry tokens and uploads (docker.go)
	cargo       *cargoState               // Cargo git indexes and download keys (cargo.go)
	// hostURLs are the hosts' base URLs once Start has opened them, for
	// documents that point at another host (Cargo's config.json).
	hostURLs map[Host]string

	// log locks itself, apart from mu: handlers write their responses
	// (and so update the log) while holding mu.
	log    emumw.Log[Request]
	faults *emumw.Faults
}

// New returns an emulator with one org (WithOrg, default "acme") holding one
// repository (WithRepo, default "demo") with the demo packages, and a fresh
// random API key (APIKey). It panics only if the system's random source or
// the in-memory package builders fail, which cannot happen in practice.
func New(opts ...Option) *Cloudsmith {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("cloudsmithtest: generating signing key: %v", err))
	}
	art, err := buildArtifacts()
	if err != nil {
		panic(fmt.Sprintf("cloudsmithtest: building demo packages: %v", err))
	}
	c := &Cloudsmith{
		cfg:     cfg,
		signKey: key,
		signKid: randomString(16, lowerAlnum),
		apiKey:  cfg.apiKey,
		art:     art,
		issuers: newIssuerCache(cfg),
		orgs:    map[string]*org{},
		faults:  emumw.NewFaults(cfg.faultRate, cfg.faultSeed),
	}
	if c.apiKey == "" {
		c.apiKey = randomHex(20)
	}
	demo := &repository{slug: cfg.repo}
	more, err := formatDemos()
	if err != nil {
		panic(fmt.Sprintf("cloudsmithtest: building demo packages: %v", err))
	}
	for _, p := range append(art.demoPackages(), more...) {
		p.UploadedAt = buildTime
		if err := demo.add(p); err != nil {
			panic(fmt.Sprintf("cloudsmithtest: seeding demo packages: %v", err))
		}
	}
	c.orgs[cfg.org] = &org{slug: cfg.org, repos: []*repository{demo}}
	return c
}

// APIKey returns the org owner's API key, accepted by the management API
// and by every package endpoint.
func (c *Cloudsmith) APIKey() string { return c.apiKey }

// Org returns the slug of the seeded org.
func (c *Cloudsmith) Org() string { return c.cfg.org }

// Repo returns the slug of the seeded repository.
func (c *Cloudsmith) Repo() string { return c.cfg.repo }

// AddOrg adds an org (or to an existing one) with the given empty
// repositories; repositories that exist already are left as they are.
func (c *Cloudsmith) AddOrg(slug string, repos ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orgs[slug]
	if !ok {
		o = &org{slug: slug}
		c.orgs[slug] = o
	}
	for _, r := range repos {
		if o.repo(r) == nil {
			o.repos = append(o.repos, &repository{slug: r})
		}
	}
}

// AddTeam creates a team in an org, so services can join it and hold
// repository privileges through it (Cloudsmith refuses a team slug that
// names no team).
func (c *Cloudsmith) AddTeam(orgSlug, slug, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orgs[orgSlug]
	if !ok {
		return fmt.Errorf("cloudsmithtest: no org %q", orgSlug)
	}
	if !slugPattern.MatchString(slug) {
		return fmt.Errorf("cloudsmithtest: team slug %q is not a slug", slug)
	}
	if o.teams == nil {
		o.teams = map[string]string{}
	}
	if name == "" {
		name = slug
	}
	o.teams[slug] = name
	return nil
}

// teamName is a team's name, "" when the org has no such team. Callers
// hold c.mu.
func (o *org) teamName(slug string) string {
	if o == nil {
		return ""
	}
	return o.teams[slug]
}

// missingTeams reports the teams of a service write that name no team of
// the org, as DRF's slug field does. Callers hold c.mu.
// It fills in the names of the teams that exist.
func (o *org) missingTeams(teams []ServiceTeam, fe fieldErrors) {
	for i, t := range teams {
		teams[i].Name = o.teamName(t.Slug)
		if t.Slug != "" && teams[i].Name == "" {
			fe.add("teams", fmt.Sprintf("slug: Object with slug=%s does not exist.", t.Slug))
		}
	}
}

// AddService creates a service account in the seeded org, as the management
// API would, and returns a copy with its slug and key filled in. A Slug set
// by the caller is used as is (handy to mirror a known Cloudsmith slug).
func (c *Cloudsmith) AddService(s Service) (Service, error) {
	return c.AddServiceTo(c.cfg.org, s)
}

// AddServiceTo is AddService for another org.
func (c *Cloudsmith) AddServiceTo(orgSlug string, s Service) (Service, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orgs[orgSlug]
	if !ok {
		return Service{}, fmt.Errorf("cloudsmithtest: no org %q", orgSlug)
	}
	if s.Name == "" {
		return Service{}, fmt.Errorf("cloudsmithtest: a service needs a name")
	}
	if s.Slug == "" {
		s.Slug = c.uniqueServiceSlug(o, s.Name)
	} else if o.service(s.Slug) != nil {
		return Service{}, fmt.Errorf("cloudsmithtest: service %q already exists", s.Slug)
	}
	if s.Role == "" {
		s.Role = "Member"
	}
	if s.Key == "" {
		s.Key = randomHex(20)
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = c.now().UTC()
	}
	if s.CreatedBy == "" {
		s.CreatedBy = ownerUser
	}
	s.visibleAt = c.now().Add(c.cfg.visibilityDelay)
	stored := s
	stored.Teams = slices.Clone(s.Teams)
	o.services = append(o.services, &stored)
	return s, nil
}

// AddProvider creates OIDC provider settings in the seeded org and returns a
// copy with Slug and SlugPerm filled in.
func (c *Cloudsmith) AddProvider(p ProviderSettings) (ProviderSettings, error) {
	return c.AddProviderTo(c.cfg.org, p)
}

// AddProviderTo is AddProvider for another org.
func (c *Cloudsmith) AddProviderTo(orgSlug string, p ProviderSettings) (ProviderSettings, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orgs[orgSlug]
	if !ok {
		return ProviderSettings{}, fmt.Errorf("cloudsmithtest: no org %q", orgSlug)
	}
	if p.Name == "" || p.ProviderURL == "" {
		return ProviderSettings{}, fmt.Errorf("cloudsmithtest: a provider needs a name and a provider URL")
	}
	for _, sa := range p.ServiceAccounts {
		if c.seeService(o, sa) == nil {
			return ProviderSettings{}, fmt.Errorf("cloudsmithtest: provider %q names unknown service %q", p.Name, sa)
		}
	}
	if p.Slug == "" {
		p.Slug = slugify(p.Name, 0)
	}
	if p.SlugPerm == "" {
		p.SlugPerm = randomString(12, alnum)
	}
	if p.Claims == nil {
		p.Claims = map[string]any{}
	}
	p.visibleAt = c.now().Add(c.cfg.visibilityDelay)
	stored := cloneProvider(p)
	o.providers = append(o.providers, &stored)
	return cloneProvider(p), nil
}

// UpdateProvider changes an org's provider settings in place (say, to
// disable a provider or rotate its claims mid-test).
func (c *Cloudsmith) UpdateProvider(orgSlug, slugPerm string, fn func(*ProviderSettings)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orgs[orgSlug]
	if !ok {
		return fmt.Errorf("cloudsmithtest: no org %q", orgSlug)
	}
	p := o.provider(slugPerm)
	if p == nil {
		return fmt.Errorf("cloudsmithtest: no provider %q in org %q", slugPerm, orgSlug)
	}
	fn(p)
	return nil
}

// Services returns copies of an org's service accounts.
func (c *Cloudsmith) Services(orgSlug string) []Service {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orgs[orgSlug]
	if !ok {
		return nil
	}
	out := make([]Service, 0, len(o.services))
	for _, s := range o.services {
		cp := *s
		cp.Teams = slices.Clone(s.Teams)
		out = append(out, cp)
	}
	return out
}

// Providers returns copies of an org's OIDC provider settings.
func (c *Cloudsmith) Providers(orgSlug string) []ProviderSettings {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orgs[orgSlug]
	if !ok {
		return nil
	}
	out := make([]ProviderSettings, 0, len(o.providers))
	for _, p := range o.providers {
		out = append(out, cloneProvider(*p))
	}
	return out
}

// Requests returns a copy of the request log, oldest first.
func (c *Cloudsmith) Requests() []Request { return c.log.All() }

// ResetRequests empties the request log.
func (c *Cloudsmith) ResetRequests() { c.log.Reset() }

// LastExchangeFailure returns the real reason the most recent failed
// exchange was refused (the client only ever sees GenericExchangeError),
// or "" if no exchange has failed since the last successful one.
func (c *Cloudsmith) LastExchangeFailure() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastFailure
}

func (c *Cloudsmith) now() time.Time { return c.cfg.clock() }

// logRequest appends an entry as a request arrives, so the log is complete
// by the time a client has its response; update fills it in.
func (c *Cloudsmith) logRequest(r *Request) { c.log.Add(r) }

// update changes a logged entry under the lock Requests reads it with.
func (c *Cloudsmith) update(r *Request, fn func(*Request)) { c.log.Update(r, fn) }

func (o *org) service(slug string) *Service {
	return first(o.services, func(s *Service) bool { return s.Slug == slug })
}

// seeService is o.service as reads see it: a service created less than
// WithVisibilityDelay ago is not there yet. Callers hold c.mu.
func (c *Cloudsmith) seeService(o *org, slug string) *Service {
	if s := o.service(slug); s != nil && !c.now().Before(s.visibleAt) {
		return s
	}
	return nil
}

// seeProvider is o.provider as reads see it (see seeService).
func (c *Cloudsmith) seeProvider(o *org, slugPerm string) *ProviderSettings {
	if p := o.provider(slugPerm); p != nil && !c.now().Before(p.visibleAt) {
		return p
	}
	return nil
}

func (o *org) provider(slugPerm string) *ProviderSettings {
	return first(o.providers, func(p *ProviderSettings) bool { return p.SlugPerm == slugPerm })
}

func (o *org) repo(slug string) *repository {
	return first(o.repos, func(r *repository) bool { return r.slug == slug })
}

// first returns the first item that matches, or nil.
func first[T any](items []*T, match func(*T) bool) *T {
	if i := slices.IndexFunc(items, match); i >= 0 {
		return items[i]
	}
	return nil
}

// uniqueServiceSlug derives a slug from a name the way Cloudsmith describes
// it: slugified, truncated at 30 characters, with random characters
// appended when needed for uniqueness (or always, WithServiceSlugSuffix).
// Callers hold c.mu.
func (c *Cloudsmith) uniqueServiceSlug(o *org, name string) string {
	base := slugify(name, 30)
	if base == "" {
		base = "service"
	}
	if !c.cfg.alwaysSuffixSlugs && o.service(base) == nil {
		return base
	}
	for {
		cand := slugify(base, 25) + "-" + randomString(4, lowerAlpha)
		if o.service(cand) == nil {
			return cand
		}
	}
}

var slugJunk = regexp.MustCompile(`[^a-z0-9_]+`)

// slugify lower-cases name, turns runs of other characters into "-" and
// trims dashes, like Django's slugify; max > 0 truncates.
func slugify(name string, max int) string {
	s := slugJunk.ReplaceAllString(strings.ToLower(name), "-")
	s = strings.Trim(s, "-")
	if max > 0 && len(s) > max {
		s = strings.TrimRight(s[:max], "-")
	}
	return s
}

func cloneProvider(p ProviderSettings) ProviderSettings {
	cp := p
	cp.ServiceAccounts = slices.Clone(p.ServiceAccounts)
	cp.DynamicMappings = slices.Clone(p.DynamicMappings)
	cp.Claims = maps.Clone(p.Claims)
	return cp
}

const (
	lowerAlpha = "abcdefghijklmnopqrstuvwxyz"
	lowerAlnum = lowerAlpha + "0123456789"
	alnum      = lowerAlnum + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	ownerUser  = "emulator-owner"
)

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(fmt.Sprintf("cloudsmithtest: random: %v", err))
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("cloudsmithtest: random: %v", err))
	}
	return hex.EncodeToString(b)
}

// ServeHTTP serves the API host and the download host's /basic/ routes on
// one listener, which is all most tests need (httptest.NewServer(New())).
// npm and the Go proxy are reachable there through Cloudsmith's legacy
// download-host paths (/basic/{org}/{repo}/npm/ and /go/).
func (c *Cloudsmith) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/basic/") {
		c.Handler(HostDownload).ServeHTTP(w, r)
		return
	}
	c.Handler(HostAPI).ServeHTTP(w, r)
}

// Handler returns the handler of one host (see Hosts), wrapped with the
// request log, latency and fault injection.
func (c *Cloudsmith) Handler(h Host) http.Handler {
	var inner http.Handler
	switch h {
	case HostAPI:
		inner = http.HandlerFunc(c.serveAPI)
	case HostDownload:
		inner = http.HandlerFunc(c.serveDownload)
	default:
		if f := formatByHost(h); f != nil {
			inner = c.formatHost(f)
		} else {
			inner = http.NotFoundHandler()
		}
	}
	return c.wrap(h, inner)
}
