package cloudsmithtest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// format is one package format: where its clients find a repository and
// how it answers them. Every format is registered in formatTable, the one
// place to add a format; hosts, routing, the authorisation gate and error
// writing follow from the entry.
type format struct {
	// name is the format's name as Cloudsmith spells it, and its path
	// segment on the download host.
	name string
	// download: served on the download host under /basic/{org}/{repo}/{name}/.
	download bool
	// host is the format's own host, serving /{org}/{repo}/... (or what
	// route says), if it has one.
	host Host
	// route splits a path on the format's own host into org, repository,
	// the repository's root path (ending in "/") and the rest. Nil means
	// /{org}/{repo}/{rest}.
	route func(path string) (org, repo, base, rest string, ok bool)
	// serve answers a read (GET or HEAD) the gate let through.
	serve func(c *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError
	// upload stores what a publishing client sends (any other method);
	// nil when the format has no upload yet. It runs only with Write.
	upload func(c *Cloudsmith, w http.ResponseWriter, r *http.Request, q *pkgRequest) *httpError
	// errors renders the format's own errors; authentication and
	// authorisation errors are Cloudsmith's JSON on every host.
	errors errorStyle
	// prepare, when set, adapts a request to the format's own host before
	// the gate (a client's own way of sending the credential).
	prepare func(r *http.Request)
	// schemes are the Authorization schemes the format's clients send
	// besides Basic ("bearer": npm's _authToken). Every host takes Basic
	// (user "token" or the credential's owner) and X-Api-Key; anything
	// else is refused unless WithLenientPackageAuth.
	schemes []string
	// uploadOnly: the format's own host takes only uploads (Python's
	// python.cloudsmith.io); reads are served by the download host.
	uploadOnly bool
	// handler, when set, serves the format's own host instead of route,
	// serve and upload (Docker's registry has its own token flow).
	handler func(c *Cloudsmith) http.HandlerFunc
	// demo builds the format's demo packages, seeded in the default
	// repository.
	demo func() ([]Package, error)
}

// formatTable lists every emulated format. It is a function, not a
// variable, so handlers may look formats up without an initialisation cycle.
func formatTable() []*format {
	return []*format{
		// Python installs from the download host and uploads (twine) to
		// its own host.
		{name: "python", download: true, host: HostPython, uploadOnly: true, serve: servePython, upload: uploadPython, errors: plainErrors},
		{name: "raw", download: true, serve: serveRaw, errors: plainErrors},
		// Helm's classic chart repository lives on the download host.
		{name: "helm", download: true, serve: serveHelm, errors: plainErrors, demo: demoHelm},
		// npm and Go have their own hosts; the download host's paths are
		// Cloudsmith's legacy ones.
		{name: "npm", download: true, host: HostNPM, serve: serveNPM, upload: uploadNPM, errors: npmErrors, schemes: []string{"bearer"}},
		{name: "go", download: true, host: HostGo, route: routeBasicOptional, serve: serveGoProxy, errors: goErrors},
		// Maven reads from the download host and deploys to its own host,
		// which answers reads too (deploy merges maven-metadata.xml).
		{name: "maven", download: true, host: HostMaven, serve: serveMaven, upload: uploadMaven, errors: plainErrors, demo: demoMaven},
		// The registry has its own token flow and error shape.
		// Cargo's sparse index and publish API have their own host; the git
		// index and the crates are on the download host.
		{name: "cargo", download: true, host: HostCargo, prepare: cargoAuthorization, schemes: []string{"token"}, serve: serveCargo, upload: uploadCargo, errors: cargoErrors, demo: demoCargo},
		{name: "nuget", host: HostNuGet, prepare: nugetAPIKey, serve: serveNuGet, upload: uploadNuGet, errors: plainErrors, demo: demoNuGet},
		{name: "docker", host: HostDocker, handler: dockerHandler, errors: apiErrors, demo: demoDocker},
	}
}

func formatByName(name string) *format {
	for _, f := range formatTable() {
		if f.name == name {
			return f
		}
	}
	return nil
}

func formatByHost(h Host) *format {
	for _, f := range formatTable() {
		if f.host == h {
			return f
		}
	}
	return nil
}

// Hosts returns every host the emulator serves: the API, the download
// host and each format's own host, in the order Start opens them.
func Hosts() []Host {
	out := []Host{HostAPI, HostDownload}
	for _, f := range formatTable() {
		if f.host != "" && !slices.Contains(out, f.host) {
			out = append(out, f.host)
		}
	}
	return out
}

// pkgRequest is a request for one repository of one format, after the
// gate: who asked, and the format's packages at that moment (packages are
// never changed once stored, so handlers read them without the lock).
type pkgRequest struct {
	// host is the host that was asked.
	host      Host
	org, repo string
	// base is the URL path of the repository's root for this format,
	// ending in "/"; rest is what follows it.
	base, rest string
	who        *principal
	packages   []*Package
}

// routeRepo is the default route of a format's own host: /{org}/{repo}/{rest}.
func routeRepo(path string) (org, repo, base, rest string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", "", "", "", false
	}
	if len(parts) == 3 {
		rest = parts[2]
	}
	return parts[0], parts[1], "/" + parts[0] + "/" + parts[1] + "/", rest, true
}

