package jenkinstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// build is one run of a job.
type build struct {
	number  int
	queueID int
	started time.Time
	cause   string

	mu       sync.Mutex
	result   string // "" while building
	duration time.Duration
	console  bytes.Buffer
}

func (b *build) building() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.result == ""
}

func (b *build) res() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.result
}

func (b *build) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.console.Write(p)
}

func (b *build) logf(format string, args ...any) { fmt.Fprintf(b, format, args...) }

// queueItem is a hudson.model.Queue item.
type queueItem struct {
	id    int
	job   *item
	since time.Time
	quiet time.Duration // the quiet period it waits
	build *build
	cause string
}

func (it *item) lastWhere(pred func(*build) bool) *build {
	for i := len(it.builds) - 1; i >= 0; i-- {
		if pred(it.builds[i]) {
			return it.builds[i]
		}
	}
	return nil
}

func buildClass(it *item) string {
	if it.kind == kindPipeline {
		return "org.jenkinsci.plugins.workflow.job.WorkflowRun"
	}
	return "hudson.model.FreeStyleBuild"
}

// buildRef is a build as a nested reference (number and url).
func (j *Jenkins) buildRef(q *request, it *item, b *build) *node {
	if b == nil {
		return nil
	}
	return newNode(buildClass(it)).addVis("number", 2, b.number).addVis("url", 2, q.root+it.url()+strconv.Itoa(b.number)+"/")
}

// buildModel is a Run's exported bean.
func (j *Jenkins) buildModel(q *request, it *item, b *build) *node {
	b.mu.Lock()
	defer b.mu.Unlock()
	var result any
	if b.result != "" {
		result = b.result
	}
	dur := b.duration
	return newNode(buildClass(it)).
		add("actions", []*node{newNode("hudson.model.CauseAction").add("causes", []*node{newNode("hudson.model.Cause$UserIdCause").add("shortDescription", b.cause)})}).
		add("artifacts", []*node{}).add("building", b.result == "").add("description", nil).
		add("displayName", "#"+strconv.Itoa(b.number)).add("duration", dur.Milliseconds()).
		add("estimatedDuration", dur.Milliseconds()).add("executor", nil).
		add("fullDisplayName", j.displayPath(it)+" #"+strconv.Itoa(b.number)).add("id", strconv.Itoa(b.number)).
		add("keepLog", false).addVis("number", 2, b.number).add("queueId", b.queueID).add("result", result).
		add("timestamp", b.started.UnixMilli()).addVis("url", 2, q.root+it.url()+strconv.Itoa(b.number)+"/").
		add("builtOn", "").add("changeSet", newNode("hudson.scm.EmptyChangeLogSet").add("items", []*node{}).add("kind", nil)).
		add("culprits", []*node{})
}

// triggerBuild is ParameterizedJobMixIn.doBuild: the delay parameter (or
// the quiet period), 409 for a disabled job, Item/Build, then POST (or an
// API token: BuildAuthorizationToken.checkPermission lets those GET), and
// 201 with the queue item's Location. doBuildWithParameters checks the
// permission first and refuses jobs without parameter definitions (the
// emulator does not model parameters beyond that).
func (j *Jenkins) triggerBuild(q *request, it *item, withParams bool) {
	quiet := j.o.quietPeriod
	if v := q.r.URL.Query()["delay"]; len(v) > 0 {
		d, err := parseTimeDuration(v[0])
		if err != nil {
			serverError(q, err)
			return
		}
		quiet = d.Truncate(time.Second) // schedule2 gets delay.getTimeInSeconds()
	}
	j.mu.Lock()
	disabled := it.dom.childText("disabled") == "true"
	parameterized := findDescendant(it.dom.child("properties"), "hudson.model.ParametersDefinitionProperty") != nil
	j.mu.Unlock()
	authorized := func() bool {
		if !j.require(q, ItemBuild) {
			return false
		}
		if q.r.Method != http.MethodPost && !q.p.apiToken {
			q.w.Header().Set("Allow", http.MethodPost)
			methodNotAllowed(q)
			return false
		}
		return true
	}
	if withParams && !authorized() {
		return
	}
	if disabled {
		// HttpResponses.error(SC_CONFLICT, new IOException(...)) prints the
		// exception as text/plain; doBuildWithParameters' message ends in "!".
		bang := ""
		if withParams {
			bang = "!"
		}
		q.w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		q.w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(q.w, "java.io.IOException: %s is not buildable%s\n", it.fullName(), bang)
		return
	}
	if withParams && !parameterized {
		serverError(q, javaError("java.lang.IllegalStateException: This build is not parameterized!"))
		return
	}
	if !withParams && !authorized() {
		return
	}
	cause := "Started by user " + q.p.name()
	if q.p.user == nil {
		cause = "Started by anonymous user"
	}
	j.mu.Lock()
	// A job already waiting in the queue absorbs the new request.
	for _, qi := range j.queue {
		if qi.job == it && qi.build == nil {
			j.mu.Unlock()
			q.w.Header().Set("Location", q.root+"queue/item/"+strconv.Itoa(qi.id)+"/")
			q.w.WriteHeader(http.StatusCreated)
			return
		}
	}
	qi := &queueItem{id: j.nextQueueID, job: it, since: j.o.now(), quiet: quiet, cause: cause}
	j.nextQueueID++
	j.queue[qi.id] = qi
	it.queued = true
	j.running.Add(1)
	j.mu.Unlock()
	go j.runQueued(qi, q.root)
	q.w.Header().Set("Location", q.root+"queue/item/"+strconv.Itoa(qi.id)+"/")
	q.w.WriteHeader(http.StatusCreated)
}

