package jenkinstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/emumw"
)

// Item kinds and their Java classes.
const (
	classFreestyle = "hudson.model.FreeStyleProject"
	classPipeline  = "org.jenkinsci.plugins.workflow.job.WorkflowJob"
	classFolder    = "com.cloudbees.hudson.plugins.folder.Folder"
)

// Jenkins is the emulated controller. It is an http.Handler; use Start to
// serve it on loopback.
type Jenkins struct {
	o options

	mu          sync.Mutex
	rootURL     string
	seenRoot    string // last root URL derived from a request's Host
	session     string // X-Jenkins-Session, changes on restart
	cookieName  string // JSESSIONID.<hex>
	salt        []byte
	users       map[string]*User
	sessions    map[string]string // session cookie value → user name
	approved    map[string]bool   // ScriptApproval: SHA-256 of approved unsandboxed scripts
	root        *item
	system      *store
	plugins     []*plugin
	ucJobs      []*installJob
	restartTill time.Time
	queue       *buildQueue
	runners     map[itemKind]runner
	log         emumw.Log[Request] // locks itself
	faults      *emumw.Faults

	ctx     context.Context
	cancel  context.CancelFunc
	workDir string
	running sync.WaitGroup
}

// New returns an emulated controller with the default plugins, an "admin"
// user holding Overall/Administer, and no items.
func New(opts ...Option) *Jenkins {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &Jenkins{
		o:          o,
		rootURL:    o.rootURL,
		session:    randHex(4),
		cookieName: "JSESSIONID." + randHex(4),
		salt:       []byte(randHex(16)),
		users:      map[string]*User{},
		sessions:   map[string]string{},
		approved:   map[string]bool{},
		queue:      newBuildQueue(),
		runners:    runnersFor(),
		ctx:        ctx,
		cancel:     cancel,
	}
	j.root = &item{kind: kindRoot, children: map[string]*item{}}
	j.system = newStore("system")
	j.users["admin"] = &User{Name: "admin", Password: randHex(12), Token: "11" + randHex(16), Permissions: []Permission{Administer}}
	for _, u := range o.users {
		u := u
		if len(u.Permissions) == 0 {
			u.Permissions = []Permission{Administer}
		}
		j.users[u.Name] = &u
	}
	j.plugins = defaultPlugins(o.without, o.pluginVersions)
	if o.faultRate > 0 {
		j.faults = emumw.NewFaults(o.faultRate, o.faultSeed)
	}
	return j
}

// AdminToken returns the API token of the "admin" user.
func (j *Jenkins) AdminToken() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.users["admin"].Token
}

// AdminPassword returns the password of the "admin" user.
func (j *Jenkins) AdminPassword() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.users["admin"].Password
}

// SetRootURL sets the configured root URL (it must end with "/").
func (j *Jenkins) SetRootURL(u string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.rootURL = u
}

// RootURL returns the configured root URL, or "" when none is configured
// (pages then take it from each request; builds have none).
func (j *Jenkins) RootURL() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.rootURL
}

// Close stops running builds, waits for them and removes their workspaces.
func (j *Jenkins) Close() error {
	j.cancel()
	j.running.Wait()
	j.mu.Lock()
	dir := j.workDir
	j.workDir = ""
	j.mu.Unlock()
	if dir != "" {
		return os.RemoveAll(dir)
	}
	return nil
}

// rootFor is Jenkins.getRootUrl() while serving r: the configured root
// URL, else getRootUrlFromRequest (X-Forwarded-Proto, X-Forwarded-Host
// and X-Forwarded-Port before the request's own scheme and Host). Call
// with j.mu held.
func (j *Jenkins) rootFor(r *http.Request) string {
	if j.rootURL != "" {
		return j.rootURL
	}
	first := func(h string) string { v, _, _ := strings.Cut(r.Header.Get(h), ","); return strings.TrimSpace(v) }
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if v := first("X-Forwarded-Proto"); v != "" {
		scheme = v
	}
	host := r.Host
	if v := first("X-Forwarded-Host"); v != "" {
		host = v
	}
	if p := first("X-Forwarded-Port"); p != "" {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !(scheme == "http" && p == "80" || scheme == "https" && p == "443") {
			host = net.JoinHostPort(strings.Trim(host, "[]"), p)
		}
	}
	return scheme + "://" + host + "/"
}

