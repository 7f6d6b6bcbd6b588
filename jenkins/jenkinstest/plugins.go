package jenkinstest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// plugin is one installed plugin (PluginWrapper).
type plugin struct {
	shortName string
	longName  string
	version   string
	active    bool
	enabled   bool
	deps      []string // shortName@version
	// pending is the version installed but waiting for a restart.
	pending string
}

// catalogEntry is what the emulated update center offers.
type catalogEntry struct {
	shortName, longName, version string
	deps                         []string
}

// catalog lists the plugins the emulator knows, with realistic JEP-229
// versions; the first block is installed by default.
var catalog = []catalogEntry{
	{"cloudbees-folder", "Folders Plugin", "6.1012.v79a_86a_1ea_c1f", []string{"credentials@1415.v831096eb_5534"}},
	{"credentials", "Credentials Plugin", "1488.v9049e8c8b_d98", []string{"structs@350.v3b_30f09f2363"}},
	{"credentials-binding", "Credentials Binding Plugin", "687.v619cb_15e923f", []string{"credentials@1415.v831096eb_5534", "plain-credentials@199.v9f8e1f741799"}},
	{"oidc-provider", "OpenID Connect Provider Plugin", "212.v7657c4d45c02", []string{"credentials@1415.v831096eb_5534", "jjwt-api@0.11.5-120.v0268cf544b_89"}},
	{"plain-credentials", "Plain Credentials Plugin", "199.v9f8e1f741799", []string{"credentials@1415.v831096eb_5534"}},
	{"workflow-job", "Pipeline: Job", "1520.v56d65e3b_4566", []string{"workflow-api@1371.ve334280b_d611"}},
	{"workflow-cps", "Pipeline: Groovy", "4106.v7a_8a_8176d450", []string{"workflow-job@1520.v56d65e3b_4566", "script-security@1373.vb_b_4a_a_c26fa_00"}},
	{"workflow-api", "Pipeline: API", "1371.ve334280b_d611", nil},
	{"script-security", "Script Security Plugin", "1373.vb_b_4a_a_c26fa_00", nil},
	{"structs", "Structs Plugin", "350.v3b_30f09f2363", nil},
	{"jjwt-api", "Java JSON Web Token (JJWT) Plugin", "0.11.5-120.v0268cf544b_89", nil},
	{"git", "Git plugin", "5.7.0", []string{"credentials@1415.v831096eb_5534", "scm-api@704.v3ce5c542825a_", "workflow-scm-step@437.v05a_f66b_e5ef8"}},
	// The plugins that contribute the steps the generated Pipelines use
	// (workflow-cps depends on none of them: a controller may lack each).
	{"workflow-durable-task-step", "Pipeline: Nodes and Processes", "1405.v1fcd4a_d00096", []string{"durable-task@587.v84b_877235b_45", "workflow-api@1371.ve334280b_d611"}},
	{"durable-task", "Durable Task Plugin", "587.v84b_877235b_45", nil},
	{"workflow-basic-steps", "Pipeline: Basic Steps", "1079.vce64b_a_929c5a_", []string{"workflow-api@1371.ve334280b_d611"}},
	{"pipeline-stage-step", "Pipeline: Stage Step", "322.vecffa_99f371c", []string{"workflow-api@1371.ve334280b_d611"}},
	{"workflow-scm-step", "Pipeline: SCM Step", "437.v05a_f66b_e5ef8", nil},
	{"scm-api", "SCM API Plugin", "704.v3ce5c542825a_", nil},
	{"pipeline-groovy-lib", "Pipeline: Groovy Libraries", "752.vdddedf804e72", []string{"workflow-cps@4106.v7a_8a_8176d450", "scm-api@704.v3ce5c542825a_"}},
	// Available but not installed by default.
	{"configuration-as-code", "Configuration as Code Plugin", "1985.vdda_32d0c4ea_b_", nil},
	{"job-dsl", "Job DSL", "1.90", nil},
	{"matrix-auth", "Matrix Authorization Strategy Plugin", "3.2.6", nil},
}

const defaultInstalled = 20 // the first entries of catalog

