package jenkinstest

import (
	"time"
)

// Option configures the emulator.
type Option func(*options)

type options struct {
	users              []User
	without            []string
	pluginVersions     map[string]string
	latency            time.Duration
	faultRate          float64
	faultSeed          uint64
	faultAfter         float64
	rootURL            string
	noRootURL          bool
	version            string
	csrf               bool
	buildEnv           []string
	addr               string
	anonymousRead      bool
	tokenLifetime      time.Duration
	audienceString     bool
	claims             *ClaimTemplates
	quietPeriod        time.Duration
	restartDuration    time.Duration
	doubledCrumbPath   bool
	folderDropsCreds   bool
	utf8Headers        bool
	now                func() time.Time
	agentLabels        []string
	libraries          []GlobalLibrary
	allowLocalCheckout bool
	downloadTime       time.Duration
	noDynamicLoad      bool
	failDownloads      []string
}

func defaultOptions() options {
	return options{
		version:          DefaultVersion,
		csrf:             true,
		tokenLifetime:    time.Hour,
		quietPeriod:      50 * time.Millisecond,
		restartDuration:  300 * time.Millisecond,
		downloadTime:     50 * time.Millisecond,
		doubledCrumbPath: true,
		folderDropsCreds: true,
		now:              time.Now,
	}
}

// DefaultVersion is the controller version the emulator reports in
// X-Jenkins unless WithVersion says otherwise.
const DefaultVersion = "2.528.3"

// WithUser adds a user (or replaces the default "admin"). A user without
// Permissions gets Overall/Administer.
func WithUser(u User) Option { return func(o *options) { o.users = append(o.users, u) } }

// WithoutPlugins starts the controller without the named plugins (short
// names such as "oidc-provider"), so clients' plugin checks can be tested.
func WithoutPlugins(names ...string) Option {
	return func(o *options) { o.without = append(o.without, names...) }
}

// WithPluginVersion installs plugin name at version instead of the
// catalog's (current) one, so clients can be tested against older
// releases. Behaviours that changed between releases follow the installed
// version (see the package doc's table): oidc-provider's claim order,
// "aud" form, "typ" header and refusal of unsubstituted claims, and the
// credentials plugin's answers to form posts.
func WithPluginVersion(name, version string) Option {
	return func(o *options) {
		if o.pluginVersions == nil {
			o.pluginVersions = map[string]string{}
		}
		o.pluginVersions[name] = version
	}
}

// WithLatency delays every response by d.
func WithLatency(d time.Duration) Option { return func(o *options) { o.latency = d } }

// WithFaultRate makes a fraction rate of requests fail with a 502/503/504
// or a connection reset, chosen by a generator seeded with seed so a test
// sees the same faults on every run. Faults happen before the request
// changes anything unless WithFaultsAfterMutation says otherwise.
func WithFaultRate(rate float64, seed uint64) Option {
	return func(o *options) { o.faultRate, o.faultSeed = rate, seed }
}

// WithFaultsAfterMutation makes a share (0..1) of the injected faults
// happen after the request was applied: the state changes but the client
// never sees the answer, as when a proxy drops a response.
func WithFaultsAfterMutation(share float64) Option {
	return func(o *options) { o.faultAfter = share }
}

// WithRootURL sets Jenkins' configured root URL (it must end with "/").
// Without it the root URL is the listening address (Start) or the
// request's Host.
func WithRootURL(u string) Option { return func(o *options) { o.rootURL = u } }

// WithoutRootURL starts the controller with no Jenkins URL configured
// (Manage Jenkins » System » Jenkins URL left empty), which Start would
// otherwise set to the listening address: /api/json exports "url" as null,
// pages and /oidc answer from each request's URL (X-Forwarded-* honoured,
// as Jenkins.getRootUrlFromRequest does), and builds get no JENKINS_URL,
// HUDSON_URL, JOB_URL or BUILD_URL (CoreEnvironmentContributor), so the
// plugin's default sub claim fails to mint. A bare New without
// WithRootURL is in this state too.
func WithoutRootURL() Option { return func(o *options) { o.noRootURL, o.rootURL = true, "" } }

// WithVersion sets the version reported in X-Jenkins.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithCSRF turns CSRF protection (the crumb issuer) on or off; it is on by
// default, as on any current controller.
func WithCSRF(on bool) Option { return func(o *options) { o.csrf = on } }

// WithBuildEnv adds KEY=VALUE variables to every build's environment.
func WithBuildEnv(kv ...string) Option {
	return func(o *options) { o.buildEnv = append(o.buildEnv, kv...) }
}

