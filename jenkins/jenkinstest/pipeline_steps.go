package jenkinstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// begin opens a block step: it prints the step and its opening brace and
// returns the context changes for the body and a handle for end.
func (p *pipelineRun) begin(step string, args map[string]any, c stepCtx) (any, *stepError) {
	p.log("[Pipeline] %s\n", step)
	ctx := map[string]any{}
	handle := ""
	brace := "[Pipeline] {\n"
	switch step {
	case "node":
		label := str(args, "label")
		if label != "" && !p.x.j.hasLabel(label) {
			// Jenkins waits for such a node forever; the emulator says so and fails.
			p.log("Still waiting to schedule task\nThere are no nodes with the label ‘%s’\n", label)
			return nil, abort("jenkinstest: no agent has the label ‘%s’ (the built-in node has %s; WithAgentLabels adds labels), so Jenkins would wait forever", label, strings.Join(p.x.j.labels(), " "))
		}
		if err := os.MkdirAll(p.x.ws, 0o700); err != nil {
			return nil, &stepError{Class: excIO, Message: err.Error()}
		}
		p.log("Running on Jenkins in %s\n", p.x.ws)
		ctx["node"] = true
		ctx["dir"] = p.x.ws
	case "stage":
		brace = "[Pipeline] { (" + str(args, "name") + ")\n"
	case "withEnv":
		list, _ := args["overrides"].([]any)
		env := append([]string(nil), c.Env...)
		for _, v := range list {
			s := fmt.Sprint(v)
			if !strings.Contains(s, "=") {
				return nil, &stepError{Class: "java.lang.IllegalArgumentException", Message: "Expected an assignment NAME=VALUE but got " + s}
			}
			env = append(env, s)
		}
		ctx["env"] = env
	case "withCredentials":
		handles, err := p.bindAll(args, c)
		if err != nil {
			return nil, err
		}
		ctx["bindings"] = append(append([]string(nil), c.Bindings...), handles...)
		handle = strings.Join(handles, ",")
	case "dir":
		if !c.Node {
			return nil, missingContext("dir")
		}
		d := str(args, "path")
		if !filepath.IsAbs(d) {
			d = filepath.Join(c.Dir, d)
		}
		p.log("Running in %s\n", d)
		ctx["dir"] = d
	case "timeout":
		d, err := timeoutDuration(args)
		if err != nil {
			return nil, err
		}
		deadline := time.Now().Add(d)
		if c.Deadline > 0 && c.Deadline < deadline.UnixMilli() {
			deadline = time.UnixMilli(c.Deadline)
		}
		p.log("Timeout set to expire in %s\n", timeSpanString(d))
		ctx["deadline"] = deadline.UnixMilli()
		handle = strconv.FormatInt(deadline.UnixMilli(), 10)
	case "catchError":
		for k := range args {
			switch k {
			case "buildResult", "stageResult", "message", "catchInterruptions":
			default:
				return nil, &stepError{Class: "java.lang.IllegalArgumentException", Message: "WARNING: Unknown parameter(s) found for class type 'org.jenkinsci.plugins.workflow.steps.CatchErrorStep': " + k}
			}
		}
		handle = str(args, "buildResult")
		if _, ok := args["buildResult"]; !ok {
			handle = "FAILURE"
		}
	default:
		return nil, &stepError{Class: excNoSuchDSL, Message: "No such DSL method '" + step + "'"}
	}
	p.log("%s", brace)
	return map[string]any{"ctx": ctx, "handle": handle}, nil
}

// end closes a block step; for catchError it reports the body's failure,
// sets the build result and swallows the error.
func (p *pipelineRun) end(args map[string]any, c stepCtx) (any, *stepError) {
	step, handle := str(args, "step"), str(args, "handle")
	errInfo, _ := args["error"].(map[string]any)
	p.log("[Pipeline] }\n")
	out := map[string]any{}
	switch step {
	case "withCredentials":
		p.mu.Lock()
		for _, h := range strings.Split(handle, ",") {
			if bd := p.bindings[h]; bd != nil {
				bd.unbind()
			}
		}
		p.mu.Unlock()
	case "timeout":
		if errInfo != nil && str(errInfo, "class") == excInterrupted {
			if ms, _ := strconv.ParseInt(handle, 10, 64); ms > 0 && time.Now().UnixMilli() >= ms {
				p.mu.Lock()
				p.timedOut = true
				p.mu.Unlock()
			}
		}
	case "catchError":
		if errInfo != nil {
			msg := str(errInfo, "message")
			if isAbort(str(errInfo, "class")) {
				p.log("ERROR: %s\n", msg)
			} else {
				p.log("%s: %s\n", str(errInfo, "class"), msg)
			}
			p.setResult(handle)
			out["swallow"] = true
		}
	}
	p.log("[Pipeline] // %s\n", step)
	return out, nil
}