// configuredRoot is the root URL builds see: only a configured one, since
// a build has no request to fall back on.
func (j *Jenkins) configuredRoot() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.rootURL
}

// ServeHTTP serves the Jenkins HTTP API.
func (j *Jenkins) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	defer func() { j.logRequest(r, rec) }()
	if !emumw.Delay(r.Context(), j.o.latency) {
		return
	}
	if j.restarting() {
		rec.fault = "restarting"
		serviceUnavailable(rec)
		return
	}
	if kind, late := j.faults.DrawLate(faultKinds, j.o.faultAfter); kind != "" {
		f := fault{kind: kind, after: late}
		rec.fault = f.String()
		if f.after {
			// Apply the request, then lose the answer.
			buf := newBufferedWriter()
			j.serve(buf, r)
			rec.status = buf.status
		}
		f.inject(rec, r)
		return
	}
	j.serve(rec, r)
}

// javaError carries an exception message verbatim, as Jenkins renders it
// in an error page or a build console.
type javaError string

func (e javaError) Error() string { return string(e) }

// request bundles what a handler needs.
type request struct {
	j    *Jenkins
	w    http.ResponseWriter
	r    *http.Request
	p    principal
	root string // root URL for this request
}

func (j *Jenkins) serve(w http.ResponseWriter, r *http.Request) {
	segs, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		http.Error(w, "Bad Message 400\nreason: "+err.Error(), http.StatusBadRequest)
		return
	}
	p, ok := j.authenticate(w, r)
	if !ok {
		return
	}
	j.mu.Lock()
	root := j.rootFor(r)
	if j.rootURL == "" {
		j.seenRoot = root // lets IDToken work for a bare handler too
	}
	j.mu.Unlock()
	q := &request{j: j, w: w, r: r, p: p, root: root}

	if r.Method == http.MethodPost && !j.checkCrumb(q) {
		return
	}
	// Unprotected root actions first.
	if len(segs) > 0 {
		switch segs[0] {
		case "oidc":
			j.serveOIDC(q)
			return
		case "whoAmI":
			j.serveWhoAmI(q, segs[1:])
			return
		}
	}
	if !j.require(q, OverallRead) {
		return
	}
	if len(segs) == 0 {
		j.serveItem(q, j.root, nil)
		return
	}
	switch segs[0] {
	case "crumbIssuer":
		j.serveCrumb(q, segs[1:])
	case "manage":
		j.serveManage(q, segs[1:])
	case "pluginManager", "updateCenter", "safeRestart", "restart":
		j.servePlugins(q, segs)
	case "queue":
		j.serveQueue(q, segs[1:])
	case "me", "user":
		j.serveUser(q, segs)
	case "credentials", "descriptorByName":
		j.serveContextAction(q, j.root, segs)
	default:
		j.serveItemPath(q, segs)
	}
}

// serveManage serves /manage/...: the same actions as the root for what
// the emulator knows (credentials, descriptorByName, plugin manager).
func (j *Jenkins) serveManage(q *request, segs []string) {
	if len(segs) == 0 {
		if j.require(q, Manage) {
			page(q, http.StatusOK, "Manage Jenkins")
		}
		return
	}
	switch segs[0] {
	case "credentials", "descriptorByName":
		j.serveContextAction(q, j.root, segs)
	case "pluginManager", "updateCenter":
		j.servePlugins(q, segs)
	default:
		notFound(q)
	}
}