// WithAddr sets the address Start listens on (default 127.0.0.1:0).
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithAnonymousRead grants anonymous users Overall/Read and Job/Read.
func WithAnonymousRead() Option { return func(o *options) { o.anonymousRead = true } }

// WithTokenLifetime sets the oidc-provider's tokenLifetime (default 3600s).
func WithTokenLifetime(d time.Duration) Option { return func(o *options) { o.tokenLifetime = d } }

// WithAudienceString makes ID tokens carry "aud" as a single string, as
// oidc-provider releases before April 2026 did; current ones send an array.
func WithAudienceString() Option { return func(o *options) { o.audienceString = true } }

// WithClaimTemplates replaces the plugin's claim templates (Manage Jenkins »
// Security » OpenID Connect).
func WithClaimTemplates(c ClaimTemplates) Option { return func(o *options) { o.claims = &c } }

// WithQuietPeriod sets how long a triggered build waits in the queue
// (Jenkins' default is 5s; the emulator's is 50ms so clients still see a
// queue item without an executable).
func WithQuietPeriod(d time.Duration) Option { return func(o *options) { o.quietPeriod = d } }

// WithRestartDuration sets how long the emulated restart answers 503.
func WithRestartDuration(d time.Duration) Option { return func(o *options) { o.restartDuration = d } }

// WithDoubledCrumbPath controls whether /crumbIssuer/api/json/api/json (the
// path gojenkins v1.2.0 requests) is served. Stapler invokes a do-method
// whatever path follows it, so a real controller answers it; default true.
func WithDoubledCrumbPath(on bool) Option { return func(o *options) { o.doubledCrumbPath = on } }

// WithFolderConfigKeepsCredentials makes a folder config.xml POST keep the
// folder's credential store even when the posted XML lacks the
// FolderCredentialsProperty. By default the store is dropped, as XStream
// replaces the folder's properties wholesale (derived from source).
func WithFolderConfigKeepsCredentials() Option {
	return func(o *options) { o.folderDropsCreds = false }
}

// WithClock sets the clock used for token iat/exp and build timestamps.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithUTF8Headers sends X-Error and other header values as UTF-8. By
// default they go out as Jetty writes them: Latin-1, with characters above
// U+00FF (such as the ‘’ quotes of "A job already exists with the name
// ‘x’") replaced by spaces.
func WithUTF8Headers() Option { return func(o *options) { o.utf8Headers = true } }

// WithAgentLabels adds labels to the built-in node, the one agent builds
// run on, so node('linux') finds it (its own label is "built-in").
func WithAgentLabels(labels ...string) Option {
	return func(o *options) { o.agentLabels = append(o.agentLabels, labels...) }
}

// WithGlobalLibrary registers a Global Trusted Pipeline Library, as an
// administrator does under Manage Jenkins » System. Its code is trusted:
// it runs outside the Groovy sandbox.
func WithGlobalLibrary(l GlobalLibrary) Option {
	return func(o *options) { o.libraries = append(o.libraries, l) }
}

// WithAllowLocalCheckout sets hudson.plugins.git.GitSCM.ALLOW_LOCAL_CHECKOUT:
// without it (the default since SECURITY-2478) the git plugin refuses to
// check out file:// URLs and local paths on the controller.
func WithAllowLocalCheckout() Option { return func(o *options) { o.allowLocalCheckout = true } }

// WithPluginDownloadTime sets how long each plugin download of the update
// center takes (default 50ms). Downloads run one after another, so
// installing n plugins takes n times this, and a safeRestart that does
// not wait for them loses the ones still running.
func WithPluginDownloadTime(d time.Duration) Option { return func(o *options) { o.downloadTime = d } }

// WithoutDynamicLoad makes every installed plugin wait for a restart
// (SuccessButRequiresRestart), as when PluginManager.dynamicLoad throws
// RestartRequiredException. By default a plugin that was not installed
// before is loaded at once, as deploy(true) does, and only upgrades need
// a restart.
func WithoutDynamicLoad() Option { return func(o *options) { o.noDynamicLoad = true } }

// WithFailingDownloads makes the update center's downloads of the named
// plugins fail (DownloadJob.Failure with the UnknownHostException of a
// controller that cannot reach updates.jenkins.io): nothing is installed.
func WithFailingDownloads(names ...string) Option {
	return func(o *options) { o.failDownloads = append(o.failDownloads, names...) }
}