func defaultPlugins(without []string, versions map[string]string) []*plugin {
	skip := map[string]bool{}
	for _, w := range without {
		skip[strings.TrimSpace(w)] = true
	}
	var out []*plugin
	for _, c := range catalog[:defaultInstalled] {
		if skip[c.shortName] {
			continue
		}
		v := c.version
		if versions[c.shortName] != "" {
			v = versions[c.shortName]
		}
		out = append(out, &plugin{shortName: c.shortName, longName: c.longName, version: v, active: true, enabled: true, deps: c.deps})
	}
	activate(out)
	return out
}

// activate decides which plugins load, as PluginManager does at startup:
// an enabled plugin loads only when every mandatory dependency is
// installed at the version it needs (or later) and loads itself; the
// others stay inactive ("Failed to load: … Plugin is missing: …" in
// Manage Jenkins » Plugins), their classes and steps unknown.
func activate(plugins []*plugin) {
	byName := map[string]*plugin{}
	for _, p := range plugins {
		byName[p.shortName] = p
		p.active = p.enabled && p.version != ""
	}
	for changed := true; changed; {
		changed = false
		for _, p := range plugins {
			if p.active && !depsLoaded(p, byName) {
				p.active, changed = false, true
			}
		}
	}
}

// depsLoaded reports whether p's mandatory dependencies are active at the
// versions p needs.
func depsLoaded(p *plugin, byName map[string]*plugin) bool {
	for _, d := range p.deps {
		name, min, _ := strings.Cut(d, "@")
		dep := byName[name]
		if dep == nil || !dep.active || compareVersions(dep.version, min) < 0 {
			return false
		}
	}
	return true
}

func (j *Jenkins) findPlugin(name string) *plugin {
	for _, p := range j.plugins {
		if p.shortName == name {
			return p
		}
	}
	return nil
}

// PluginActive reports whether plugin name is installed and active, so
// tests can watch an installation finish.
func (j *Jenkins) PluginActive(name string) bool { return j.pluginActive(name) }

// PluginVersion is the active version of plugin name, or "".
func (j *Jenkins) PluginVersion(name string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.advanceJobsLocked(time.Now())
	if p := j.findPlugin(name); p != nil && p.active {
		return p.version
	}
	return ""
}

// pluginActive reports whether a plugin is installed and active.
func (j *Jenkins) pluginActive(name string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.pluginActiveLocked(name)
}

func (j *Jenkins) pluginActiveLocked(name string) bool {
	j.advanceJobsLocked(time.Now())
	p := j.findPlugin(name)
	return p != nil && p.active && p.version != ""
}

// pluginAtLeast reports whether plugin name is active at version min or
// later (JEP-229 versions compare by their leading commit count).
func (j *Jenkins) pluginAtLeast(name, min string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.pluginAtLeastLocked(name, min)
}

func (j *Jenkins) pluginAtLeastLocked(name, min string) bool {
	p := j.findPlugin(name)
	return p != nil && p.active && p.version != "" && compareVersions(p.version, min) >= 0
}

// versionsLocked maps active plugins to their versions, for
// plugin="name@version" attributes; call with j.mu held.
func (j *Jenkins) versionsLocked() map[string]string {
	m := map[string]string{}
	for _, p := range j.plugins {
		if p.active && p.version != "" {
			m[p.shortName] = p.version
		}
	}
	return m
}

// versions is versionsLocked for callers not holding j.mu.
func (j *Jenkins) versions() map[string]string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.versionsLocked()
}

// installJob is an UpdateCenter InstallationJob. The update center runs
// its jobs one after another on a single installer thread, so each one
// finishes a download time after the one before it.
type installJob struct {
	id      int
	name    string
	version string
	// restart is a RestartJenkinsJob (updateCenter/safeRestart), queued
	// behind the downloads.
	restart bool
	// done is when the download completes; status is set then.
	done   time.Time
	status string // Pending, Success, SuccessButRequiresRestart, Failure
	err    string // errorMessage of a Failure
}