// runQueued waits out the quiet period and for the job's previous build
// (jobs do not run concurrently), then runs the build.
func (j *Jenkins) runQueued(qi *queueItem, root string) {
	defer j.running.Done()
	t := time.NewTimer(qi.quiet)
	select {
	case <-t.C:
	case <-j.ctx.Done():
		t.Stop()
		return
	}
	it := qi.job
	for {
		j.mu.Lock()
		if !it.running {
			break
		}
		j.mu.Unlock()
		select {
		case <-time.After(10 * time.Millisecond):
		case <-j.ctx.Done():
			return
		}
	}
	// j.mu is held here.
	b := &build{number: it.next, queueID: qi.id, started: j.o.now(), cause: qi.cause}
	it.next++
	it.builds = append(it.builds, b)
	it.running, it.queued = true, false
	j.active++
	qi.build = b
	dom := it.dom
	kind := it.kind
	ws, err := j.workspace(it)
	j.mu.Unlock()

	start := time.Now()
	result := "FAILURE"
	b.logf("%s\n", qi.cause)
	switch {
	case err != nil:
		b.logf("ERROR: %v\n", err)
	case kind == kindPipeline:
		b.logf("ERROR: jenkinstest does not execute Pipeline scripts; only freestyle jobs with shell steps run in the emulator\n")
	default:
		result = j.runFreestyle(it, b, dom, ws, root)
	}
	b.logf("Finished: %s\n", result)
	b.mu.Lock()
	b.result, b.duration = result, time.Since(start)
	b.mu.Unlock()
	j.mu.Lock()
	it.running = false
	j.active--
	j.mu.Unlock()
}

// workspace creates the job's workspace; call with j.mu held.
func (j *Jenkins) workspace(it *item) (string, error) {
	if j.workDir == "" {
		d, err := os.MkdirTemp("", "jenkinstest-")
		if err != nil {
			return "", err
		}
		j.workDir = d
	}
	ws := filepath.Join(j.workDir, "workspace", filepath.FromSlash(it.fullName()))
	if err := os.MkdirAll(ws, 0o700); err != nil {
		return "", err
	}
	if err := os.MkdirAll(ws+"@tmp", 0o700); err != nil {
		return "", err
	}
	return ws, nil
}

// buildEnv is the build's characteristic environment (what Run.getEnvironment
// contributes, minus the node's own variables).
func (j *Jenkins) buildEnv(root string, it *item, number int, ws string) map[string]string {
	n := strconv.Itoa(number)
	env := map[string]string{
		"JENKINS_URL": root, "HUDSON_URL": root,
		"JOB_NAME": it.fullName(), "JOB_BASE_NAME": it.name, "JOB_URL": root + it.url(),
		"BUILD_NUMBER": n, "BUILD_ID": n, "BUILD_DISPLAY_NAME": "#" + n,
		"BUILD_URL": root + it.url() + n + "/",
		"BUILD_TAG": "jenkins-" + strings.ReplaceAll(it.fullName(), "/", "-") + "-" + n,
		"NODE_NAME": "built-in", "NODE_LABELS": "built-in", "EXECUTOR_NUMBER": "0",
	}
	if ws != "" {
		env["WORKSPACE"], env["WORKSPACE_TMP"] = ws, ws+"@tmp"
	}
	return env
}