// serveItemPath walks /job/a/job/b/... and dispatches the rest.
func (j *Jenkins) serveItemPath(q *request, segs []string) {
	it := j.root
	for len(segs) >= 2 && segs[0] == "job" {
		j.mu.Lock()
		child := it.child(segs[1])
		j.mu.Unlock()
		if child == nil || !j.has(q.p, ItemRead) {
			notFound(q)
			return
		}
		it = child
		segs = segs[2:]
	}
	if len(segs) > 0 && segs[0] == "job" {
		notFound(q)
		return
	}
	j.serveItem(q, it, segs)
}

// serveItem dispatches an action on an item (or the root).
func (j *Jenkins) serveItem(q *request, it *item, segs []string) {
	if len(segs) == 0 {
		switch q.r.Method {
		case http.MethodDelete:
			if it.kind == kindRoot {
				methodNotAllowed(q)
				return
			}
			j.deleteItem(q, it, http.StatusNoContent)
		default:
			page(q, http.StatusOK, j.displayPath(it))
		}
		return
	}
	switch segs[0] {
	case "api":
		j.serveItemAPI(q, it, segs[1:])
	case "createItem":
		if it.kind != kindRoot && it.kind != kindFolder {
			notFound(q)
			return
		}
		j.createItem(q, it)
	case "config.xml":
		if it.kind == kindRoot {
			notFound(q)
			return
		}
		j.configXML(q, it)
	case "doDelete":
		if it.kind == kindRoot {
			notFound(q)
			return
		}
		if !requirePOST(q) {
			return
		}
		j.deleteItem(q, it, http.StatusFound)
	case "credentials", "descriptorByName":
		if it.kind != kindFolder {
			notFound(q)
			return
		}
		j.serveContextAction(q, it, segs)
	case "submitDescription":
		if it.kind == kindRoot {
			notFound(q)
			return
		}
		j.submitDescription(q, it)
	case "configure":
		if it.kind != kindRoot && j.require(q, ItemConfigure) {
			page(q, http.StatusOK, j.displayPath(it)+" Config")
		}
	case "build", "buildWithParameters":
		if it.kind != kindFreestyle && it.kind != kindPipeline {
			notFound(q)
			return
		}
		j.triggerBuild(q, it, segs[0] == "buildWithParameters")
	default:
		if it.kind == kindFreestyle || it.kind == kindPipeline {
			j.serveBuildPath(q, it, segs)
			return
		}
		notFound(q)
	}
}

// serveContextAction serves credentials stores and descriptors in the
// context of the root or a folder.
func (j *Jenkins) serveContextAction(q *request, ctx *item, segs []string) {
	switch segs[0] {
	case "credentials":
		j.serveCredentials(q, ctx, segs[1:])
	case "descriptorByName":
		j.serveDescriptor(q, ctx, segs[1:])
	}
}

func (j *Jenkins) serveWhoAmI(q *request, segs []string) {
	if len(segs) != 2 || segs[0] != "api" || segs[1] != "json" {
		page(q, http.StatusOK, "Who Am I?")
		return
	}
	n := newNode("hudson.security.WhoAmI")
	if q.p.user == nil {
		n.add("anonymous", true).add("authenticated", true).add("authorities", []any{"anonymous"}).
			add("details", nil).add("name", "anonymous").add("toString", "AnonymousAuthenticationToken")
	} else {
		n.add("anonymous", false).add("authenticated", true).add("authorities", []any{"authenticated"}).
			add("details", nil).add("name", q.p.user.Name).
			add("toString", "UsernamePasswordAuthenticationToken [Principal="+q.p.user.Name+", Credentials=[PROTECTED], Authenticated=true, Details=null, Granted Authorities=[authenticated]]")
	}
	j.writeAPI(q, n)
}

