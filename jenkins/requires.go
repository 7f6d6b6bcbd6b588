package jenkins

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"sort"
	"strings"
)

// classPlugins maps the classes a config.xml names (as an element name or
// a class attribute, by prefix) to the plugin that defines them. An
// element whose plugin is missing is not refused by Jenkins: XStream2's
// RobustReflectionConverter drops it as a non-critical field (a Pipeline
// from SCM is stored with a null SCM, a freestyle job without its
// credential bindings), so the check has to happen here, before writing.
var classPlugins = []struct{ prefix, plugin string }{
	{"flow-definition", "workflow-job"},
	{"org.jenkinsci.plugins.workflow.job.", "workflow-job"},
	{"org.jenkinsci.plugins.workflow.cps.", "workflow-cps"},
	{"org.jenkinsci.plugins.workflow.libs.", "pipeline-groovy-lib"},
	{"com.cloudbees.hudson.plugins.folder.", "cloudbees-folder"},
	{"org.jenkinsci.plugins.credentialsbinding.", "credentials-binding"},
	{"io.jenkins.plugins.oidc_provider.", "oidc-provider"},
	{"io.jenkins.plugins.oidc__provider.", "oidc-provider"}, // as an XStream element name
	{"hudson.plugins.git.", "git"},
	{"jenkins.plugins.git.", "git"},
}

// stepPlugins maps Pipeline steps and symbols to the plugin contributing
// them. workflow-cps depends on none of these (it lists them at test scope
// only), so a controller with Pipeline: Groovy may still lack each:
// workflow-durable-task-step (ExecutorStep, ShellStep, BatchScriptStep,
// PowershellScriptStep), workflow-basic-steps, pipeline-stage-step
// (StageStep), workflow-scm-step (GenericSCMStep), pipeline-groovy-lib
// (LibraryStep, SCMSourceRetriever's modernSCM), credentials-binding
// (BindingStep and its bindings' symbols), git (GitStep).
var stepPlugins = map[string]string{
	"node": "workflow-durable-task-step", "sh": "workflow-durable-task-step", "bat": "workflow-durable-task-step",
	"powershell": "workflow-durable-task-step", "pwsh": "workflow-durable-task-step", "ws": "workflow-durable-task-step",

	"catchError": "workflow-basic-steps", "dir": "workflow-basic-steps", "echo": "workflow-basic-steps",
	"error": "workflow-basic-steps", "fileExists": "workflow-basic-steps", "isUnix": "workflow-basic-steps",
	"pwd": "workflow-basic-steps", "readFile": "workflow-basic-steps", "timeout": "workflow-basic-steps",
	"withEnv": "workflow-basic-steps", "writeFile": "workflow-basic-steps", "retry": "workflow-basic-steps",
	"sleep": "workflow-basic-steps", "deleteDir": "workflow-basic-steps", "stash": "workflow-basic-steps",
	"unstash": "workflow-basic-steps", "tool": "workflow-basic-steps", "warnError": "workflow-basic-steps",
	"unstable": "workflow-basic-steps", "waitUntil": "workflow-basic-steps",

	"stage":    "pipeline-stage-step",
	"checkout": "workflow-scm-step",
	"git":      "git",
	"library":  "pipeline-groovy-lib", "modernSCM": "pipeline-groovy-lib",

	"withCredentials": "credentials-binding", "string": "credentials-binding", "file": "credentials-binding",
	"usernamePassword": "credentials-binding", "usernameColonPassword": "credentials-binding",
}

// scmClassRE finds the $class of an SCM or SCM source a script names
// ([$class: 'GitSCM', ...], modernSCM([$class: 'GitSCMSource', ...])).
var scmClassRE = regexp.MustCompile(`\$class\s*:\s*['"](GitSCM|GitSCMSource)['"]`)

// PluginsForConfig returns the plugins that define the classes configXML
// uses, sorted. Core classes need none.
func PluginsForConfig(configXML []byte) ([]string, error) {
	set := map[string]bool{}
	d := xml.NewDecoder(bytes.NewReader(StripDeclaration(configXML)))
	d.Strict = true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		cands := []string{se.Name.Local}
		for _, a := range se.Attr {
			if a.Name.Local == "class" {
				cands = append(cands, a.Value)
			}
		}
		for _, c := range cands {
			for _, cp := range classPlugins {
				if c == cp.prefix || strings.HasPrefix(c, cp.prefix) {
					set[cp.plugin] = true
				}
			}
		}
	}
	return sortedKeys(set), nil
}

// PluginsForScript returns the plugins that contribute the steps a
// Pipeline script (a Jenkinsfile or a shared library's vars/*.groovy)
// calls, sorted: every known step name used as a call (name(...),
// name {...}, or command syntax name 'x'), outside comments and string
// literals, plus @Library and the GitSCM classes the script names.
func PluginsForScript(script []byte) []string {
	set := map[string]bool{}
	code := groovyCode(string(script))
	for _, m := range callRE.FindAllStringSubmatch(code, -1) {
		if p, ok := stepPlugins[m[1]]; ok {
			set[p] = true
		}
	}
	if libraryRE.MatchString(code) {
		set["pipeline-groovy-lib"] = true
	}
	if scmClassRE.Match(script) {
		set["git"] = true
	}
	return sortedKeys(set)
}

var (
	// callRE: an identifier not after "." or "def", followed by "(",
	// "{" or the start of a command-syntax argument (a quote, "[" or
	// an identifier, as in checkout scm).
	callRE    = regexp.MustCompile(`(?m)(?:^|[^.\w$])([A-Za-z_]\w*)[ \t]*(?:\(|\{|'|"|\[|[A-Za-z_])`)
	libraryRE = regexp.MustCompile(`@(?:org\.jenkinsci\.plugins\.workflow\.libs\.)?Library\b`)
)

// groovyCode blanks out comments and the contents of string literals
// (keeping their quotes, so command syntax still shows), so a step name
// inside sh '...' text is not taken for a call.
func groovyCode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "//"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return b.String()
			}
			i += j
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return b.String()
			}
			b.WriteByte(' ')
			i += j + 4
		case s[i] == '\'' || s[i] == '"':
			q := s[i : i+1]
			if strings.HasPrefix(s[i:], q+q+q) {
				q += q + q // a triple-quoted string
			}
			j := closing(s[i+len(q):], q)
			b.WriteString(q + q)
			if j < 0 {
				return b.String()
			}
			i += len(q) + j + len(q)
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

// closing finds the unescaped quote q in s.
func closing(s, q string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(s[i:], q) {
			return i
		}
	}
	return -1
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
