package jenkinstest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

type itemKind int

const (
	kindRoot itemKind = iota
	kindFreestyle
	kindPipeline
	kindFolder
)

// item is the root, a folder or a job.
type item struct {
	name     string
	kind     itemKind
	parent   *item
	config   []byte // as Jenkins returns it from config.xml
	dom      *xnode
	children map[string]*item // folded name → child (root and folders)
	store    *store           // folder credential store
	runs     *history         // jobs: builds, queued, running
}

func (it *item) class() string {
	switch it.kind {
	case kindFreestyle:
		return classFreestyle
	case kindPipeline:
		return classPipeline
	case kindFolder:
		return classFolder
	}
	return "hudson.model.Hudson"
}

func (it *item) isJob() bool { return it.kind == kindFreestyle || it.kind == kindPipeline }

// child looks a name up case-insensitively, as Jenkins' item maps do.
func (it *item) child(name string) *item {
	if it.children == nil {
		return nil
	}
	return it.children[foldName(name)]
}

// sortedChildren orders children as CopyOnWriteMap.Tree with
// CASE_INSENSITIVE_ORDER does.
func (it *item) sortedChildren() []*item {
	out := make([]*item, 0, len(it.children))
	for _, c := range it.children {
		out = append(out, c)
	}
	sort.Slice(out, func(a, b int) bool { return foldName(out[a].name) < foldName(out[b].name) })
	return out
}

func (it *item) fullName() string {
	if it.kind == kindRoot {
		return ""
	}
	if it.parent == nil || it.parent.kind == kindRoot {
		return it.name
	}
	return it.parent.fullName() + "/" + it.name
}

// url is Item.getUrl relative to the root URL: job/a/job/b/.
func (it *item) url() string {
	if it.kind == kindRoot {
		return ""
	}
	return it.parent.url() + "job/" + rawEncode(it.name) + "/"
}

// ancestors lists the enclosing folders, nearest first (not the root).
func (it *item) ancestors() []*item {
	var out []*item
	for p := it.parent; p != nil && p.kind != kindRoot; p = p.parent {
		out = append(out, p)
	}
	return out
}

// color is Job.getIconColor's name.
func (it *item) color() string {
	if it.dom.childText("disabled") == "true" {
		return "disabled"
	}
	builds := it.runs.all()
	if len(builds) == 0 {
		return "notbuilt"
	}
	last := builds[len(builds)-1]
	anime := ""
	if last.building() {
		anime = "_anime"
		// The colour while building is the previous result's.
		if len(builds) < 2 {
			return "notbuilt_anime"
		}
		last = builds[len(builds)-2]
	}
	switch last.res() {
	case "SUCCESS":
		return "blue" + anime
	case "UNSTABLE":
		return "yellow" + anime
	case "ABORTED":
		return "aborted" + anime
	default:
		return "red" + anime
	}
}

// kindOfRoot decides the item type from the config.xml root element, as
// XStream does from the element name.
func kindOfRoot(root string) (itemKind, string, error) {
	switch root {
	case "project":
		return kindFreestyle, "", nil
	case "flow-definition", classPipeline:
		return kindPipeline, "workflow-job", nil
	case classFolder:
		return kindFolder, "cloudbees-folder", nil
	}
	return 0, "", fmt.Errorf("com.thoughtworks.xstream.mapper.CannotResolveClassException: %s", root)
}

// config is a posted config.xml: its item kind, DOM and stored form.
type config struct {
	kind   itemKind
	dom    *xnode
	stored []byte
}

// readConfig parses a posted config.xml. Errors are what Jenkins turns
// into a 500.
func (j *Jenkins) readConfig(body []byte) (*config, error) {
	dom, err := parseXML(body)
	if err != nil {
		return nil, fmt.Errorf("java.io.IOException: Unable to read: %w", err)
	}
	kind, plugin, err := kindOfRoot(dom.name)
	if err != nil {
		return nil, fmt.Errorf("java.io.IOException: Unable to read: %w", err)
	}
	if plugin != "" && !j.pluginActive(plugin) {
		return nil, fmt.Errorf("java.io.IOException: Unable to read: com.thoughtworks.xstream.mapper.CannotResolveClassException: %s (plugin %s is not installed)", dom.name, plugin)
	}
	j.dropUnknownClasses(dom)
	return &config{kind: kind, dom: dom, stored: identityCopy(body)}, nil
}