// serveUser serves /me/api/json and /user/<id>/api/json (hudson.model.User).
func (j *Jenkins) serveUser(q *request, segs []string) {
	name := q.p.name()
	if segs[0] == "user" {
		if len(segs) < 2 {
			notFound(q)
			return
		}
		name, segs = segs[1], segs[1:]
	}
	j.mu.Lock()
	_, known := j.users[name]
	j.mu.Unlock()
	if !known || q.p.user == nil {
		notFound(q)
		return
	}
	if len(segs) != 3 || segs[1] != "api" || segs[2] != "json" {
		page(q, http.StatusOK, name)
		return
	}
	n := newNode("hudson.model.User").add("absoluteUrl", q.root+"user/"+rawEncode(name)).add("description", nil).
		add("fullName", name).add("id", name).add("property", []*node{})
	j.writeAPI(q, n)
}

// writeAPI writes a model object as /api/json does, honouring depth and tree.
func (j *Jenkins) writeAPI(q *request, n *node) {
	depth := 0
	if d := q.r.URL.Query().Get("depth"); d != "" {
		v, err := strconv.Atoi(d)
		if err != nil || v < 0 {
			failure(q, "Invalid depth: "+d)
			return
		}
		depth = v
	}
	var tree []treeSel
	if t, ok := q.r.URL.Query()["tree"]; ok {
		sels, err := parseTree(t[0])
		if err != nil {
			serverError(q, err)
			return
		}
		tree = append(sels[:0:0], sels...)
		if tree == nil {
			tree = []treeSel{}
		}
	}
	j.apiHeaders(q.w)
	q.w.Header().Set("Content-Type", "application/json;charset=utf-8")
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method != http.MethodHead {
		_, _ = q.w.Write(renderJSON(n, depth, tree))
	}
}

// apiHeaders sets the headers hudson.model.Api.setHeaders sets on /api/*
// answers: X-Jenkins and X-Jenkins-Session, not X-Hudson.
func (j *Jenkins) apiHeaders(w http.ResponseWriter) {
	j.mu.Lock()
	session := j.session
	j.mu.Unlock()
	h := w.Header()
	h.Set("X-Jenkins", j.o.version)
	h.Set("X-Jenkins-Session", session)
}

// advertiseHeaders is hudson.Functions.advertiseHeaders, which pages
// (layout.jelly) and the access-denied answers send: the API headers plus
// the legacy X-Hudson.
func (j *Jenkins) advertiseHeaders(w http.ResponseWriter) {
	j.apiHeaders(w)
	w.Header().Set("X-Hudson", "1.395")
}

// writeBody answers 200 with body (nothing for HEAD).
func writeBody(q *request, contentType string, body []byte) {
	q.w.Header().Set("Content-Type", contentType)
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method != http.MethodHead {
		_, _ = q.w.Write(body)
	}
}

// page writes a small HTML page, as Jelly views would.
func page(q *request, status int, title string) {
	h := q.w.Header()
	h.Set("Content-Type", "text/html;charset=utf-8")
	q.j.advertiseHeaders(q.w)
	q.w.WriteHeader(status)
	if q.r.Method != http.MethodHead {
		fmt.Fprintf(q.w, "<!DOCTYPE html><html><head><title>%s [Jenkins]</title></head><body><h1>%s</h1></body></html>\n",
			html.EscapeString(title), html.EscapeString(title))
	}
}

// failure renders hudson.model.Failure: 400, X-Error and an error page.
func failure(q *request, msg string) {
	h := q.w.Header()
	h.Set("X-Error", q.j.headerValue(msg))
	h.Set("Content-Type", "text/html;charset=utf-8")
	q.w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(q.w, "<!DOCTYPE html><html><head><title>Error [Jenkins]</title></head><body><h1>Error</h1><p>%s</p></body></html>\n", html.EscapeString(msg))
}