// timeoutDuration reads timeout's time and unit (default MINUTES).
func timeoutDuration(args map[string]any) (time.Duration, *stepError) {
	n, err := strconv.ParseFloat(str(args, "time"), 64)
	if err != nil || n < 0 {
		return 0, &stepError{Class: "java.lang.IllegalArgumentException", Message: "timeout needs time: a number, not " + str(args, "time")}
	}
	units := map[string]time.Duration{"NANOSECONDS": time.Nanosecond, "MICROSECONDS": time.Microsecond, "MILLISECONDS": time.Millisecond,
		"SECONDS": time.Second, "MINUTES": time.Minute, "HOURS": time.Hour, "DAYS": 24 * time.Hour}
	unit := str(args, "unit")
	if unit == "" {
		unit = "MINUTES"
	}
	u, ok := units[unit]
	if !ok {
		return 0, &stepError{Class: "java.lang.IllegalArgumentException", Message: "No enum constant java.util.concurrent.TimeUnit." + unit}
	}
	return time.Duration(n * float64(u)), nil
}

// bindAll runs withCredentials' bindings through the binding service and
// prints which variables the console masks (BindingStep).
func (p *pipelineRun) bindAll(args map[string]any, c stepCtx) ([]string, *stepError) {
	if !p.x.j.pluginActive("credentials-binding") {
		return nil, &stepError{Class: excNoSuchDSL, Message: "No such DSL method 'withCredentials' (the credentials-binding plugin is not installed)"}
	}
	list, _ := args["bindings"].([]any)
	// IdTokenCredentials.token() reads build.getEnvironment(): the Run's
	// environment with env.X assignments, not withEnv, other bindings or
	// the node's WORKSPACE.
	env := p.runEnvironment()
	var handles, masked []string
	for _, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, &stepError{Class: "java.lang.ClassCastException", Message: fmt.Sprintf("withCredentials.bindings expects java.util.List<org.jenkinsci.plugins.credentialsbinding.MultiBinding> but received %T", v)}
		}
		class, ok := map[string]string{"string": bindingString, "file": bindingFile, "usernamePassword": bindingUserPass}[str(m, "symbol")]
		if !ok {
			return nil, &stepError{Class: excNoSuchDSL, Message: "jenkinstest does not model the binding " + str(m, "symbol")}
		}
		// BindingStep: requiresWorkspace() is true but for StringBinding
		// (file and usernamePassword both need a node).
		if class != bindingString && !c.Node {
			for _, h := range handles {
				p.bindings[h].unbind()
			}
			return nil, missingContext("withCredentials")
		}
		bd := binding{class: class, credentialsID: str(m, "credentialsId"), variable: str(m, "variable"),
			usernameVariable: str(m, "usernameVariable"), passwordVariable: str(m, "passwordVariable")}
		// The step's FilePath context: dir() moves it, and secretFiles with it.
		res, err := p.x.j.bindCredentials(p.x.job, bd, env, c.Dir)
		if err != nil {
			if res != nil {
				res.unbind()
			}
			for _, h := range handles {
				p.bindings[h].unbind()
			}
			var je javaError
			if errors.As(err, &je) {
				return nil, &stepError{Class: "org.jenkinsci.plugins.credentialsbinding.impl.CredentialNotFoundException", Message: string(je)}
			}
			return nil, &stepError{Class: excIO, Message: err.Error()}
		}
		p.mu.Lock()
		p.nextBind++
		h := strconv.Itoa(p.nextBind)
		p.bindings[h] = res
		p.mu.Unlock()
		handles = append(handles, h)
		p.groovyO.Add(res.masks...)
		for _, name := range res.secretVars {
			masked = append(masked, "$"+name)
		}
	}
	if len(masked) > 0 {
		p.log("Masking supported pattern matches of %s\n", strings.Join(masked, " or "))
	}
	return handles, nil
}