// dropUnknownClasses removes the elements whose class belongs to a plugin
// that is not active: XStream2's RobustReflectionConverter treats an
// unresolvable class in a field as a non-critical error (logged, reported
// by OldDataMonitor) and leaves the field null, so Jenkins answers 200 and
// the job has, say, a null SCM. The posted text stays the job's
// config.xml until the next save (identity copy); the saved form lacks
// the element.
func (j *Jenkins) dropUnknownClasses(n *xnode) {
	kids := n.kids[:0]
	for _, k := range n.kids {
		if e, ok := k.(*xnode); ok {
			if plugin := pluginOf(e); plugin != "" && !j.pluginActive(plugin) {
				continue
			}
			j.dropUnknownClasses(e)
		}
		kids = append(kids, k)
	}
	n.kids = kids
}

// readBody reads the request body and parses it; on failure it answers
// 500 with the exception (after prefix) and returns false.
func readBody[T any](q *request, prefix string, parse func([]byte) (T, error)) (T, bool) {
	var zero T
	body, err := io.ReadAll(q.r.Body)
	if err == nil {
		var v T
		if v, err = parse(body); err == nil {
			return v, true
		}
	}
	if prefix != "" {
		err = fmt.Errorf("%s: %w", prefix, err)
	}
	serverError(q, err)
	return zero, false
}

// createItem is ItemGroupMixIn.createTopLevelItem.
func (j *Jenkins) createItem(q *request, parent *item) {
	if !requirePOST(q) || !j.require(q, ItemCreate) {
		return
	}
	ct := q.r.Header.Get("Content-Type")
	// req.getParameter sees the query and, for forms, the body.
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
		_ = q.r.ParseMultipartForm(1 << 20)
	}
	vals := q.r.URL.Query()
	if q.r.Form != nil {
		vals = q.r.Form
	}
	mode := vals.Get("mode")
	if ct == "" && mode != "copy" {
		failure(q, "No Content-Type header set")
		return
	}
	isXML := strings.HasPrefix(ct, "application/xml") || strings.HasPrefix(ct, "text/xml")
	name, ok := vals["name"]
	if !ok {
		failure(q, "Query parameter 'name' is required")
		return
	}
	n := name[0]
	if msg := checkGoodName(n); msg != "" {
		failure(q, msg)
		return
	}
	n = strings.TrimSpace(n)
	j.mu.Lock()
	exists := parent.child(n) != nil
	j.mu.Unlock()
	if exists {
		failure(q, "A job already exists with the name ‘"+n+"’")
		return
	}
	switch {
	case mode == "copy":
		from := vals.Get("from")
		src := j.resolveItem(parent, from)
		if src == nil || src.kind == kindRoot {
			if from == "" {
				failure(q, "Specify which job to copy")
			} else {
				failure(q, "No such job: "+from)
			}
			return
		}
		// ItemGroupMixIn.copy: src.checkPermission(Item.EXTENDED_READ).
		if !j.require(q, ItemExtendedRead) {
			return
		}
		j.configuringScript(q.p, src.dom) // the copy is loaded, so readResolve runs
		it := j.insertItem(q, parent, n, src.kind, src.dom, src.config)
		if it == nil {
			return
		}
		q.w.Header().Set("Location", q.root+it.url()+"configure")
		q.w.WriteHeader(http.StatusFound)
	case isXML:
		cfg, ok := readBody(q, "", j.readConfig)
		if ok {
			j.configuringScript(q.p, cfg.dom)
		}
		if ok && j.insertItem(q, parent, n, cfg.kind, cfg.dom, cfg.stored) != nil {
			q.w.WriteHeader(http.StatusOK)
		}
	case mode == "":
		failure(q, "No mode given")
	default:
		kind, plugin, err := kindOfRoot(map[string]string{
			"hudson.model.FreeStyleProject": "project",
			classPipeline:                   classPipeline,
			classFolder:                     classFolder,
		}[mode])
		if err != nil || plugin != "" && !j.pluginActive(plugin) {
			failure(q, "No item type ‘"+mode+"’ is known")
			return
		}
		dom := defaultDOM(kind)
		it := j.insertItem(q, parent, n, kind, dom, xstreamXML(dom, j.versions()))
		if it == nil {
			return
		}
		q.w.Header().Set("Location", q.root+it.url()+"configure")
		q.w.WriteHeader(http.StatusFound)
	}
}

