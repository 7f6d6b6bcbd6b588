package jenkinstest

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// pipelineRuntime is the Groovy side of Pipeline builds: the step DSL
// whose steps call back into pipelineRun.
//
//go:embed pipeline_runtime.groovy
var pipelineRuntime []byte

// Java exception classes the emulator reports steps failing with.
const (
	excAbort       = "hudson.AbortException"
	excInterrupted = "org.jenkinsci.plugins.workflow.steps.FlowInterruptedException"
	excNoSuchDSL   = "java.lang.NoSuchMethodError"
	excIllegal     = "java.lang.IllegalStateException"
	excIO          = "java.io.IOException"
	excMissingCtx  = "org.jenkinsci.plugins.workflow.steps.MissingContextVariableException"
)

// stepError is a step failure: the Java exception Jenkins would throw.
type stepError struct {
	Class   string `json:"class"`
	Message string `json:"message"`
	Trace   string `json:"trace,omitempty"`
}

func (e *stepError) Error() string { return e.Class + ": " + e.Message }

func abort(format string, args ...any) *stepError {
	return &stepError{Class: excAbort, Message: fmt.Sprintf(format, args...)}
}

// modelledSteps are the steps the emulator runs, as DSL's NoSuchMethodError
// lists them.
var modelledSteps = []string{"bat", "catchError", "checkout", "dir", "echo", "error", "fileExists", "isUnix",
	"library", "node", "powershell", "pwd", "readFile", "sh", "stage", "timeout", "withCredentials", "withEnv", "writeFile"}

// stepPlugins maps each modelled step to the plugin that contributes it
// (workflow-cps itself has none: it lists these plugins at test scope
// only). A step whose plugin is not active is unknown to DSL, as on a
// controller without that plugin.
var stepPlugins = map[string]string{
	// workflow-durable-task-step: ExecutorStep, ShellStep, BatchScriptStep, PowershellScriptStep.
	"node": "workflow-durable-task-step", "sh": "workflow-durable-task-step",
	"bat": "workflow-durable-task-step", "powershell": "workflow-durable-task-step",
	// workflow-basic-steps: CatchErrorStep, PushdStep, EchoStep, ErrorStep, FileExistsStep,
	// IsUnixStep, PwdStep, ReadFileStep, TimeoutStep, EnvStep, WriteFileStep.
	"catchError": "workflow-basic-steps", "dir": "workflow-basic-steps", "echo": "workflow-basic-steps",
	"error": "workflow-basic-steps", "fileExists": "workflow-basic-steps", "isUnix": "workflow-basic-steps",
	"pwd": "workflow-basic-steps", "readFile": "workflow-basic-steps", "timeout": "workflow-basic-steps",
	"withEnv": "workflow-basic-steps", "writeFile": "workflow-basic-steps",
	"stage":           "pipeline-stage-step", // StageStep
	"checkout":        "workflow-scm-step",   // GenericSCMStep
	"library":         "pipeline-groovy-lib", // LibraryStep
	"withCredentials": "credentials-binding", // BindingStep
}