// sh is durable-task's BourneShellScript: the script goes to
// <ws>@tmp/durable-<hex>/script.sh and runs as "sh -xe script.sh" (sh from
// PATH, dash on Debian) unless it starts with a shebang, in the current
// directory with the context's environment. returnStdout captures stdout
// (decoded with encoding, default the agent's charset), returnStatus
// returns the exit code instead of failing.
func (p *pipelineRun) sh(args map[string]any, c stepCtx) (any, *stepError) {
	if !c.Node {
		return nil, missingContext("sh")
	}
	script := str(args, "script")
	if script == "" {
		return nil, &stepError{Class: "java.lang.IllegalArgumentException", Message: "empty script"}
	}
	for k := range args {
		switch k {
		case "script", "returnStdout", "returnStatus", "encoding", "label":
		default:
			return nil, &stepError{Class: "java.lang.IllegalArgumentException", Message: "WARNING: Unknown parameter(s) found for class type 'org.jenkinsci.plugins.workflow.steps.durable_task.ShellStep': " + k}
		}
	}
	returnStdout, _ := args["returnStdout"].(bool)
	returnStatus, _ := args["returnStatus"].(bool)
	if returnStdout && returnStatus {
		return nil, &stepError{Class: "java.lang.IllegalArgumentException", Message: "You may not select both returnStdout and returnStatus."}
	}
	p.warnInterpolation("sh", args, c)
	env := p.environment(c)
	control := filepath.Join(p.x.ws+"@tmp", "durable-"+randHex(4))
	if err := os.MkdirAll(control, 0o700); err != nil {
		return nil, &stepError{Class: excIO, Message: err.Error()}
	}
	defer os.RemoveAll(control)
	scriptPath := filepath.Join(control, "script.sh")
	if err := os.WriteFile(scriptPath, []byte(script), 0o700); err != nil {
		return nil, &stepError{Class: excIO, Message: err.Error()}
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, &stepError{Class: excIO, Message: err.Error()}
	}
	ctx, cancel := p.stepContext(c)
	defer cancel()
	var cmd *exec.Cmd
	if strings.HasPrefix(script, "#!") {
		cmd = exec.CommandContext(ctx, scriptPath)
	} else {
		shell := "sh"
		if path, ok := env["PATH"]; ok {
			shell = lookPathIn("sh", path)
		}
		cmd = exec.CommandContext(ctx, shell, "-xe", scriptPath)
	}
	cmd.Dir = c.Dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	secrets, _ := p.masks(c)
	console := redact.NewWriter(p.x.b, secrets...)
	var stdout bytes.Buffer
	cmd.Stderr = console
	if returnStdout {
		cmd.Stdout = &stdout
	} else {
		cmd.Stdout = console
	}
	err := cmd.Run()
	_ = console.Flush()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		switch {
		case ctx.Err() != nil:
			p.log("Cancelling nested steps due to timeout\nSending interrupt signal to process\n")
			return nil, &stepError{Class: excInterrupted, Message: ""}
		case errors.As(err, &ee):
			code = ee.ExitCode()
		default:
			return nil, &stepError{Class: excIO, Message: err.Error()}
		}
	}
	if returnStatus {
		return code, nil
	}
	if code != 0 {
		return nil, abort("script returned exit code %d", code)
	}
	if returnStdout {
		return decode(stdout.Bytes(), str(args, "encoding")), nil
	}
	return nil, nil
}

// lookPathIn finds file in a PATH list as the agent's process launch would.
func lookPathIn(file, path string) string {
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			continue
		}
		cand := filepath.Join(d, file)
		if fi, err := os.Stat(cand); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return cand
		}
	}
	return file
}

// decode turns a step's output bytes into a string. With no encoding it
// uses the agent JVM's default charset, which on a Debian agent started
// without a UTF-8 locale is ASCII (ANSI_X3.4-1968): every other byte
// becomes U+FFFD, the strictest plausible agent. Pass encoding: 'UTF-8'.
func decode(b []byte, encoding string) string {
	switch strings.ToUpper(strings.ReplaceAll(encoding, "_", "-")) {
	case "UTF-8", "UTF8":
		return strings.ToValidUTF8(string(b), "\uFFFD")
	case "ISO-8859-1", "LATIN1":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	var sb strings.Builder
	for _, c := range b {
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
		} else {
			sb.WriteRune('\uFFFD')
		}
	}
	return sb.String()
}

// fileStep runs writeFile, readFile and fileExists relative to the
// current directory.
func (p *pipelineRun) fileStep(step string, args map[string]any, c stepCtx) (any, *stepError) {
	if !c.Node {
		return nil, missingContext(step)
	}
	name := str(args, "file")
	if name == "" {
		return nil, &stepError{Class: "java.lang.IllegalArgumentException", Message: step + ": file is required"}
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.Dir, name)
	}
	switch step {
	case "writeFile":
		text := str(args, "text")
		data := []byte(text)
		if strings.EqualFold(str(args, "encoding"), "Base64") {
			return nil, &stepError{Class: excNoSuchDSL, Message: "jenkinstest does not model writeFile encoding: 'Base64'"}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, &stepError{Class: excIO, Message: err.Error()}
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, &stepError{Class: excIO, Message: err.Error()}
		}
		return nil, nil
	case "readFile":
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, &stepError{Class: "java.nio.file.NoSuchFileException", Message: path}
		}
		enc := str(args, "encoding")
		if enc == "" {
			enc = "UTF-8" // readFile's default is the controller's UTF-8 decoding of the agent's bytes
		}
		return decode(data, enc), nil
	default:
		_, err := os.Stat(path)
		return err == nil, nil
	}
}

// hasLabel reports whether the built-in node carries label (a single
// label; expressions are not modelled).
func (j *Jenkins) hasLabel(label string) bool {
	for _, l := range j.labels() {
		if l == strings.TrimSpace(label) {
			return true
		}
	}
	return false
}

// labels are the built-in node's labels: its name plus WithAgentLabels.
func (j *Jenkins) labels() []string {
	return append([]string{"built-in"}, j.o.agentLabels...)
}

// checkoutContext bounds git commands.
func checkoutContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 10*time.Minute)
}
