// Test harness for package render (written for this repository): runs under
// plain Debian Groovy 2.4.21, one JVM per test group. Modes:
//
//   harness.groovy parse LIST OUT
//       Parse-only check (CompilationUnit up to Phases.CONVERSION, the phase
//       before class resolution, so @Library and pipeline steps need not
//       exist) of every file named in LIST; writes {file: error-or-null}.
//   harness.groovy jenkinsfiles LIST OUT
//       LIST lines are "P<TAB>path" (parse only) or "E<TAB>path" (parse,
//       then run against a recording stub of the pipeline DSL, no shell).
//       Writes {path: {parseError, evalError, calls: [[step, argsJSON]...]}}
//       so the Go test can compare each string literal with the spec value.
//   harness.groovy vars SCENARIOS OUT
//       Runs the vars/ steps (and Jenkinsfiles using them) as described by
//       the SCENARIOS JSON against a stub whose sh runs real /bin/sh -xe;
//       writes one result per scenario (error, recorded calls, console).
//       Every vars/*.groovy is loaded as Jenkins loads a shared library's
//       global variables (loadVars), so the steps reach their shared
//       helpers as the cloudsmithSupport variable.
//
// The stub keeps bound secrets out of Groovy: withCredentials puts them in
// an environment only sh/bat processes see, never in `env`, so a step that
// passes a secret through a Groovy string fails the Go test's check of the
// recorded calls.

import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.Phases

// Jenkins provides @Library; this stand-in lets Jenkinsfiles load here.
@interface Library { String[] value() }

class PipelineError extends RuntimeException {
    PipelineError(String msg) { super(msg) }
}

// StubEnv stands in for workflow-cps' EnvActionImpl: env.getProperty(name)
// (the one form script-security allows untrusted code, CpsWhitelist) and
// env.NAME give the variable or null. It is a map for the stub's own use.
class StubEnv extends LinkedHashMap<String, String> {
    Object getProperty(String name) { return get(name) }
}

// The abort Jenkins throws into a running step (workflow-step-api), made
// here under its real name, which the vars/ cleanup tests for.
Class flowInterrupted = new GroovyClassLoader(this.class.classLoader).parseClass(
    'package org.jenkinsci.plugins.workflow.steps; class FlowInterruptedException extends InterruptedException { FlowInterruptedException(String m) { super(m) } }')

class Stub {
    StubEnv env = new StubEnv()
    Class flowInterrupted
    Map<String, String> shellOnly = [:]
    Map<String, String> secrets = [:]
    boolean unix = true
    boolean runShell = true
    String batStdout = ''
    File tmp
    File console
    List calls = []

    void record(String step, Object args) {
        calls << [step, JsonOutput.toJson(args)]
    }

    void log(String s) {
        if (console != null) {
            console << s
        }
    }

    Binding binding() {
        Binding b = new Binding()
        b.setVariable('env', env)
        b.setVariable('scm', [$class: 'stub-scm'])
        for (String n : ['withEnv', 'withCredentials', 'string', 'file', 'usernamePassword', 'sh', 'bat',
                         'isUnix', 'error', 'echo', 'pwd', 'node', 'checkout', 'library', 'modernSCM']) {
            b.setVariable(n, this.&"$n")
        }
        return b
    }

    def withEnv(List entries, Closure body) {
        record('withEnv', entries.collect { it.toString() })
        Map saved = new LinkedHashMap(env)
        try {
            for (Object e : entries) {
                String s = e.toString()
                int i = s.indexOf('=')
                String k = s.substring(0, i)
                String v = s.substring(i + 1)
                // hudson.EnvVars.override: an empty value removes the variable.
                if (v) { env[k] = v } else { env.remove(k) }
            }
            return body()
        } finally {
            env.clear()
            env.putAll(saved)
        }
    }