// routeBasicOptional is routeRepo also accepting a /basic/ prefix, as
// golang.cloudsmith.io does.
func routeBasicOptional(path string) (org, repo, base, rest string, ok bool) {
	if p, cut := strings.CutPrefix(path, "/basic/"); cut {
		org, repo, base, rest, ok = routeRepo("/" + p)
		return org, repo, "/basic" + base, rest, ok && rest != ""
	}
	org, repo, base, rest, ok = routeRepo(path)
	return org, repo, base, rest, ok && rest != ""
}

// serveDownload routes dl.cloudsmith.io's /basic/{org}/{repo}/{format}/...
func (c *Cloudsmith) serveDownload(w http.ResponseWriter, r *http.Request) {
	if c.serveEntitled(w, r) {
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/basic/")
	if !ok {
		writeError(w, plainErrors, errNotFound)
		return
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 3 {
		writeError(w, plainErrors, errNotFound)
		return
	}
	sub := ""
	if len(parts) == 4 {
		sub = parts[3]
	}
	f := formatByName(parts[2])
	if f != nil && !f.download {
		f = nil
	}
	base := "/basic/" + parts[0] + "/" + parts[1] + "/" + parts[2] + "/"
	if !isRead(r) {
		// The download host only serves: every upload has its own host.
		writeError(w, apiErrors, errMethodNotAllowed(r, http.MethodGet, http.MethodHead))
		return
	}
	c.servePackages(w, r, HostDownload, f, parts[0], parts[1], base, sub)
}

// isRead reports whether a request only reads: GET and HEAD, and git's
// smart HTTP fetch (POST .../git-upload-pack), which Cargo's git index uses.
func isRead(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead ||
		r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/cargo/index.git/git-upload-pack")
}

// formatHost serves a format's own host.
func (c *Cloudsmith) formatHost(f *format) http.HandlerFunc {
	if f.handler != nil {
		return f.handler(c)
	}
	route := f.route
	if route == nil {
		route = routeRepo
	}
	own := f
	if f.uploadOnly {
		// Reads pass the gate, then get a 405.
		cp := *f
		cp.serve = nil
		own = &cp
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if f.prepare != nil {
			f.prepare(r)
		}
		org, repo, base, rest, ok := route(r.URL.Path)
		if !ok {
			writeError(w, f.errors, errNotFound)
			return
		}
		c.servePackages(w, r, f.host, own, org, repo, base, rest)
	}
}

// servePackages is the one path of every package request: method, the
// authorisation gate, then the format's handler. f is nil for an unknown
// format, which is a 404 only after authentication, so anonymous callers
// learn nothing.
func (c *Cloudsmith) servePackages(w http.ResponseWriter, r *http.Request, host Host, f *format, org, repo, base, rest string) {
	read := isRead(r)
	if !read && (f == nil || f.upload == nil) {
		writeError(w, apiErrors, errMethodNotAllowed(r, http.MethodGet, http.MethodHead))
		return
	}
	need := PrivilegeRead
	if !read {
		need = PrivilegeWrite
	}
	q, herr := c.authorize(r, org, repo, need, f)
	if herr != nil {
		writeError(w, apiErrors, herr)
		return
	}
	if f == nil {
		writeError(w, plainErrors, errNotFound)
		return
	}
	q.host, q.base, q.rest = host, base, rest
	handle := f.serve
	if !read {
		handle = f.upload
	}
	if handle == nil {
		writeError(w, apiErrors, errMethodNotAllowed(r, http.MethodPost))
		return
	}
	if herr := handle(c, w, r, q); herr != nil {
		writeError(w, f.errors, herr)
	}
}

// authorize is the gate every package read and upload passes, on every
// host: it authenticates the request (401 with a Basic challenge), finds
// the repository (404, only after authentication) and checks the caller
// holds the privilege need on it (403): Read for every read, Write for
// uploads. A service account holds only what was granted to it.
func (c *Cloudsmith) authorize(r *http.Request, orgSlug, repoSlug string, need Privilege, f *format) (*pkgRequest, *httpError) {
	p, present, reason := c.authenticate(r)
	if p != nil && !p.inOrg(orgSlug) {
		p, reason = nil, "credential belongs to org "+quote(p.org)+", not "+quote(orgSlug)
	}
	if p != nil {
		if why := c.packageAuthProblem(r, p, f); why != "" {
			p, reason = nil, why
		}
	}
	if p == nil {
		noteFailure(r, reason)
		e := &httpError{Status: http.StatusUnauthorized, Detail: msgInvalidToken, Challenge: true}
		if !present {
			e.Detail = msgNoCredentials
		}
		return nil, e
	}
	noteAuth(r, p.kind)
	return c.repoRequest(r, p, orgSlug, repoSlug, need, f)
}

// repoRequest finds the repository for an authenticated caller (404 when
// there is none) and checks the caller holds the privilege need on it:
// the half of the gate package hosts and the API's uploads share.
func (c *Cloudsmith) repoRequest(r *http.Request, p *principal, orgSlug, repoSlug string, need Privilege, f *format) (*pkgRequest, *httpError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.orgs[orgSlug]
	var repo *repository
	if ok {
		repo = o.repo(repoSlug)
	}
	if repo == nil {
		return nil, errNotFound
	}
	if have := c.privilegeOf(o, repo, p); have < need {
		// DRF answers an authenticated caller the permission check refuses
		// with 403 PermissionDenied (401 is only for missing or bad
		// credentials), on every host in Cloudsmith's JSON.
		noteFailure(r, fmt.Sprintf("service %q holds %s on repository %s/%s, the request needs %s",
			p.service, privilegeText(have), orgSlug, repoSlug, need))
		return nil, &httpError{Status: http.StatusForbidden, Detail: msgForbidden}
	}
	q := &pkgRequest{org: orgSlug, repo: repoSlug, who: p}
	if f != nil {
		q.packages = repo.ofFormat(f.name)
	}
	return q, nil
}

// packageAuthProblem says why a package host refuses the way a valid
// credential was sent, or "" when it takes it. Cloudsmith's docs show
// HTTP Basic with the user "token" (or the user's or service's own name)
// on every package host, _authToken (Bearer) for npm, and X-Api-Key on
// "format-specific endpoints"; nothing documents Bearer on the download
// host or other user names, so the emulator refuses them (the strictest
// plausible reading; WithLenientPackageAuth accepts them).
func (c *Cloudsmith) packageAuthProblem(r *http.Request, p *principal, f *format) string {
	if c.cfg.lenientPackageAuth || strings.TrimSpace(r.Header.Get("X-Api-Key")) != "" {
		return ""
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	scheme = strings.ToLower(scheme)
	if scheme == "basic" {
		dec, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		user, _, _ := strings.Cut(string(dec), ":")
		if user == basicUser || user == p.slug() {
			return ""
		}
		return fmt.Sprintf("basic auth user %q is neither %q nor the credential's owner %q", user, basicUser, p.slug())
	}
	if f != nil && slices.Contains(f.schemes, scheme) {
		return ""
	}
	return fmt.Sprintf("this host takes HTTP Basic (user %q) or X-Api-Key, not %q authorization", basicUser, scheme)
}

// basicUser is the user name Cloudsmith's tools send with a token.
const basicUser = "token"

// formatDemos builds the demo packages of the formats that build their own.
func formatDemos() ([]Package, error) {
	var out []Package
	for _, f := range formatTable() {
		if f.demo == nil {
			continue
		}
		ps, err := f.demo()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		out = append(out, ps...)
	}
	return out, nil
}

func privilegeText(p Privilege) string {
	if p == PrivilegeNone {
		return "no privilege"
	}
	return p.String()
}
