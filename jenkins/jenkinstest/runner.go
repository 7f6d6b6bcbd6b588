package jenkinstest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// runner executes the builds of one job kind (Jenkins' Run subclasses:
// FreeStyleBuild, WorkflowRun). To teach the emulator a new job type, add
// its item kind and register a runner in runnersFor.
type runner interface {
	// run executes the build and returns its result (SUCCESS, FAILURE, …).
	// Everything it prints goes to x.b, the build's console.
	run(x *execution) string
}

// runnersFor maps each buildable item kind to its runner.
func runnersFor() map[itemKind]runner {
	return map[itemKind]runner{
		kindFreestyle: freestyleRunner{},
		kindPipeline:  pipelineRunner{},
	}
}

// execution is what a runner gets: the controller, the job and its
// configuration as the build started, the build, its workspace and its
// characteristic environment.
type execution struct {
	ctx  context.Context
	j    *Jenkins
	job  *item
	b    *build
	dom  *xnode
	ws   string
	root string
	env  map[string]string
}

// runQueued waits out the quiet period and for the job's previous build
// (jobs do not run concurrently), then runs the build with its kind's
// runner.
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
	// A freestyle job tied to a label (assignedNode, canRoam false) runs
	// only on a node with it; with none it waits in the queue forever
	// (Queue.maintain finds no executor; Messages.Queue_LabelHasNoNodes).
	j.mu.Lock()
	label := strings.TrimSpace(it.dom.childText("assignedNode"))
	roams := it.dom.childText("canRoam") == "true"
	j.mu.Unlock()
	if it.kind == kindFreestyle && label != "" && !roams && !j.hasLabel(label) {
		j.queue.waitForNodes(qi, label)
		<-j.ctx.Done()
		return
	}
	var b *build
	for {
		if b = it.runs.begin(qi.id, j.o.now(), qi.cause); b != nil {
			break
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-j.ctx.Done():
			return
		}
	}
	j.queue.left(qi, b)
	defer j.queue.done()
	defer it.runs.end()

	j.mu.Lock()
	dom := it.dom
	ws, err := j.workspace(it)
	j.mu.Unlock()

	start := time.Now()
	result := "FAILURE"
	b.logf("%s\n", qi.cause)
	r := j.runners[it.kind]
	switch {
	case err != nil:
		b.logf("ERROR: %v\n", err)
	case r == nil:
		b.logf("ERROR: jenkinstest cannot run builds of %s\n", it.class())
	default:
		x := &execution{ctx: j.ctx, j: j, job: it, b: b, dom: dom, ws: ws, root: root}
		x.env = j.buildEnv(root, it, b.number, ws)
		for _, kv := range j.o.buildEnv {
			if k, v, ok := strings.Cut(kv, "="); ok {
				x.env[k] = v
			}
		}
		result = r.run(x)
	}
	b.logf("Finished: %s\n", result)
	b.finish(result, time.Since(start))
}

// workspace creates the job's workspace and its @tmp sibling
// (WorkspaceList.tempDir); call with j.mu held.
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
// contributes, minus the node's own variables). root is the configured
// root URL: without one CoreEnvironmentContributor sets no JENKINS_URL,
// HUDSON_URL, JOB_URL or BUILD_URL.
func (j *Jenkins) buildEnv(root string, it *item, number int, ws string) map[string]string {
	n := strconv.Itoa(number)
	env := map[string]string{
		"JOB_NAME": it.fullName(), "JOB_BASE_NAME": it.name,
		"BUILD_NUMBER": n, "BUILD_ID": n, "BUILD_DISPLAY_NAME": "#" + n,
		"BUILD_TAG": "jenkins-" + strings.ReplaceAll(it.fullName(), "/", "-") + "-" + n,
		"NODE_NAME": "built-in", "NODE_LABELS": "built-in", "EXECUTOR_NUMBER": "0",
	}
	if root != "" {
		env["JENKINS_URL"], env["HUDSON_URL"] = root, root
		env["JOB_URL"], env["BUILD_URL"] = root+it.url(), root+it.url()+n+"/"
	}
	if ws != "" {
		env["WORKSPACE"], env["WORKSPACE_TMP"] = ws, ws+"@tmp"
	}
	return env
}