    def withCredentials(List bindings, Closure body) {
        record('withCredentials', bindings)
        Map saved = new LinkedHashMap(shellOnly)
        List<File> files = []
        try {
            for (Map b : bindings) {
                String secret = secrets[b.credentialsId]
                if (secret == null && !runShell) {
                    secret = 'placeholder'
                }
                if (secret == null) {
                    throw new PipelineError("Could not find credentials entry with ID '${b.credentialsId}'")
                }
                if (b.type == 'string') {
                    shellOnly[b.variable] = secret
                } else if (b.type == 'file') {
                    File f = File.createTempFile('secret', '.id_token', tmp)
                    f.text = secret
                    files << f
                    shellOnly[b.variable] = f.path
                } else if (b.type == 'usernamePassword') {
                    shellOnly[b.usernameVariable] = 'user'
                    shellOnly[b.passwordVariable] = secret
                } else {
                    throw new PipelineError("unknown binding ${b.type}")
                }
            }
            return body()
        } finally {
            shellOnly.clear()
            shellOnly.putAll(saved)
            files*.delete()
        }
    }

    Map string(Map m) { [type: 'string'] + m }
    Map file(Map m) { [type: 'file'] + m }
    Map usernamePassword(Map m) { [type: 'usernamePassword'] + m }

    // library records the library step; modernSCM gives back its map, so
    // the retriever shows in the recorded arguments.
    def library(Map m) {
        record('library', m)
        return null
    }
    Map modernSCM(Map m) { m }

    def sh(Object arg) {
        Map m = arg instanceof Map ? arg : [script: arg.toString()]
        record('sh', m)
        if (!runShell) {
            return m.returnStdout ? '' : (m.returnStatus ? 0 : null)
        }
        if (env.FAKE_ABORT_CLEANUP && m.script.startsWith('rm -rf')) {
            throw flowInterrupted.newInstance('aborted during cleanup')
        }
        File f = File.createTempFile('script', '.sh', tmp)
        f.text = m.script
        ProcessBuilder pb = new ProcessBuilder('/bin/sh', '-xe', f.path)
        Map penv = pb.environment()
        penv.clear()
        penv.putAll(env)
        penv.putAll(shellOnly)
        pb.redirectError(ProcessBuilder.Redirect.appendTo(console))
        Process p = pb.start()
        p.outputStream.close()
        String out = p.inputStream.getText('UTF-8')
        int rc = p.waitFor()
        f.delete()
        if (!m.returnStdout) {
            log(out)
        }
        if (m.returnStatus) {
            return rc
        }
        if (rc != 0) {
            throw new PipelineError("script returned exit code ${rc}")
        }
        return m.returnStdout ? out : null
    }

    def bat(Object arg) {
        Map m = arg instanceof Map ? arg : [script: arg.toString()]
        record('bat', m)
        return m.returnStdout ? batStdout : (m.returnStatus ? 0 : null)
    }

    boolean isUnix() { unix }

    void error(String msg) {
        record('error', msg)
        throw new PipelineError(msg)
    }

    void echo(Object msg) {
        record('echo', msg.toString())
        log(msg.toString() + '\n')
    }

    String pwd(Map m = [:]) {
        File d = new File(tmp, m.tmp ? 'ws@tmp' : 'ws')
        d.mkdirs()
        return d.path
    }

    def node(Object... args) {
        record('node', args.length > 1 ? args[0] : null)
        return ((Closure) args[-1]).call()
    }

    void checkout(Object arg) {
        record('checkout', arg)
    }
}

def readList(String path) {
    new File(path).readLines('UTF-8').findAll { it }
}

def write(String path, Object value) {
    new File(path).setText(JsonOutput.toJson(value), 'UTF-8')
}

// stepCallable wraps a vars/ script the way Jenkins exposes a global
// variable: name(...) invokes its call method.
Closure stepCallable(Script s) {
    return { Object... a -> s.invokeMethod('call', a) }
}

// loadVars loads every vars/*.groovy in dir the way a Jenkins shared
// library exposes them (pipeline-groovy-lib's UserDefinedGlobalVariable):
// each is one Script instance with a binding of its own holding the
// pipeline steps, and every name resolves in every script (the
// Jenkinsfile's and each other's): a script with a call method is invoked
// like a step, name(...); any other is the Script object itself, whose
// methods are called on it (cloudsmithSupport.settings(...)).
Map<String, Script> loadVars(Stub stub, String dir, Binding main) {
    Map<String, Script> vars = [:]
    List<File> files = new File(dir).listFiles().findAll { it.name.endsWith('.groovy') }.sort { it.name }
    for (File f : files) {
        vars[f.name - '.groovy'] = new GroovyShell(this.class.classLoader, stub.binding()).parse(f)
    }
    for (Binding b : [main] + vars.values()*.binding) {
        vars.each { String name, Script s ->
            b.setVariable(name, s.metaClass.respondsTo(s, 'call') ? stepCallable(s) : s)
        }
    }
    return vars
}