// defaultDOM is the config of an item created from the UI form.
func defaultDOM(kind itemKind) *xnode {
	switch kind {
	case kindFolder:
		return &xnode{name: classFolder, kids: []any{&xnode{name: "description"}, &xnode{name: "properties"}}}
	case kindPipeline:
		return &xnode{name: "flow-definition", kids: []any{&xnode{name: "description"}, &xnode{name: "keepDependencies", kids: []any{"false"}}, &xnode{name: "properties"}}}
	}
	return &xnode{name: "project", kids: []any{&xnode{name: "description"}, &xnode{name: "keepDependencies", kids: []any{"false"}},
		&xnode{name: "properties"}, &xnode{name: "canRoam", kids: []any{"true"}}, &xnode{name: "disabled", kids: []any{"false"}},
		&xnode{name: "builders"}, &xnode{name: "publishers"}, &xnode{name: "buildWrappers"}}}
}

// insertItem adds a child, or answers the "already exists" Failure when
// the name was taken since createItem checked it (Jenkins' createItem is
// synchronized, so clients never see anything else).
func (j *Jenkins) insertItem(q *request, parent *item, name string, kind itemKind, dom *xnode, config []byte) *item {
	j.mu.Lock()
	defer j.mu.Unlock()
	if parent.child(name) != nil {
		failure(q, "A job already exists with the name ‘"+name+"’")
		return nil
	}
	it := &item{name: name, kind: kind, parent: parent, dom: dom, config: config, runs: newHistory()}
	if kind == kindFolder {
		it.children = map[string]*item{}
		it.store = newStore("folder")
	}
	parent.children[foldName(name)] = it
	return it
}

// resolveItem is Jenkins.getItem(name, context): relative to the parent,
// or absolute with a leading slash.
func (j *Jenkins) resolveItem(ctx *item, name string) *item {
	j.mu.Lock()
	defer j.mu.Unlock()
	cur := ctx
	if strings.HasPrefix(name, "/") {
		cur = j.root
	}
	for _, seg := range strings.Split(strings.Trim(name, "/"), "/") {
		if seg == "" || cur == nil {
			return nil
		}
		if seg == ".." {
			cur = cur.parent
			continue
		}
		cur = cur.child(seg)
	}
	return cur
}

// ItemByFullName returns whether an item exists and its Java class.
func (j *Jenkins) ItemByFullName(fullName string) (class string, ok bool) {
	it := j.resolveItem(j.root, "/"+fullName)
	if it == nil || it.kind == kindRoot {
		return "", false
	}
	return it.class(), true
}

// configXML is AbstractItem.doConfigDotXml.
func (j *Jenkins) configXML(q *request, it *item) {
	switch q.r.Method {
	case http.MethodGet, http.MethodHead:
		if !j.require(q, ItemExtendedRead) {
			return
		}
		j.mu.Lock()
		body := it.config
		if it.kind == kindFolder {
			body = j.folderConfigWithStore(it)
		}
		j.mu.Unlock()
		writeBody(q, "application/xml", body)
	case http.MethodPost:
		if !j.require(q, ItemConfigure) {
			return
		}
		cfg, ok := readBody(q, "java.io.IOException: Failed to persist config.xml", j.readConfig)
		if !ok {
			return
		}
		if cfg.kind != it.kind {
			serverError(q, fmt.Errorf("java.io.IOException: Expecting class %s but got class %s instead", it.class(), (&item{kind: cfg.kind}).class()))
			return
		}
		j.configuringScript(q.p, cfg.dom)
		j.mu.Lock()
		it.dom, it.config = cfg.dom, cfg.stored
		if it.kind == kindFolder && j.o.folderDropsCreds && findDescendant(cfg.dom, folderCredsProperty) == nil {
			it.store = newStore("folder")
		}
		if it.store != nil {
			it.store.saved = false // the posted text is config.xml again
		}
		j.mu.Unlock()
		q.w.WriteHeader(http.StatusOK)
	default:
		q.w.WriteHeader(http.StatusBadRequest)
	}
}