// availableSteps are the modelled steps whose plugins are active, sorted.
func (j *Jenkins) availableSteps() []string {
	var out []string
	for _, s := range modelledSteps {
		if j.pluginActive(stepPlugins[s]) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// noSuchStep is DSL.invokeMethod's answer for a step nothing contributes.
func (p *pipelineRun) noSuchStep(name string) *stepError {
	p.log("[Pipeline] %s\n", name)
	return &stepError{Class: excNoSuchDSL, Message: fmt.Sprintf("No such DSL method '%s' found among steps [%s] or symbols [file, modernSCM, string, usernamePassword] or globals [currentBuild, env, params, scm]"+
		" (jenkinstest models only these steps)", name, strings.Join(p.x.j.availableSteps(), ", "))}
}

// stepCtx is the block context the Groovy side sends with every step.
type stepCtx struct {
	Env      []string `json:"env"`      // withEnv overrides, outermost first
	Bindings []string `json:"bindings"` // withCredentials handles
	Dir      string   `json:"dir"`      // dir / node workspace
	Node     bool     `json:"node"`
	Deadline int64    `json:"deadline"` // timeout, Unix ms; 0 for none
}

type stepRequest struct {
	Step string          `json:"step"`
	Args json.RawMessage `json:"args"`
	Ctx  stepCtx         `json:"ctx"`
}

// pipelineRunner runs WorkflowRun builds: the flow definition's script
// (inline CpsFlowDefinition or CpsScmFlowDefinition from git) on Groovy
// 2.4 with the step runtime in pipeline_runtime.groovy.
type pipelineRunner struct{}

// pipelineRun is one running Pipeline build, the Go half of its steps.
type pipelineRun struct {
	x       *execution
	scm     *gitSCM // the job's SCM for "checkout scm", nil for inline scripts
	groovyO *redact.Writer

	mu        sync.Mutex
	bindings  map[string]*bound
	nextBind  int
	globalEnv map[string]string // env.NAME = value
	result    string            // "" = SUCCESS so far
	finished  bool
	failure   *stepError
	timedOut  bool
	libraries map[string]bool
	started   sync.Once
}

// startOnce prints "Start of Pipeline" before the first step: @Library
// loads while the script compiles, so its lines come before it.
func (p *pipelineRun) startOnce() {
	p.started.Do(func() { p.log("[Pipeline] Start of Pipeline\n") })
}

func (pipelineRunner) run(x *execution) string {
	p := &pipelineRun{x: x, bindings: map[string]*bound{}, globalEnv: map[string]string{}, libraries: map[string]bool{}}
	return p.run()
}

func (p *pipelineRun) log(format string, args ...any) { fmt.Fprintf(p.x.b, format, args...) }

func (p *pipelineRun) run() string {
	x := p.x
	groovy, javaHome, err := FindGroovy()
	if err != nil {
		p.log("ERROR: %v\n", err)
		return "FAILURE"
	}
	def := x.dom.child("definition")
	if def == nil {
		// WorkflowRun.run: the definition's class was unknown when the
		// job was loaded (workflow-cps missing), so it is null.
		p.log("ERROR: No flow definition, cannot run\n")
		return "FAILURE"
	}
	var script string
	sandbox := true
	switch class := def.attr("class"); class {
	case "org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition":
		script = def.childText("script")
		sandbox = def.childText("sandbox") == "true"
		if !p.x.j.scriptApproved(x.dom) {
			// CpsFlowDefinition.create: ScriptApproval.using.
			p.log("org.jenkinsci.plugins.scriptsecurity.scripts.UnapprovedUsageException: script not yet approved for use\n")
			return "FAILURE"
		}
	case "org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition":
		if def.child("scm") == nil {
			// The job was saved without the git plugin: its SCM is null.
			p.log("java.lang.NullPointerException: the job's SCM is null (jenkinstest: its class hudson.plugins.git.GitSCM was unknown when the job was saved, because the git plugin is not installed)\n")
			return "FAILURE"
		}
		scm, err := gitSCMFromXML(def.child("scm"))
		if err != nil {
			p.log("ERROR: %v\n", err)
			return "FAILURE"
		}
		p.scm = scm
		text, err := p.x.j.scmScript(x.ctx, x.b, scm, def.childText("scriptPath"), x.ws, x.job)
		if err != nil {
			p.log("ERROR: %v\n", err)
			return "FAILURE"
		}
		script = text
	default:
		p.log("ERROR: jenkinstest does not run Pipeline definitions of class %q\n", class)
		return "FAILURE"
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.log("ERROR: %v\n", err)
		return "FAILURE"
	}
	token := randHex(24)
	srv := &http.Server{Handler: p.handler(token), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	dir, err := os.MkdirTemp(x.ws+"@tmp", "groovy")
	if err != nil {
		p.log("ERROR: %v\n", err)
		return "FAILURE"
	}
	defer os.RemoveAll(dir)
	files := map[string][]byte{"runtime.groovy": pipelineRuntime, "token": []byte(token), "Jenkinsfile": []byte(script)}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			p.log("ERROR: %v\n", err)
			return "FAILURE"
		}
	}
	p.groovyO = redact.NewWriter(x.b)
	cmd := exec.CommandContext(x.ctx, groovy, filepath.Join(dir, "runtime.groovy"), "http://"+ln.Addr().String()+"/step",
		filepath.Join(dir, "token"), filepath.Join(dir, "Jenkinsfile"), fmt.Sprint(sandbox))
	cmd.Dir = dir
	// A short-lived JVM: C1 only and the serial collector start faster.
	cmd.Env = append(os.Environ(), "JAVA_HOME="+javaHome, "JAVA_OPTS=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss4m")
	cmd.Stdout, cmd.Stderr = p.groovyO, p.groovyO
	runErr := cmd.Run()
	_ = p.groovyO.Flush()
	p.unbindAll()
	p.startOnce()
	p.log("[Pipeline] End of Pipeline\n")

	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.finished {
		p.log("ERROR: the Groovy interpreter ended without finishing the Pipeline: %v\n", runErr)
		return "FAILURE"
	}
	if f := p.failure; f != nil {
		switch {
		case f.Class == excInterrupted && p.timedOut:
			p.log("Timeout has been exceeded\n")
			return "ABORTED"
		case f.Class == excInterrupted:
			return "ABORTED"
		case isAbort(f.Class):
			p.log("ERROR: %s\n", p.maskAll(f.Message))
		case f.Trace != "":
			p.log("%s", p.maskAll(javaTrace(f)))
		default:
			p.log("%s\n", p.maskAll(f.Error()))
		}
		return "FAILURE"
	}
	if p.result != "" {
		return p.result
	}
	return "SUCCESS"
}

// isAbort reports whether class is hudson.AbortException or a subclass the
// emulator throws, which Jenkins prints as "ERROR: message".
func isAbort(class string) bool {
	return class == excAbort || class == "org.jenkinsci.plugins.credentialsbinding.impl.CredentialNotFoundException"
}

// javaTrace keeps the exception line and the frames in the build's own
// scripts, as Jenkins' console shows a Groovy failure (without the
// interpreter's internals).
func javaTrace(f *stepError) string {
	var b strings.Builder
	lines := strings.Split(strings.TrimRight(f.Trace, "\n"), "\n")
	for i, l := range lines {
		if i == 0 || strings.Contains(l, "WorkflowScript") || !strings.HasPrefix(strings.TrimSpace(l), "at ") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// maskAll masks every secret bound during the build; call with p.mu held.
func (p *pipelineRun) maskAll(s string) string {
	var secrets []string
	for _, bd := range p.bindings {
		secrets = append(secrets, bd.masks...)
	}
	return redact.String(s, secrets...)
}

// FindGroovy locates the groovy that Pipeline builds run on and a
// JAVA_HOME for it, or says what to install. Callers that are about to
// run a Pipeline build (the demo) use it to fail before starting rather
// than in the build's console.
func FindGroovy() (groovy, javaHome string, err error) {
	groovy, err = exec.LookPath("groovy")
	if err != nil {
		return "", "", errors.New("jenkinstest runs Pipeline scripts with Groovy 2.4, the Groovy Jenkins bundles, and groovy is not installed: install it (Debian: apt-get install groovy) and set JAVA_HOME (e.g. /usr/lib/jvm/java-17-openjdk-amd64)")
	}
	javaHome = os.Getenv("JAVA_HOME")
	if javaHome == "" {
		cands, _ := filepath.Glob("/usr/lib/jvm/java-17-openjdk-*")
		cands = append(cands, "/usr/lib/jvm/default-java")
		for _, c := range cands {
			if _, err := os.Stat(filepath.Join(c, "bin", "java")); err == nil {
				javaHome = c
				break
			}
		}
	}
	if javaHome == "" {
		return "", "", errors.New("jenkinstest runs Pipeline scripts with groovy, which needs a Java runtime: set JAVA_HOME (Debian: apt-get install openjdk-17-jre-headless)")
	}
	return groovy, javaHome, nil
}

// handler serves the step calls of one build's Groovy process.
func (p *pipelineRun) handler(token string) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		var req stepRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		value, serr := p.step(req)
		out := map[string]any{"value": value}
		if serr != nil {
			out["error"] = serr
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// step dispatches one step call.
func (p *pipelineRun) step(req stepRequest) (any, *stepError) {
	var args map[string]any
	if len(req.Args) > 0 {
		if err := json.Unmarshal(req.Args, &args); err != nil {
			return nil, &stepError{Class: excIllegal, Message: err.Error()}
		}
	}
	c := req.Ctx
	_, annotation := args["annotation"]
	if req.Step == "library" && annotation {
		if !p.x.j.pluginActive(stepPlugins["library"]) {
			// Without pipeline-groovy-lib nothing resolves the annotation.
			return nil, &stepError{Class: "org.codehaus.groovy.control.MultipleCompilationErrorsException",
				Message: "startup failed:\nWorkflowScript: 1: unable to resolve class Library ,  unable to find class for annotation"}
		}
		return p.library(args)
	}
	name := req.Step
	if name == "begin" {
		name = str(args, "step")
	}
	if plugin, ok := stepPlugins[name]; ok && !p.x.j.pluginActive(plugin) {
		p.startOnce()
		return nil, p.noSuchStep(name)
	}
	p.startOnce()
	switch req.Step {
	case "begin":
		inner, _ := args["args"].(map[string]any)
		return p.begin(str(args, "step"), inner, c)
	case "end":
		return p.end(args, c)
	case "finish":
		p.mu.Lock()
		defer p.mu.Unlock()
		p.finished = true
		if e, ok := args["error"].(map[string]any); ok {
			p.failure = &stepError{Class: str(e, "class"), Message: str(e, "message"), Trace: str(e, "trace")}
		}
		return nil, nil
	case "env.get":
		env := p.environment(c)
		if v, ok := env[str(args, "name")]; ok {
			return v, nil
		}
		return nil, nil
	case "env.set":
		p.mu.Lock()
		defer p.mu.Unlock()
		if v, ok := args["value"].(string); ok {
			p.globalEnv[str(args, "name")] = v
		} else {
			delete(p.globalEnv, str(args, "name"))
		}
		return nil, nil
	case "env.all":
		return p.environment(c), nil
	case "currentBuild.get":
		return p.currentBuild(str(args, "name")), nil
	case "currentBuild.set":
		if str(args, "name") == "result" {
			p.setResult(str(args, "value"))
			return nil, nil
		}
		return nil, &stepError{Class: "groovy.lang.ReadOnlyPropertyException", Message: "Cannot set readonly property: " + str(args, "name")}
	case "scm":
		if p.scm == nil {
			return nil, &stepError{Class: excIllegal, Message: "‘checkout scm’ is only available when using “Multibranch Pipeline” or “Pipeline script from SCM”"}
		}
		return map[string]any{"$class": "GitSCM", "scm": "job"}, nil
	case "unknown":
		return nil, p.noSuchStep(str(args, "name"))
	}
	p.log("[Pipeline] %s\n", req.Step)
	switch req.Step {
	case "echo":
		p.stepWriter(c, func(w io.Writer) { fmt.Fprintf(w, "%s\n", str(args, "message")) })
		return nil, nil
	case "error":
		return nil, abort("%s", str(args, "message"))
	case "isUnix":
		// IsUnixStep needs the Launcher only node provides.
		if !c.Node {
			return nil, missingContextOf("isUnix", "hudson.Launcher")
		}
		return true, nil
	case "sh":
		return p.sh(args, c)
	case "bat", "powershell":
		// durable-task WindowsBatchScript / PowershellScript on a Unix agent.
		if !c.Node {
			return nil, missingContext(req.Step)
		}
		if req.Step == "bat" {
			return nil, &stepError{Class: excIO, Message: "Batch scripts can only be run on Windows nodes"}
		}
		return nil, &stepError{Class: excIO, Message: "Cannot run program \"powershell\": error=2, No such file or directory"}
	case "pwd":
		if !c.Node {
			return nil, missingContext("pwd")
		}
		if b, _ := args["tmp"].(bool); b {
			return c.Dir + "@tmp", nil
		}
		return c.Dir, nil
	case "writeFile", "readFile", "fileExists":
		return p.fileStep(req.Step, args, c)
	case "checkout":
		return p.checkout(args, c)
	case "library":
		return p.library(args)
	}
	return nil, &stepError{Class: excNoSuchDSL, Message: "No such DSL method '" + req.Step + "'"}
}

func missingContext(step string) *stepError { return missingContextOf(step, "hudson.FilePath") }

// missingContextOf is MissingContextVariableException for a step whose
// required context class (StepDescriptor.getRequiredContext) is absent.
func missingContextOf(step, class string) *stepError {
	return &stepError{Class: excMissingCtx, Message: "Required context class " + class + " is missing\nPerhaps you forgot to surround the " + step + " step with a step that provides this, such as: node"}
}

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// setResult is Run.setResult: a result only ever gets worse.
func (p *pipelineRun) setResult(r string) {
	order := map[string]int{"": 0, "SUCCESS": 0, "UNSTABLE": 1, "FAILURE": 2, "NOT_BUILT": 3, "ABORTED": 4}
	p.mu.Lock()
	defer p.mu.Unlock()
	if order[r] > order[p.result] {
		p.result = r
	}
}

func (p *pipelineRun) currentBuild(name string) any {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch name {
	case "result":
		if p.result == "" {
			return nil
		}
		return p.result
	case "currentResult":
		if p.result == "" {
			return "SUCCESS"
		}
		return p.result
	case "number":
		return p.x.b.number
	case "displayName":
		return fmt.Sprintf("#%d", p.x.b.number)
	case "fullProjectName":
		return p.x.job.fullName()
	case "absoluteUrl":
		return p.x.env["BUILD_URL"]
	}
	return nil
}

// runEnvironment is WorkflowRun.getEnvironment: the build's variables
// and the env.X assignments (EnvActionImpl), without any step context.
func (p *pipelineRun) runEnvironment() map[string]string {
	env := map[string]string{}
	for k, v := range p.x.env {
		env[k] = v
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, v := range p.globalEnv {
		env[k] = v
	}
	// A WorkflowRun has no workspace of its own: node provides one.
	delete(env, "WORKSPACE")
	delete(env, "WORKSPACE_TMP")
	return env
}

// environment is the step context's environment: the run's (above),
// withEnv overrides (EnvVars.override: NAME+X prepends to a PATH-like
// variable, an empty value removes it; no ${} expansion), the workspace
// inside node, then withCredentials bindings.
func (p *pipelineRun) environment(c stepCtx) map[string]string {
	env := p.runEnvironment()
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		if base, _, plus := strings.Cut(k, "+"); plus {
			if v != "" {
				if old := env[base]; old != "" {
					v += string(os.PathListSeparator) + old
				}
				env[base] = v
			}
			continue
		}
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	if c.Dir != "" {
		env["WORKSPACE"] = p.x.ws
		env["WORKSPACE_TMP"] = p.x.ws + "@tmp"
	} else {
		delete(env, "WORKSPACE")
		delete(env, "WORKSPACE_TMP")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range c.Bindings {
		if bd := p.bindings[h]; bd != nil {
			for k, v := range bd.vars {
				env[k] = v
			}
		}
	}
	return env
}

// masks are the secrets the context's withCredentials blocks mask, with
// the variables that hold them.
func (p *pipelineRun) masks(c stepCtx) (secrets []string, vars map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	vars = map[string]string{}
	for _, h := range c.Bindings {
		if bd := p.bindings[h]; bd != nil {
			secrets = append(secrets, bd.masks...)
			for k, v := range bd.vars {
				for _, m := range bd.masks {
					if v == m {
						vars[k] = v
					}
				}
			}
		}
	}
	return secrets, vars
}

// stepWriter runs f with a console writer that masks what the context's
// withCredentials blocks mask (BindingStep's ConsoleLogFilter).
func (p *pipelineRun) stepWriter(c stepCtx, f func(io.Writer)) {
	secrets, _ := p.masks(c)
	w := redact.NewWriter(p.x.b, secrets...)
	f(w)
	_ = w.Flush()
}

// warnInterpolation prints workflow-cps DSL's warning when a step's
// arguments carry a bound secret, i.e. Groovy interpolated it.
func (p *pipelineRun) warnInterpolation(step string, args map[string]any, c stepCtx) {
	_, vars := p.masks(c)
	var hits []string
	for name, secret := range vars {
		for _, v := range args {
			if s, ok := v.(string); ok && secret != "" && strings.Contains(s, secret) {
				hits = append(hits, name)
				break
			}
		}
	}
	if len(hits) == 0 {
		return
	}
	sort.Strings(hits)
	p.log("Warning: A secret was passed to \"%s\" using Groovy String interpolation, which is insecure.\n\t\t Affected argument(s) used the following variable(s): [%s]\n\t\t See https://jenkins.io/redirect/groovy-string-interpolation for details.\n",
		step, strings.Join(hits, ", "))
}

// stepContext is the context a process step runs under: the build's,
// cut short by an enclosing timeout.
func (p *pipelineRun) stepContext(c stepCtx) (context.Context, context.CancelFunc) {
	if c.Deadline > 0 {
		return context.WithDeadline(p.x.ctx, time.UnixMilli(c.Deadline))
	}
	return context.WithCancel(p.x.ctx)
}

// unbindAll removes what bindings left on disk when the build ends.
func (p *pipelineRun) unbindAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, bd := range p.bindings {
		bd.unbind()
	}
}