// serverError renders an uncaught exception: 500 and the "Oops!" page with
// the exception message.
func serverError(q *request, err error) {
	q.w.Header().Set("Content-Type", "text/html;charset=utf-8")
	q.w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(q.w, "<!DOCTYPE html><html><head><title>Jenkins [Jenkins]</title></head><body><h1>Oops!</h1><p>A problem occurred while processing the request.</p><pre>%s</pre></body></html>\n", html.EscapeString(err.Error()))
}

// notFound is Stapler's 404 page for an unknown URL.
func notFound(q *request) {
	q.w.Header().Set("Content-Type", "text/html;charset=utf-8")
	q.w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(q.w, "<!DOCTYPE html><html><head><title>Not Found [Jenkins]</title></head><body><h2>HTTP ERROR 404 Not Found</h2><p>URI: %s</p></body></html>\n", html.EscapeString(q.r.URL.Path))
}

// notFoundEmpty is HttpResponses.notFound(): 404 with an empty body.
func notFoundEmpty(q *request) {
	q.w.Header().Set("Content-Length", "0")
	q.w.WriteHeader(http.StatusNotFound)
}

func methodNotAllowed(q *request) {
	q.w.Header().Set("Content-Type", "text/html;charset=utf-8")
	q.w.WriteHeader(http.StatusMethodNotAllowed)
	fmt.Fprint(q.w, "<!DOCTYPE html><html><body><h1>This URL requires POST</h1></body></html>\n")
}

// requirePOST emulates @RequirePOST (and @POST): other methods get 405.
func requirePOST(q *request) bool {
	if q.r.Method == http.MethodPost {
		return true
	}
	methodNotAllowed(q)
	return false
}

func serviceUnavailable(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Starting Jenkins</title></head><body><h1>Please wait while Jenkins is getting ready to work...</h1></body></html>\n")
}

// headerValue writes s as Jetty's HttpGenerator.putSanitisedValue does:
// Latin-1 characters as single bytes, anything above U+00FF and CR/LF as a
// space. So "‘x’" in a Failure message reaches clients as " x ", and only
// the HTML body carries the quotes (WithUTF8Headers sends UTF-8 instead).
func (j *Jenkins) headerValue(s string) string {
	if j.o.utf8Headers {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r > 0xff || r == '\r' || r == '\n':
			b = append(b, ' ')
		default:
			b = append(b, byte(r))
		}
	}
	return string(b)
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Server is a Jenkins emulator listening on a real socket.
type Server struct {
	// URL is where the server listens, with a trailing slash. It is also
	// Jenkins' root URL unless WithRootURL set another (a proxy's, say).
	URL string
	// Jenkins is the emulated controller.
	Jenkins *Jenkins

	srv *http.Server
	ln  net.Listener
}

// Start serves a new emulator on 127.0.0.1 (or WithAddr) and sets its root
// URL to the listening address unless WithRootURL was given.
func Start(opts ...Option) (*Server, error) {
	j := New(opts...)
	addr := j.o.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("jenkinstest: listening on %s: %w", addr, err)
	}
	host := ln.Addr().String()
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		// Listening on all interfaces: advertise loopback, which works here.
		host = net.JoinHostPort("127.0.0.1", strconv.Itoa(ta.Port))
	}
	u := "http://" + host + "/"
	if j.RootURL() == "" && !j.o.noRootURL {
		j.SetRootURL(u)
	}
	s := &Server{URL: u, Jenkins: j, ln: ln, srv: &http.Server{Handler: j, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server and the controller's builds.
func (s *Server) Close() error {
	// Shutdown waits up to 5s for connections that were opened but never
	// used (clients pre-dial them); an emulator has nothing to drain for
	// that long, so give in-flight requests a moment and then close.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	return errors.Join(err, s.Jenkins.Close())
}

// displayPath names an item for pages.
func (j *Jenkins) displayPath(it *item) string {
	if it.kind == kindRoot {
		return "Dashboard"
	}
	return strings.ReplaceAll(it.fullName(), "/", " » ")
}