// statusNode is the job's exported status (DownloadJob.Pending, Success,
// SuccessButRequiresRestart; RestartJenkinsJob.Pending).
func (job *installJob) statusNode() *node {
	st := job.status
	if st == "" {
		st = "Pending"
		if job.restart {
			return newNode("hudson.model.UpdateCenter$RestartJenkinsJob$Pending").add("type", "Pending")
		}
	}
	return newNode("hudson.model.UpdateCenter$DownloadJob$"+st).add("success", st != "Pending" && st != "Failure").add("type", st)
}

// nullIfEmpty exports "" as null, as a Java null String.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// advanceJobsLocked completes the downloads whose time has come: a plugin
// that was not installed before is loaded at once (deploy(true),
// PluginManager.dynamicLoad; WithoutDynamicLoad says otherwise), an
// upgrade waits for a restart (SuccessButRequiresRestart). A queued
// RestartJenkinsJob starts the restart once every download is done and
// no build runs. Call with j.mu held.
func (j *Jenkins) advanceJobsLocked(now time.Time) {
	for _, job := range j.ucJobs {
		if job.restart || job.status != "" || now.Before(job.done) {
			continue
		}
		p := j.findPlugin(job.name)
		if p == nil {
			continue
		}
		if slices.Contains(j.o.failDownloads, job.name) {
			job.status, job.err = "Failure", "updates.jenkins.io"
			continue
		}
		byName := map[string]*plugin{}
		for _, q := range j.plugins {
			byName[q.shortName] = q
		}
		if p.version == "" && !j.o.noDynamicLoad && depsLoaded(p, byName) {
			p.version, p.pending, p.active, p.enabled = job.version, "", true, true
			job.status = "Success"
		} else {
			p.pending = job.version
			job.status = "SuccessButRequiresRestart"
		}
	}
	for _, job := range j.ucJobs {
		if !job.restart || !j.restartTill.IsZero() {
			continue
		}
		for _, other := range j.ucJobs {
			if !other.restart && other.status == "" {
				return
			}
		}
		if !j.queue.busy() {
			j.restartTill = now.Add(j.o.restartDuration)
		}
	}
}

