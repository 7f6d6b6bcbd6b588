package cloudsmithtest

import (
	"net/http"
	"time"
)

// Option configures an emulator.
type Option func(*config)

type config struct {
	org, repo          string
	apiKey             string
	latency            time.Duration
	faultRate          float64
	faultSeed          uint64
	faultHosts         map[Host]bool
	retryAfter         int
	tokenLifetime      time.Duration
	clock              func() time.Time
	httpClient         *http.Client
	leeway             time.Duration
	insecureIssuers    bool
	lenientSlash       bool
	jwksTTL            time.Duration
	alwaysSuffixSlugs  bool
	visibilityDelay    time.Duration
	arrayElementMatch  bool
	pageSize           int
	tlsHosts           map[Host]bool
	lenientPackageAuth bool
}

func defaultConfig() config {
	return config{
		org:           "acme",
		repo:          "demo",
		faultHosts:    map[Host]bool{HostAPI: true},
		retryAfter:    1,
		tokenLifetime: 90 * time.Minute,
		clock:         time.Now,
		leeway:        60 * time.Second,
		jwksTTL:       5 * time.Minute,
		pageSize:      30,
		// Cloudsmith "may" append random characters to a service's slug;
		// suffixing every one by default keeps clients from guessing it.
		alwaysSuffixSlugs: true,
	}
}

// WithOrg names the seeded org (default "acme").
func WithOrg(slug string) Option { return func(c *config) { c.org = slug } }

// WithRepo names the seeded repository holding the demo packages (default "demo").
func WithRepo(slug string) Option { return func(c *config) { c.repo = slug } }

// WithAPIKey fixes the owner's API key instead of a fresh random one.
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithLatency delays every response on every host by d.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithFaultRate makes a fraction rate (0..1) of requests fail, chosen by a
// deterministic generator seeded with seed, with equal shares of 503, 429
// (with Retry-After) and connection resets. Faults hit the API host only,
// where the exchange and management calls live, unless WithFaultHosts says
// otherwise: package managers' own retry rules are not under test here.
func WithFaultRate(rate float64, seed uint64) Option {
	return func(c *config) { c.faultRate, c.faultSeed = rate, seed }
}

// WithFaultHosts chooses which hosts WithFaultRate affects.
func WithFaultHosts(hosts ...Host) Option {
	return func(c *config) {
		c.faultHosts = map[Host]bool{}
		for _, h := range hosts {
			c.faultHosts[h] = true
		}
	}
}

// WithRetryAfter sets the Retry-After seconds sent with injected 429s (default 1).
func WithRetryAfter(seconds int) Option { return func(c *config) { c.retryAfter = seconds } }

// WithTokenLifetime sets the lifetime of exchanged tokens. The default is
// 90 minutes, the shorter of what Cloudsmith's docs say ("around 90
// minutes" in three pages, "2 hours" in one), so a client that assumes 2h
// instead of reading exp is caught.
func WithTokenLifetime(d time.Duration) Option { return func(c *config) { c.tokenLifetime = d } }

// WithClock replaces time.Now, for expiry tests.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithHTTPClient sets the client used to fetch issuers' discovery documents
// and JWKS (for example one trusting a test CA). The default verifies TLS
// against the system roots and times out after 10s.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.httpClient = hc } }

// WithLeeway sets the clock skew tolerated on exp, iat and nbf (default 60s).
func WithLeeway(d time.Duration) Option { return func(c *config) { c.leeway = d } }

// WithInsecureIssuers lets the exchange fetch plain-http issuers on any
// host. By default plain http is accepted only on loopback addresses.
func WithInsecureIssuers() Option { return func(c *config) { c.insecureIssuers = true } }

// WithLenientIssuerSlash ignores one trailing "/" when comparing a
// provider URL with a token's iss. Cloudsmith says the provider URL "must
// precisely match" iss but its own examples disagree about the slash, so the
// default is the strict exact string comparison.
func WithLenientIssuerSlash() Option { return func(c *config) { c.lenientSlash = true } }

// WithJWKSCacheTTL sets how long discovery documents and key sets are
// reused (default 5m). An unknown kid always triggers one refetch.
func WithJWKSCacheTTL(d time.Duration) Option { return func(c *config) { c.jwksTTL = d } }

// WithServiceSlugSuffix makes every service slug derived from a name carry
// random characters (Cloudsmith's "may have random characters appended"),
// so clients must read the slug from the response rather than guess it.
// It is the default; WithPlainServiceSlugs turns it off.
func WithServiceSlugSuffix() Option { return func(c *config) { c.alwaysSuffixSlugs = true } }

// WithPlainServiceSlugs derives a service's slug from its name alone,
// appending random characters only when that slug is taken.
func WithPlainServiceSlugs() Option { return func(c *config) { c.alwaysSuffixSlugs = false } }

// WithVisibilityDelay makes what the management API creates (service
// accounts, OIDC providers, repository privileges) invisible to reads and
// to what depends on it for d: lists and gets do not show it, a provider
// naming a just-created service gets 422 "Object with slug=… does not
// exist.", a fresh grant does not yet open a repository and an exchange
// into the new service fails. Cloudsmith's API is eventually consistent:
// the Terraform provider polls reads for up to a minute after a create and
// sleeps 5s after privilege updates.
func WithVisibilityDelay(d time.Duration) Option { return func(c *config) { c.visibilityDelay = d } }

// WithClaimArrayElementMatch lets a provider's string claim requirement
// match a token's array claim when any element matches (aud is an array in
// tokens of oidc-provider ≥ 212.v7657c4d…). Cloudsmith does not document the
// comparison; the default, exact JSON equality, refuses it.
func WithClaimArrayElementMatch() Option { return func(c *config) { c.arrayElementMatch = true } }

// WithPageSize sets the default page size of list endpoints (default 30).
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithTLS makes Start serve the given hosts (all of them when none is
// named) over https with a self-signed certificate for 127.0.0.1, ::1 and
// localhost; Server.CACertPEM and Server.Client trust it. The go command
// never sends credentials over plain http (neither from GOPROXY's userinfo
// nor from netrc), so an authenticated Go proxy needs at least
// WithTLS(HostGo) and SSL_CERT_FILE pointing at the certificate.
func WithTLS(hosts ...Host) Option {
	return func(c *config) {
		if len(hosts) == 0 {
			hosts = Hosts()
		}
		c.tlsHosts = map[Host]bool{}
		for _, h := range hosts {
			c.tlsHosts[h] = true
		}
	}
}

// WithLenientPackageAuth makes package hosts take a valid credential
// however it is sent: Basic with any user name, Bearer on every host. By
// default they take what Cloudsmith documents: Basic with the user
// "token" or the credential owner's slug, X-Api-Key, and Bearer only
// where the format's client sends it (npm).
func WithLenientPackageAuth() Option { return func(c *config) { c.lenientPackageAuth = true } }