// runFreestyle binds credentials, runs the shell steps and returns the result.
func (j *Jenkins) runFreestyle(it *item, b *build, dom *xnode, ws, root string) string {
	console := redact.NewWriter(b)
	defer console.Close()
	fmt.Fprintf(console, "Running as SYSTEM\nBuilding in workspace %s\n", ws)
	env := j.buildEnv(root, it, b.number, ws)
	for _, kv := range j.o.buildEnv {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	var cleanup []string
	defer func() {
		for _, p := range cleanup {
			_ = os.RemoveAll(p)
		}
	}()
	if wrappers := dom.child("buildWrappers"); wrappers != nil && j.pluginActive("credentials-binding") {
		for _, w := range wrappers.elems() {
			if w.name != "org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper" {
				continue
			}
			for _, bind := range w.child("bindings").elems() {
				vars, secrets, files, err := j.bind(it, bind, env, ws)
				cleanup = append(cleanup, files...)
				if err != nil {
					fmt.Fprintf(console, "ERROR: %v\n", err)
					return "FAILURE"
				}
				console.Add(secrets...)
				for k, v := range vars {
					env[k] = v
				}
			}
		}
	}
	for _, step := range dom.child("builders").elems() {
		if step.name != "hudson.tasks.Shell" {
			fmt.Fprintf(console, "ERROR: jenkinstest does not emulate the build step %s\n", step.name)
			return "FAILURE"
		}
		if err := j.runShell(console, step.childText("command"), env, ws); err != nil {
			console.Flush()
			fmt.Fprintf(console, "Build step 'Execute shell' marked build as failure\n")
			return "FAILURE"
		}
	}
	return "SUCCESS"
}

// bind resolves one credentials binding: the variables it sets, the values
// to mask, and files to remove after the build.
func (j *Jenkins) bind(it *item, bind *xnode, env map[string]string, ws string) (map[string]string, []string, []string, error) {
	id := bind.childText("credentialsId")
	j.mu.Lock()
	c, owner := j.findCredential(it, id)
	var secret, fileName string
	var err error
	if c != nil {
		switch c.class {
		case ClassIDTokenString, ClassIDTokenFile:
			// A fresh token at every binding, as getSecret()/getContent() mint one.
			secret, err = j.mint(c, tokenIssuer(env["JENKINS_URL"], c, owner), env, true)
			fileName = "id_token"
		case ClassSecretText:
			secret = c.secret
		case ClassSecretFile:
			secret, fileName = string(c.secretBytes), c.fileName
		case ClassUsernamePasswd:
			secret = c.password
		}
	}
	j.mu.Unlock()
	if c == nil {
		return nil, nil, nil, javaError(fmt.Sprintf("Could not find credentials entry with ID '%s'", id))
	}
	if err != nil {
		return nil, nil, nil, err
	}
	vars := map[string]string{}
	switch bind.name {
	case "org.jenkinsci.plugins.credentialsbinding.impl.StringBinding":
		if c.class == ClassSecretFile || c.class == ClassUsernamePasswd {
			return nil, nil, nil, javaError(fmt.Sprintf("Credentials '%s' is of type '%s' where '%s' was expected", id, credClasses[c.class].typeName, "org.jenkinsci.plugins.plaincredentials.StringCredentials"))
		}
		vars[bind.childText("variable")] = secret
		return vars, []string{secret}, nil, nil
	case "org.jenkinsci.plugins.credentialsbinding.impl.FileBinding":
		if c.class != ClassIDTokenFile && c.class != ClassSecretFile {
			return nil, nil, nil, javaError(fmt.Sprintf("Credentials '%s' is of type '%s' where '%s' was expected", id, credClasses[c.class].typeName, "org.jenkinsci.plugins.plaincredentials.FileCredentials"))
		}
		dir := filepath.Join(ws+"@tmp", "secretFiles", newUUID())
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, nil, err
		}
		path := filepath.Join(dir, fileName)
		if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
			return nil, nil, []string{dir}, err
		}
		vars[bind.childText("variable")] = path
		return vars, []string{secret}, []string{dir}, nil
	case "org.jenkinsci.plugins.credentialsbinding.impl.UsernamePasswordMultiBinding":
		if c.class != ClassUsernamePasswd {
			return nil, nil, nil, javaError(fmt.Sprintf("Credentials '%s' is of type '%s' where '%s' was expected", id, credClasses[c.class].typeName, "com.cloudbees.plugins.credentials.common.StandardUsernamePasswordCredentials"))
		}
		vars[bind.childText("usernameVariable")] = c.username
		vars[bind.childText("passwordVariable")] = c.password
		masked := []string{c.password}
		if c.usernameSecret {
			masked = append(masked, c.username)
		}
		return vars, masked, nil, nil
	}
	return nil, nil, nil, fmt.Errorf("jenkinstest does not emulate the binding %s", bind.name)
}