func (j *Jenkins) servePlugins(q *request, segs []string) {
	switch segs[0] {
	case "pluginManager":
		switch {
		case len(segs) == 3 && segs[1] == "api" && segs[2] == "json":
			// PluginManager.getApi checks Jenkins.SYSTEM_READ (implied by
			// Administer), so Overall/Read alone gets a 403.
			if !j.require(q, SystemRead) {
				return
			}
			j.mu.Lock()
			n := newNode("hudson.LocalPluginManager")
			list := []*node{}
			for _, p := range j.plugins {
				if p.version != "" {
					list = append(list, pluginModel(p))
				}
			}
			n.add("plugins", list)
			j.mu.Unlock()
			j.writeAPI(q, n)
		case len(segs) == 2 && segs[1] == "installNecessaryPlugins":
			if requirePOST(q) && j.require(q, Administer) {
				j.installNecessaryPlugins(q)
			}
		case len(segs) == 1 || len(segs) == 2 && segs[1] == "updates":
			if j.require(q, Manage) {
				page(q, http.StatusOK, "Plugins")
			}
		default:
			notFound(q)
		}
	case "updateCenter":
		if len(segs) == 3 && segs[1] == "api" && segs[2] == "json" {
			if !j.require(q, Manage) {
				return
			}
			j.mu.Lock()
			n := newNode("hudson.model.UpdateCenter")
			n.add("availables", []*node{})
			jobs := []*node{}
			restartRequired := false
			for _, job := range j.ucJobs {
				if job.restart {
					jobs = append(jobs, newNode("hudson.model.UpdateCenter$RestartJenkinsJob").
						add("errorMessage", nil).add("id", job.id).add("type", "RestartJenkinsJob").
						addInline("status", job.statusNode()))
					continue
				}
				restartRequired = restartRequired || job.status == "SuccessButRequiresRestart"
				jobs = append(jobs, newNode("hudson.model.UpdateCenter$InstallationJob").
					add("errorMessage", nullIfEmpty(job.err)).add("id", job.id).add("type", "InstallationJob").
					add("name", job.name).
					addInline("status", job.statusNode()).
					add("plugin", newNode("hudson.model.UpdateSite$Plugin").add("name", job.name).add("version", job.version)))
			}
			n.add("jobs", jobs)
			n.add("restartRequiredForCompletion", restartRequired)
			n.add("sites", []*node{newNode("").add("connectionCheckUrl", "https://www.google.com/").add("dataTimestamp", 0).
				add("hasUpdates", false).add("id", "default").add("suggestedPluginsUrl", "https://updates.jenkins.io/platform-plugins.json").
				add("updates", []*node{}).add("url", "https://updates.jenkins.io/update-center.json")})
			j.mu.Unlock()
			j.writeAPI(q, n)
			return
		}
		if len(segs) == 2 && segs[1] == "safeRestart" {
			// UpdateCenter.doSafeRestart: @RequirePOST, Administer, a
			// RestartJenkinsJob behind the downloads, redirect to ".".
			if !requirePOST(q) || !j.require(q, Administer) {
				return
			}
			j.mu.Lock()
			queued := false
			for _, job := range j.ucJobs {
				queued = queued || job.restart
			}
			if !queued {
				j.ucJobs = append(j.ucJobs, &installJob{id: len(j.ucJobs) + 1, restart: true})
			}
			j.advanceJobsLocked(time.Now())
			j.mu.Unlock()
			q.w.Header().Set("Location", q.root+"updateCenter/")
			q.w.WriteHeader(http.StatusFound)
			return
		}
		if len(segs) == 1 {
			if j.require(q, Manage) {
				page(q, http.StatusOK, "Update Center")
			}
			return
		}
		notFound(q)
	case "safeRestart", "restart":
		// Jenkins.doSafeRestart / doRestart check Overall/Manage since
		// 2.475 (Administer before); safeRestart waits for running
		// builds only, not for the update center's downloads.
		perm := Administer
		if compareVersions(j.o.version, "2.475") >= 0 {
			perm = Manage
		}
		if !requirePOST(q) || !j.require(q, perm) {
			return
		}
		j.startRestart()
		q.w.Header().Set("Location", q.root)
		q.w.WriteHeader(http.StatusFound)
	}
}

func pluginModel(p *plugin) *node {
	deps := []*node{}
	for _, d := range p.deps {
		name, ver, _ := strings.Cut(d, "@")
		deps = append(deps, newNode("").add("optional", false).add("shortName", name).add("version", ver))
	}
	return newNode("").add("active", p.active).add("backupVersion", nil).add("bundled", false).
		add("deleted", false).add("dependencies", deps).add("detached", false).add("downgradable", false).
		add("enabled", p.enabled).add("hasUpdate", false).add("longName", p.longName).
		add("minimumJavaVersion", nil).add("pinned", false).add("requiredCoreVersion", "2.479.3").
		add("shortName", p.shortName).add("supportsDynamicLoad", "MAYBE").
		add("url", "https://plugins.jenkins.io/"+p.shortName+"/").add("version", p.version)
}