// submitDescription is AbstractItem.doSubmitDescription, the UI's "Edit
// description": the whole description is replaced and the item saved, so
// config.xml is in XStream's form afterwards; then a redirect to ".".
func (j *Jenkins) submitDescription(q *request, it *item) {
	if !requirePOST(q) || !j.require(q, ItemConfigure) {
		return
	}
	if err := q.r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		serverError(q, err)
		return
	}
	desc := q.r.Form.Get("description")
	j.mu.Lock()
	d := it.dom.child("description")
	if d == nil {
		d = &xnode{name: "description"}
		it.dom.kids = append([]any{d}, it.dom.kids...)
	}
	d.kids = []any{desc}
	it.config = xstreamXML(it.dom, j.versionsLocked())
	if it.store != nil {
		it.store.saved = true
	}
	j.mu.Unlock()
	redirect(q, ".")
}

// deleteItem removes an item; status is 302 (doDelete) or 204 (DELETE).
func (j *Jenkins) deleteItem(q *request, it *item, status int) {
	if !j.require(q, ItemDelete) {
		return
	}
	j.mu.Lock()
	parent := it.parent
	if parent.children[foldName(it.name)] == it {
		delete(parent.children, foldName(it.name))
	}
	j.mu.Unlock()
	if status == http.StatusFound {
		q.w.Header().Set("Location", q.root+parent.url())
	}
	q.w.WriteHeader(status)
}

func findDescendant(n *xnode, name string) *xnode {
	if n == nil {
		return nil
	}
	if n.name == name {
		return n
	}
	for _, e := range n.elems() {
		if d := findDescendant(e, name); d != nil {
			return d
		}
	}
	return nil
}

// serveItemAPI serves .../api/json for the root, folders and jobs.
func (j *Jenkins) serveItemAPI(q *request, it *item, segs []string) {
	if len(segs) != 1 || segs[0] != "json" {
		if len(segs) == 1 && segs[0] == "xml" {
			failure(q, "jenkinstest: only api/json is emulated")
			return
		}
		notFound(q)
		return
	}
	j.mu.Lock()
	var n *node
	if it.kind == kindRoot {
		n = j.rootModel(q)
	} else {
		n = j.itemModel(q, it)
	}
	j.mu.Unlock()
	j.writeAPI(q, n)
}

// rootModel is hudson.model.Hudson's exported bean; call with j.mu held.
func (j *Jenkins) rootModel(q *request) *node {
	n := newNode("hudson.model.Hudson")
	n.add("assignedLabels", []*node{newNode("").add("name", "built-in")})
	n.add("mode", "NORMAL").add("nodeDescription", "the Jenkins controller's built-in node").add("nodeName", "").add("numExecutors", 2)
	n.add("description", nil)
	n.add("jobs", j.childModels(q, j.root))
	n.add("overallLoad", newNode(""))
	n.add("primaryView", newNode("hudson.model.AllView").addVis("name", 2, "all").addVis("url", 2, q.root))
	n.add("quietDownReason", nil).add("quietingDown", false).add("slaveAgentPort", -1)
	n.add("unlabeledLoad", newNode("jenkins.model.UnlabeledLoadStatistics"))
	// Jenkins.getConfiguredRootUrl, exported as "url": null when unset.
	var configured any
	if j.rootURL != "" {
		configured = j.rootURL
	}
	n.add("url", configured).add("useCrumbs", j.o.csrf).add("useSecurity", true)
	n.add("views", []*node{newNode("hudson.model.AllView").addVis("name", 2, "all").addVis("url", 2, q.root)})
	return n
}

func (j *Jenkins) childModels(q *request, it *item) []*node {
	out := []*node{}
	if !j.has(q.p, ItemRead) { // items a user cannot read are invisible
		return out
	}
	for _, c := range it.sortedChildren() {
		out = append(out, j.itemModel(q, c))
	}
	return out
}