Script load(GroovyShell shell, String path) {
    return shell.parse(new File(path))
}

// parseError compiles path up to Phases.CONVERSION and returns the error,
// or null.
String parseError(String path) {
    CompilerConfiguration cc = new CompilerConfiguration()
    cc.sourceEncoding = 'UTF-8'
    CompilationUnit cu = new CompilationUnit(cc)
    cu.addSource(new File(path))
    try {
        cu.compile(Phases.CONVERSION)
        return null
    } catch (Exception e) {
        return e.message
    }
}

String mode = args[0]
if (mode == 'parse') {
    Map result = [:]
    for (String path : readList(args[1])) {
        result[path] = parseError(path)
    }
    write(args[2], result)
} else if (mode == 'jenkinsfiles') {
    Map result = [:]
    for (String line : readList(args[1])) {
        String flag = line.substring(0, 1)
        String path = line.substring(2)
        Map r = [parseError: parseError(path), evalError: null, calls: []]
        result[path] = r
        if (flag != 'E' || r.parseError != null) {
            continue
        }
        Stub stub = new Stub(runShell: false, tmp: File.createTempDir())
        Binding b = stub.binding()
        b.setVariable('withCloudsmith', { Object... a ->
            stub.record('withCloudsmith', a[0])
            ((Closure) a[-1]).call()
        })
        try {
            new GroovyShell(this.class.classLoader, b).parse(new File(path)).run()
        } catch (Throwable e) {
            r.evalError = e.toString()
        }
        r.calls = stub.calls
    }
    write(args[2], result)
} else if (mode == 'vars') {
    List scenarios = new JsonSlurper().parse(new File(args[1]), 'UTF-8')
    List results = []
    for (Map sc : scenarios) {
        File tmp = new File(sc.tmp)
        tmp.mkdirs()
        Stub stub = new Stub(tmp: tmp, console: new File(tmp, 'console.log'), flowInterrupted: flowInterrupted,
            unix: sc.unix != false, batStdout: sc.batStdout ?: '',
            secrets: sc.secrets ?: [:])
        stub.console.text = ''
        stub.env.putAll(sc.env ?: [:])
        Binding b = stub.binding()
        GroovyShell shell = new GroovyShell(this.class.classLoader, b)
        Map<String, Script> vars = loadVars(stub, sc.vars, b)
        if (!vars.containsKey('withCloudsmith') || !vars.containsKey('cloudsmithExec')) {
            throw new IllegalStateException("${sc.vars} lacks withCloudsmith.groovy or cloudsmithExec.groovy")
        }
        Map r = [name: sc.name, error: null, result: null, bodyEnv: null]
        try {
            if (sc.jenkinsfile) {
                load(shell, sc.jenkinsfile).run()
            } else if (sc.step == 'withCloudsmith') {
                r.result = b.getVariable('withCloudsmith').call(sc.args ?: [:]) {
                    for (String s : sc.body ?: []) {
                        stub.sh(s)
                    }
                    r.bodyEnv = new LinkedHashMap(stub.env)
                    if (sc.bodyFails) {
                        throw new PipelineError('body failed')
                    }
                    'body result'
                }
            } else {
                r.result = b.getVariable(sc.step).call(sc.args ?: [:])
            }
        } catch (PipelineError e) {
            r.error = e.message
        } catch (InterruptedException e) {
            r.error = e.getClass().getName() + ': ' + e.message
        } catch (Throwable e) {
            r.error = 'unexpected ' + e.toString()
        }
        r.calls = stub.calls
        r.envAfter = new LinkedHashMap(stub.env)
        r.console = stub.console.getText('UTF-8')
        results << r
    }
    write(args[2], results)
} else {
    throw new IllegalArgumentException("unknown mode ${mode}")
}
