package jenkinstest

import (
	"fmt"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
)

// freestyleRunner runs FreeStyleBuilds: the SecretBuildWrapper's bindings
// for the whole build, then each builder in order.
type freestyleRunner struct{}

func (freestyleRunner) run(x *execution) string {
	console := redact.NewWriter(x.b)
	defer console.Close()
	fmt.Fprintf(console, "Running as SYSTEM\nBuilding in workspace %s\n", x.ws)
	// Builders see the bound variables; each binding's token is minted
	// from the build's own environment (build.getEnvironment), without them.
	env := make(map[string]string, len(x.env))
	for k, v := range x.env {
		env[k] = v
	}
	var unbind []func()
	defer func() {
		for _, u := range unbind {
			u()
		}
	}()
	if wrappers := x.dom.child("buildWrappers"); wrappers != nil && x.j.pluginActive("credentials-binding") {
		for _, w := range wrappers.elems() {
			if w.name != "org.jenkinsci.plugins.credentialsbinding.impl.SecretBuildWrapper" {
				continue
			}
			for _, el := range w.child("bindings").elems() {
				bd, err := x.j.bindCredentials(x.job, bindingFromXML(el), x.env, x.ws)
				if bd != nil {
					unbind = append(unbind, bd.unbind)
				}
				if err != nil {
					fmt.Fprintf(console, "ERROR: %v\n", err)
					return "FAILURE"
				}
				console.Add(bd.masks...)
				for k, v := range bd.vars {
					env[k] = v
				}
			}
		}
	}
	for _, step := range x.dom.child("builders").elems() {
		if step.name != "hudson.tasks.Shell" {
			fmt.Fprintf(console, "ERROR: jenkinstest does not emulate the build step %s\n", step.name)
			return "FAILURE"
		}
		if _, err := x.j.runShell(x.ctx, console, shellStep{script: step.childText("command"), env: env, dir: x.ws, ws: x.ws}); err != nil {
			console.Flush()
			fmt.Fprintf(console, "Build step 'Execute shell' marked build as failure\n")
			return "FAILURE"
		}
	}
	return "SUCCESS"
}