// runShell is hudson.tasks.Shell: the script goes to a temp file and runs
// as "sh -xe file" unless it starts with a shebang. The emulator runs it
// with bash (whose -x trace also prints "+ cmd") but logs what Jenkins logs.
func (j *Jenkins) runShell(console io.Writer, command string, env map[string]string, ws string) error {
	command = strings.ReplaceAll(command, "\r\n", "\n")
	f, err := os.CreateTemp(ws+"@tmp", "jenkins*.sh")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(command); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	var args []string
	if strings.HasPrefix(command, "#!") {
		line, _, _ := strings.Cut(command[2:], "\n")
		args = append(strings.Fields(line), f.Name())
		fmt.Fprintf(console, "[%s] $ %s\n", filepath.Base(ws), strings.Join(args, " "))
	} else {
		fmt.Fprintf(console, "[%s] $ /bin/sh -xe %s\n", filepath.Base(ws), f.Name())
		args = []string{"bash", "-xe", f.Name()}
	}
	if len(args) == 0 {
		return errors.New("empty shebang")
	}
	ctx, cancel := context.WithCancel(j.ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = ws
	cmd.Stdout, cmd.Stderr = console, console
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return err
		}
		fmt.Fprintf(console, "ERROR: %v\n", err)
		return err
	}
	return nil
}

// serveBuildPath serves /job/x/<n>|lastBuild|.../(api/json|consoleText).
func (j *Jenkins) serveBuildPath(q *request, it *item, segs []string) {
	j.mu.Lock()
	var b *build
	switch segs[0] {
	case "lastBuild":
		b = it.lastWhere(func(*build) bool { return true })
	case "lastCompletedBuild":
		b = it.lastWhere(func(x *build) bool { return !x.building() })
	case "lastSuccessfulBuild", "lastStableBuild":
		b = it.lastWhere(func(x *build) bool { return x.res() == "SUCCESS" })
	case "lastFailedBuild":
		b = it.lastWhere(func(x *build) bool { return x.res() == "FAILURE" })
	case "lastUnsuccessfulBuild":
		b = it.lastWhere(func(x *build) bool { return !x.building() && x.res() != "SUCCESS" })
	default:
		if n, err := strconv.Atoi(segs[0]); err == nil {
			b = it.lastWhere(func(x *build) bool { return x.number == n })
		}
	}
	j.mu.Unlock()
	if b == nil {
		notFound(q)
		return
	}
	rest := segs[1:]
	switch {
	case len(rest) == 0:
		page(q, http.StatusOK, j.displayPath(it)+" #"+strconv.Itoa(b.number))
	case len(rest) == 2 && rest[0] == "api" && rest[1] == "json":
		j.writeAPI(q, j.buildModel(q, it, b))
	case len(rest) == 1 && rest[0] == "consoleText":
		b.mu.Lock()
		text := append([]byte(nil), b.console.Bytes()...)
		b.mu.Unlock()
		writeBody(q, "text/plain;charset=UTF-8", text)
	default:
		notFound(q)
	}
}

// serveQueue serves /queue/item/<id>/api/json.
func (j *Jenkins) serveQueue(q *request, segs []string) {
	if len(segs) != 4 || segs[0] != "item" || segs[2] != "api" || segs[3] != "json" {
		notFound(q)
		return
	}
	id, err := strconv.Atoi(segs[1])
	var n *node
	j.mu.Lock()
	if qi := j.queue[id]; err == nil && qi != nil {
		n = j.queueItemModel(q, qi)
	}
	j.mu.Unlock()
	if n == nil {
		notFound(q)
		return
	}
	j.writeAPI(q, n)
}

// Queue.Item is @ExportedBean(defaultVisibility = 999) (core
// hudson/model/Queue.java), so its own properties show at any nesting
// level, e.g. as a job's "queueItem"; "actions" is declared in Actionable
// with the default visibility 1.
const visQueueItem = 999

// queuedItem is the job's item still waiting in the queue (what
// Job.getQueueItem exports), or nil. Call with j.mu held.
func (j *Jenkins) queuedItem(it *item) *queueItem {
	for _, qi := range j.queue {
		if qi.job == it && qi.build == nil {
			return qi
		}
	}
	return nil
}

