package jenkinstest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

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
	qi, fresh := j.queue.schedule(it, j.o.now(), quiet, cause)
	if fresh {
		it.runs.setQueued()
		j.running.Add(1)
		go j.runQueued(qi, j.configuredRoot()) // a build has no request to take a root URL from
	}
	q.w.Header().Set("Location", q.root+"queue/item/"+strconv.Itoa(qi.id)+"/")
	q.w.WriteHeader(http.StatusCreated)
}

// serveBuildPath serves /job/x/<n>|lastBuild|.../(api/json|consoleText).
func (j *Jenkins) serveBuildPath(q *request, it *item, segs []string) {
	var b *build
	h := it.runs
	switch segs[0] {
	case "lastBuild":
		b = h.last(func(*build) bool { return true })
	case "lastCompletedBuild":
		b = h.last(func(x *build) bool { return !x.building() })
	case "lastSuccessfulBuild", "lastStableBuild":
		b = h.last(func(x *build) bool { return x.res() == "SUCCESS" })
	case "lastFailedBuild":
		b = h.last(func(x *build) bool { return x.res() == "FAILURE" })
	case "lastUnsuccessfulBuild":
		b = h.last(func(x *build) bool { return !x.building() && x.res() != "SUCCESS" })
	default:
		if n, err := strconv.Atoi(segs[0]); err == nil {
			b = h.last(func(x *build) bool { return x.number == n })
		}
	}
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
		writeBody(q, "text/plain;charset=UTF-8", b.consoleText())
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
	j.queue.view(func() {
		if qi := j.queue.items[id]; err == nil && qi != nil {
			n = j.queueItemModel(q, qi)
		}
	})
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
// Job.getQueueItem exports) as a model, or nil.
func (j *Jenkins) queuedItem(q *request, it *item) *node {
	var n *node
	j.queue.view(func() {
		if qi := j.queue.waitingLocked(it); qi != nil {
			n = j.queueItemModel(q, qi)
		}
	})
	return n
}

// queueItemModel exports a queue item: a WaitingItem in its quiet period,
// a BlockedItem while the job's previous build still runs (jobs do not run
// concurrently), a LeftItem once it has a build. Property order follows
// Queue.Item then the subclass, as Stapler's Model walks superclasses
// first. Call inside j.queue.view.
func (j *Jenkins) queueItemModel(q *request, qi *queueItem) *node {
	it, b := qi.job, qi.build
	task := newNode(it.class()).addVis("name", 2, it.name).addVis("url", 2, q.root+it.url()).addVis("color", 2, it.color())
	due := qi.since.Add(qi.quiet)
	left := due.Sub(j.o.now())
	blocked := b == nil && left <= 0 && it.runs.isRunning()
	buildable := b == nil && qi.noNodes != ""
	common := func(class string, why any) *node {
		return newNode(class).add("actions", []*node{}).addVis("blocked", visQueueItem, blocked).
			addVis("buildable", visQueueItem, buildable).addVis("id", visQueueItem, qi.id).
			addVis("inQueueSince", visQueueItem, qi.since.UnixMilli()).addVis("params", visQueueItem, "").
			addVis("stuck", visQueueItem, false).addVis("task", visQueueItem, task).
			addVis("url", visQueueItem, "queue/item/"+strconv.Itoa(qi.id)+"/").addVis("why", visQueueItem, why)
	}
	switch {
	case buildable:
		// BuildableItem (NotWaitingItem, then its own "pending"); why is
		// CauseOfBlockage's "There are no nodes with the label ‘{0}’".
		return common("hudson.model.Queue$BuildableItem", "There are no nodes with the label ‘"+qi.noNodes+"’").
			addVis("buildableStartMilliseconds", visQueueItem, due.UnixMilli()).addVis("pending", visQueueItem, false)
	case b != nil:
		return common("hudson.model.Queue$LeftItem", nil).addVis("cancelled", visQueueItem, false).addVis("executable", visQueueItem, j.buildRef(q, it, b))
	case blocked:
		// BlockedItem's why is BlockedBecauseOfBuildInProgress'
		// shortDescription "Build #{0} is already in progress{1}", {1} being
		// " (ETA: …)" with the executor's estimate, "N/A" without history.
		why := "Build #" + strconv.Itoa(it.runs.nextNumber()-1) + " is already in progress (ETA: N/A)"
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