// itemModel exports an item: name, url and color at visibility 2 (what a
// parent's listing shows at depth 0), everything else at 1.
func (j *Jenkins) itemModel(q *request, it *item) *node {
	n := newNodeCap(it.class(), 28)
	n.add("actions", []*node{})
	if d := it.dom.child("description"); d != nil {
		n.add("description", d.text())
	} else {
		n.add("description", nil)
	}
	n.add("displayName", it.name).add("displayNameOrNull", nil).add("fullDisplayName", j.displayPath(it))
	n.add("fullName", it.fullName())
	n.addVis("name", 2, it.name)
	n.addVis("url", 2, q.root+it.url())
	if it.kind == kindFolder {
		n.add("healthReport", []*node{})
		n.add("jobs", j.childModels(q, it))
		n.add("primaryView", newNode("com.cloudbees.hudson.plugins.folder.views.DefaultFolderViewHolder$AllView").addVis("name", 2, "All").addVis("url", 2, q.root+it.url()))
		n.add("views", []*node{newNode("hudson.model.AllView").addVis("name", 2, "All").addVis("url", 2, q.root+it.url())})
		return n
	}
	n.add("buildable", it.dom.childText("disabled") != "true")
	all := it.runs.all()
	builds := []*node{}
	for i := len(all) - 1; i >= 0; i-- {
		builds = append(builds, j.buildRef(q, it, all[i]))
	}
	n.add("builds", builds)
	n.addVis("color", 2, it.color())
	first, last := (*node)(nil), (*node)(nil)
	if len(all) > 0 {
		first = j.buildRef(q, it, all[0])
		last = j.buildRef(q, it, all[len(all)-1])
	}
	n.add("firstBuild", first)
	n.add("healthReport", []*node{})
	n.add("inQueue", it.runs.isQueued())
	n.add("keepDependencies", false)
	n.add("lastBuild", last)
	n.add("lastCompletedBuild", j.buildRef(q, it, it.runs.last(func(b *build) bool { return !b.building() })))
	n.add("lastFailedBuild", j.buildRef(q, it, it.runs.last(func(b *build) bool { return b.res() == "FAILURE" })))
	// Builds end SUCCESS or FAILURE here, so stable = successful and
	// unsuccessful = completed but not SUCCESS.
	n.add("lastStableBuild", j.buildRef(q, it, it.runs.last(func(b *build) bool { return b.res() == "SUCCESS" })))
	n.add("lastSuccessfulBuild", j.buildRef(q, it, it.runs.last(func(b *build) bool { return b.res() == "SUCCESS" })))
	n.add("lastUnstableBuild", j.buildRef(q, it, it.runs.last(func(b *build) bool { return b.res() == "UNSTABLE" })))
	n.add("lastUnsuccessfulBuild", j.buildRef(q, it, it.runs.last(func(b *build) bool { return !b.building() && b.res() != "SUCCESS" })))
	n.add("nextBuildNumber", it.runs.nextNumber())
	n.add("property", []*node{})
	n.add("queueItem", j.queuedItem(q, it))
	n.add("concurrentBuild", false)
	n.add("disabled", it.dom.childText("disabled") == "true")
	if it.kind == kindFreestyle {
		// The rest of AbstractProject's @Exported properties, in Stapler's
		// order (superclass first, then by name).
		n.add("downstreamProjects", []*node{}).add("labelExpression", nil).
			add("scm", newNode("hudson.scm.NullSCM")).add("upstreamProjects", []*node{})
	}
	return n
}

// unsandboxedScript returns the script of an inline CpsFlowDefinition
// that runs outside the sandbox, and whether there is one.
func unsandboxedScript(dom *xnode) (string, bool) {
	def := dom.child("definition")
	if def == nil || def.attr("class") != "org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition" || def.childText("sandbox") == "true" {
		return "", false
	}
	return def.childText("script"), true
}

func scriptHash(script string) string {
	sum := sha256.Sum256([]byte("groovy:" + script))
	return hex.EncodeToString(sum[:])
}

// configuringScript is ScriptApproval.configuring(…, approveIfAdmin) as
// CpsFlowDefinition calls it when a job is saved: an unsandboxed script
// saved by a user holding Overall/Administer is approved; anyone else's
// waits for an administrator (pending), and builds fail until then.
func (j *Jenkins) configuringScript(p principal, dom *xnode) {
	script, ok := unsandboxedScript(dom)
	if !ok || !j.has(p, Administer) {
		return
	}
	j.mu.Lock()
	j.approved[scriptHash(script)] = true
	j.mu.Unlock()
}

// scriptApproved is ScriptApproval.using: true for sandboxed scripts.
func (j *Jenkins) scriptApproved(dom *xnode) bool {
	script, ok := unsandboxedScript(dom)
	if !ok {
		return true
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.approved[scriptHash(script)]
}