// installNecessaryPlugins is PluginManager.doInstallNecessaryPlugins:
// prevalidateConfig (Administer) reads the plugin="name@version"
// attribute of every element (a malformed one fails the request), and
// for each plugin not installed, or installed older than asked, queues
// an update center download of the catalog's version, its missing
// dependencies first (UpdateSite.Plugin.deploy(true)). It answers at once
// with a redirect to pluginManager/updates/: the downloads finish later
// (WithPluginDownloadTime). Unknown plugins are skipped, as Jenkins only
// logs them.
func (j *Jenkins) installNecessaryPlugins(q *request) {
	body, err := io.ReadAll(q.r.Body)
	if err != nil {
		serverError(q, err)
		return
	}
	dom, err := parseXML(body)
	if err != nil {
		serverError(q, fmt.Errorf("java.io.IOException: Failed to parse XML: org.xml.sax.SAXParseException: %w", err))
		return
	}
	var requested [][2]string
	var walk func(n *xnode) error
	walk = func(n *xnode) error {
		if a := n.attr("plugin"); a != "" {
			name, want, ok := strings.Cut(a, "@")
			if !ok || name == "" || want == "" || strings.Contains(want, "@") {
				return fmt.Errorf("java.io.IOException: Failed to parse XML: org.xml.sax.SAXException: Malformed plugin attribute: %s", a)
			}
			requested = append(requested, [2]string{name, want})
		}
		for _, k := range n.elems() {
			if err := walk(k); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(dom); err != nil {
		serverError(q, err)
		return
	}
	j.mu.Lock()
	now := time.Now()
	j.advanceJobsLocked(now)
	queued := map[string]bool{}
	for _, job := range j.ucJobs {
		if !job.restart && job.status == "" {
			queued[job.name] = true
		}
	}
	var deploy func(name, want string)
	deploy = func(name, want string) {
		entry := catalogEntryOf(name)
		if entry == nil || queued[name] {
			return
		}
		p := j.findPlugin(name)
		if p != nil && p.version != "" && (want == "" || compareVersions(p.version, want) >= 0 || compareVersions(p.version, entry.version) >= 0) {
			return // already good, or nothing newer to offer
		}
		if p != nil && p.pending == entry.version {
			return
		}
		queued[name] = true
		for _, d := range entry.deps {
			dn, dv, _ := strings.Cut(d, "@")
			deploy(dn, dv)
		}
		if p == nil {
			p = &plugin{shortName: name, longName: entry.longName, deps: entry.deps}
			j.plugins = append(j.plugins, p)
		}
		last := now
		for _, job := range j.ucJobs {
			if !job.restart && job.done.After(last) {
				last = job.done
			}
		}
		j.ucJobs = append(j.ucJobs, &installJob{id: len(j.ucJobs) + 1, name: name, version: entry.version, done: last.Add(j.o.downloadTime)})
	}
	for _, r := range requested {
		want := r[1]
		if want == "latest" {
			want = ""
		}
		deploy(r[0], want)
	}
	j.mu.Unlock()
	q.w.Header().Set("Location", q.root+"pluginManager/updates/")
	q.w.WriteHeader(http.StatusFound)
}

func catalogEntryOf(name string) *catalogEntry {
	for i := range catalog {
		if catalog[i].shortName == name {
			return &catalog[i]
		}
	}
	return nil
}

// compareVersions orders Jenkins plugin versions numerically where the
// dot-separated parts are numbers and lexically otherwise.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y string
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		nx, ex := strconv.Atoi(x)
		ny, ey := strconv.Atoi(y)
		switch {
		case ex == nil && ey == nil && nx != ny:
			if nx < ny {
				return -1
			}
			return 1
		case (ex != nil || ey != nil) && x != y:
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// startRestart makes the controller unavailable for the restart duration;
// pending plugins become active when it comes back. Like safeRestart it
// first lets running builds finish, in the background when there are any,
// so the request returns at once.
func (j *Jenkins) startRestart() {
	if j.restartWhenIdle() {
		return
	}
	go func() {
		for !j.restartWhenIdle() {
			select {
			case <-time.After(10 * time.Millisecond):
			case <-j.ctx.Done():
				return
			}
		}
	}()
}

// restartWhenIdle begins the restart if no build runs, and says whether it did.
func (j *Jenkins) restartWhenIdle() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.queue.busy() {
		return false
	}
	j.restartTill = time.Now().Add(j.o.restartDuration)
	return true
}

// restarting reports whether the controller is down for a restart, and
// completes the restart once the time is up.
func (j *Jenkins) restarting() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.advanceJobsLocked(time.Now())
	if j.restartTill.IsZero() {
		return false
	}
	if time.Now().Before(j.restartTill) {
		return true
	}
	j.restartTill = time.Time{}
	// Downloads still running when the JVM stopped are lost: their
	// plugins stay as they were.
	for _, p := range j.plugins {
		if p.pending != "" {
			p.version, p.pending, p.enabled = p.pending, "", true
		}
	}
	activate(j.plugins)
	j.ucJobs = nil
	j.session = randHex(4)
	j.sessions = map[string]string{}
	return false
}