// queueItemModel exports a queue item: a WaitingItem in its quiet period,
// a BlockedItem while the job's previous build still runs (jobs do not run
// concurrently), a LeftItem once it has a build. Property order follows
// Queue.Item then the subclass, as Stapler's Model walks superclasses
// first. Call with j.mu held.
func (j *Jenkins) queueItemModel(q *request, qi *queueItem) *node {
	it, b := qi.job, qi.build
	task := newNode(it.class()).addVis("name", 2, it.name).addVis("url", 2, q.root+it.url()).addVis("color", 2, it.color())
	due := qi.since.Add(qi.quiet)
	left := due.Sub(j.o.now())
	blocked := b == nil && left <= 0 && it.running
	common := func(class string, why any) *node {
		return newNode(class).add("actions", []*node{}).addVis("blocked", visQueueItem, blocked).
			addVis("buildable", visQueueItem, false).addVis("id", visQueueItem, qi.id).
			addVis("inQueueSince", visQueueItem, qi.since.UnixMilli()).addVis("params", visQueueItem, "").
			addVis("stuck", visQueueItem, false).addVis("task", visQueueItem, task).
			addVis("url", visQueueItem, "queue/item/"+strconv.Itoa(qi.id)+"/").addVis("why", visQueueItem, why)
	}
	switch {
	case b != nil:
		return common("hudson.model.Queue$LeftItem", nil).addVis("cancelled", visQueueItem, false).addVis("executable", visQueueItem, j.buildRef(q, it, b))
	case blocked:
		// BlockedItem's why is BlockedBecauseOfBuildInProgress'
		// shortDescription "Build #{0} is already in progress{1}", {1} being
		// " (ETA: …)" with the executor's estimate, "N/A" without history.
		why := "Build #" + strconv.Itoa(it.next-1) + " is already in progress (ETA: N/A)"
		// NotWaitingItem exports buildableStartMilliseconds: when it left
		// the waiting list, i.e. the end of the quiet period.
		return common("hudson.model.Queue$BlockedItem", why).addVis("buildableStartMilliseconds", visQueueItem, due.UnixMilli())
	default:
		if left < 0 {
			left = 0
		}
		// "In the quiet period. Expires in {0}" with Util.getTimeSpanString
		// (real answers read "4.9 sec", "0 ms", "1 hr 12 min").
		return common("hudson.model.Queue$WaitingItem", "In the quiet period. Expires in "+timeSpanString(left)).
			addVis("timestamp", visQueueItem, due.UnixMilli())
	}
}

// timeSpanString is hudson.Util.getTimeSpanString for spans under a day
// (quiet periods are short): "N hr M min" / "N min M sec" with the second
// unit only while the first is under 10, "4.9 sec", "0.12 sec", "45 ms".
// Numbers go through MessageFormat, so 4.0 prints as "4".
func timeSpanString(d time.Duration) string {
	ms := d.Milliseconds()
	hr, mins, sec, milli := ms/3600000, ms/60000%60, ms/1000%60, ms%1000
	two := func(big int64, bigLabel string, small int64, smallLabel string) string {
		s := fmt.Sprintf("%d %s", big, bigLabel)
		if big < 10 {
			s += fmt.Sprintf(" %d %s", small, smallLabel)
		}
		return s
	}
	num := func(f float32) string { return strconv.FormatFloat(float64(f), 'f', -1, 32) }
	switch {
	case hr > 0:
		return two(hr, "hr", mins, "min")
	case mins > 0:
		return two(mins, "min", sec, "sec")
	case sec >= 10:
		return fmt.Sprintf("%d sec", sec)
	case sec >= 1:
		return num(float32(sec)+float32(milli/100)/10) + " sec"
	case milli >= 100:
		return num(float32(milli/10)/100) + " sec"
	}
	return fmt.Sprintf("%d ms", milli)
}

// parseTimeDuration is hudson.util.TimeDuration.fromString: milliseconds,
// or seconds with a "sec"/"secs" suffix.
func parseTimeDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	unit := time.Millisecond
	if strings.HasSuffix(s, "sec") || strings.HasSuffix(s, "secs") {
		s = strings.TrimSpace(s[:strings.LastIndex(s, "sec")])
		unit = time.Second
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, javaError("java.lang.IllegalArgumentException: Invalid time duration value: " + s)
	}
	return time.Duration(n) * unit, nil
}
