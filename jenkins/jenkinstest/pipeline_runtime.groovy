// The step runtime of jenkinstest's Pipeline builds, run by Debian's
// Groovy 2.4 (the Groovy Jenkins core bundles). Steps are methods of
// PipelineScript, the base class of the Jenkinsfile and of every library
// var; each calls back into the Go emulator over loopback HTTP, which runs
// the step as the upstream plugin does and writes the console. Block steps
// (node, stage, withEnv, withCredentials, dir, timeout, catchError) keep
// their context here, in Rt.ctx, and send it with every step.
//
// Usage: groovy pipeline_runtime.groovy <endpoint> <token-file> <script-file> <sandbox true|false>

import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import org.codehaus.groovy.ast.*
import org.codehaus.groovy.ast.expr.*
import org.codehaus.groovy.classgen.GeneratorContext
import org.codehaus.groovy.control.CompilePhase
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.SourceUnit
import org.codehaus.groovy.control.customizers.CompilationCustomizer
import org.codehaus.groovy.syntax.Types

// StepError is a step's failure as the emulator reports it: the Java
// class Jenkins would throw and its message.
class StepError extends RuntimeException {
    String javaClass
    StepError(String javaClass, String message) { super(message); this.javaClass = javaClass }
    String toString() { javaClass + ': ' + message }
}

// Rt is the connection to the emulator and the current block context.
class Rt {
    static String endpoint
    static String token
    static Map ctx = [env: [], bindings: [], dir: null, node: false, deadline: 0]
    static Map globals = [:]        // library var name -> instance
    static List<String> libDirs = []

    static Object call(String step, Map args) {
        HttpURLConnection c = (HttpURLConnection) new URL(endpoint).openConnection()
        c.requestMethod = 'POST'
        c.doOutput = true
        c.setRequestProperty('Authorization', 'Bearer ' + token)
        c.setRequestProperty('Content-Type', 'application/json')
        c.outputStream.withWriter('UTF-8') { it << JsonOutput.toJson([step: step, args: args, ctx: ctx]) }
        def res = new JsonSlurper().parse(c.inputStream, 'UTF-8')
        if (res.error) {
            throw new StepError(res.error['class'], res.error.message)
        }
        return res.value
    }

    // block runs body inside a block step: begin/end bracket it in the
    // console, ctx changes apply to the body only.
    static Object block(String step, Map args, Closure body) {
        Map saved = ctx
        Map begun = (Map) call('begin', [step: step, args: args])
        Map inner = [:] + saved
        if (begun?.ctx) {
            inner.putAll((Map) begun.ctx)
        }
        ctx = inner
        Throwable failure = null
        Object value = null
        try {
            value = body.call()
        } catch (Throwable t) {
            failure = t
        } finally {
            ctx = saved
        }
        Map ended = (Map) call('end', [step: step, handle: begun?.handle, error: failure == null ? null : describe(failure)])
        if (ended?.swallow) {
            return null
        }
        if (failure != null) {
            throw failure
        }
        return value
    }

    static Map describe(Throwable t) {
        if (t instanceof StepError) {
            return ['class': t.javaClass, message: t.message]
        }
        return ['class': t.class.name, message: t.message]
    }

    // checkedGetAt is what the Groovy sandbox lets untrusted code do with
    // receiver[index]: DefaultGroovyMethods.getAt(Object, String), property
    // access by name on any object, is on script-security's blacklist
    // (SECURITY-538), while Map, List, array and String indexing and a
    // class's own getAt are allowed.
    static Object checkedGetAt(Object receiver, Object index) {
        if (receiver == null || receiver instanceof Map || receiver instanceof List || receiver.getClass().isArray()) {
            return receiver[index]
        }
        if (receiver instanceof CharSequence && !(index instanceof String)) {
            return receiver[index]
        }
        if (receiver.getClass().getMethods().any { it.name == "getAt" }) {
            return receiver.getAt(index)
        }
        if (index instanceof String) {
            throw new StepError('org.jenkinsci.plugins.scriptsecurity.sandbox.RejectedAccessException',
                'Scripts not permitted to use staticMethod org.codehaus.groovy.runtime.DefaultGroovyMethods getAt java.lang.Object java.lang.String')
        }
        return receiver[index]
    }
}

// EnvAction is the "env" global (workflow-cps EnvActionImpl): reads see
// the step context's environment, writes set a build-wide variable.
class EnvAction extends GroovyObjectSupport {
    Object getProperty(String name) { Rt.call('env.get', [name: name]) }
    void setProperty(String name, Object value) { Rt.call('env.set', [name: name, value: value == null ? null : String.valueOf(value)]) }
    Object getEnvironment() { Rt.call('env.all', [:]) }
    String toString() { 'org.jenkinsci.plugins.workflow.cps.EnvActionImpl@env' }
}

// CurrentBuild is the "currentBuild" global (RunWrapper), in part.
class CurrentBuild extends GroovyObjectSupport {
    Object getProperty(String name) { Rt.call('currentBuild.get', [name: name]) }
    void setProperty(String name, Object value) { Rt.call('currentBuild.set', [name: name, value: value == null ? null : String.valueOf(value)]) }
}

// PipelineScript is the base class of the Jenkinsfile (WorkflowScript)
// and of library vars: the steps the emulator models.
abstract class PipelineScript extends Script {
    static final EnvAction ENV = new EnvAction()
    static final CurrentBuild CURRENT_BUILD = new CurrentBuild()

    Object getProperty(String name) {
        switch (name) {
            case 'env': return ENV
            case 'currentBuild': return CURRENT_BUILD
            case 'params': return [:]
            case 'scm': return Rt.call('scm', [:])
        }
        if (Rt.globals.containsKey(name)) {
            return Rt.globals[name]
        }
        try {
            return super.getProperty(name)
        } catch (MissingPropertyException e) {
            // CpsScript.getProperty: then the build's environment
            // (EnvActionImpl.getProperty), else the original error.
            Object v = Rt.call('env.get', [name: name])
            if (v != null) {
                return v
            }
            throw e
        }
    }

    def methodMissing(String name, Object args) {
        Object[] a = (Object[]) args
        if (Rt.globals.containsKey(name)) {
            return Rt.globals[name].invokeMethod('call', a)
        }
        Rt.call('unknown', [name: name])
        throw new MissingMethodException(name, getClass(), a)
    }

    static Map named(Object[] a, String first) {
        if (a.length >= 1 && a[0] instanceof Map) {
            return (Map) a[0]
        }
        if (a.length >= 1 && a[0] != null) {
            return [(first): a[0]]
        }
        return [:]
    }

    static Map strings(Map m) {
        Map out = [:]
        m.each { k, v ->
            if (v instanceof GString) {
                v = v.toString()
            }
            if (v instanceof List) {
                v = v.collect { it instanceof GString ? it.toString() : it }
            }
            out[String.valueOf(k)] = v
        }
        return out
    }

    // Block steps.
    def node(Closure body) { Rt.block('node', [:], body) }
    def node(String label, Closure body) { Rt.block('node', [label: label], body) }
    def stage(String name, Closure body) { Rt.block('stage', [name: name], body) }
    def stage(Map args, Closure body) { Rt.block('stage', strings(args), body) }
    def withEnv(List vars, Closure body) { Rt.block('withEnv', [overrides: vars.collect { String.valueOf(it) }], body) }
    def withCredentials(List bindings, Closure body) { Rt.block('withCredentials', [bindings: bindings.collect { it instanceof Map ? strings(it) : it }], body) }
    def dir(String path, Closure body) { Rt.block('dir', [path: path], body) }
    def timeout(Map args, Closure body) { Rt.block('timeout', strings(args), body) }
    def timeout(Number minutes, Closure body) { Rt.block('timeout', [time: minutes], body) }
    def catchError(Closure body) { Rt.block('catchError', [:], body) }
    def catchError(Map args, Closure body) { Rt.block('catchError', strings(args), body) }

    // Binding symbols of withCredentials.
    Map string(Map args) { [symbol: 'string'] + strings(args) }
    Map file(Map args) { [symbol: 'file'] + strings(args) }
    Map usernamePassword(Map args) { [symbol: 'usernamePassword'] + strings(args) }

    // Simple steps.
    def sh(Object... a) { Rt.call('sh', strings(named(a, 'script'))) }
    def bat(Object... a) { Rt.call('bat', strings(named(a, 'script'))) }
    def powershell(Object... a) { Rt.call('powershell', strings(named(a, 'script'))) }
    def echo(Object message) { Rt.call('echo', [message: String.valueOf(message)]); null }
    // CpsScript: println and print are the echo step (a "[Pipeline] echo"
    // line, masked only inside withCredentials), not the process's stdout.
    void println() { echo('') }
    void println(Object value) { echo(String.valueOf(value)) }
    void print(Object value) { echo(String.valueOf(value)) }
    // CpsScript.sleep: "sleep 5" is the sleep step (not modelled, so the
    // build fails), never Groovy's own sleep of 5 milliseconds.
    def sleep(long time) { methodMissing('sleep', [time] as Object[]) }
    def error(Object message) { Rt.call('error', [message: String.valueOf(message)]) }
    boolean isUnix() { Rt.call('isUnix', [:]) }
    def pwd(Map args = [:]) { Rt.call('pwd', strings(args)) }
    def writeFile(Map args) { Rt.call('writeFile', strings(args)); null }
    def readFile(Object... a) { Rt.call('readFile', strings(named(a, 'file'))) }
    def fileExists(Object... a) { Rt.call('fileExists', strings(named(a, 'file'))) }
    def checkout(Object scm) { Rt.call('checkout', [scm: scm instanceof Map ? scm : String.valueOf(scm)]) }
    def library(Object... a) {
        Map args = strings(named(a, 'identifier'))
        Map lib = (Map) Rt.call('library', args)
        Loader.loadLibrary(lib)
        return null
    }
    Map modernSCM(Map args) { [symbol: 'modernSCM'] + strings(args) }
    Map legacySCM(Map args) { [symbol: 'legacySCM'] + strings(args) }
}

// Loader compiles scripts the way workflow-cps and pipeline-groovy-lib
// do: untrusted code (a sandboxed Jenkinsfile, a library that is not a
// global trusted one) under the sandbox's checks.
class Loader {
    static GroovyClassLoader loader

    static CompilerConfiguration config(boolean sandbox) {
        CompilerConfiguration cc = new CompilerConfiguration()
        cc.scriptBaseClass = PipelineScript.name
        cc.addCompilationCustomizers(new LibraryAnnotations())
        if (sandbox) {
            cc.addCompilationCustomizers(new SandboxGetAt())
        }
        return cc
    }

    static void loadLibrary(Map lib) {
        if (lib.loaded) {
            return // "Only using first definition": the first load stands
        }
        String dir = lib.dir
        boolean trusted = lib.trusted
        File src = new File(dir, 'src')
        if (src.isDirectory()) {
            loader.addClasspath(src.path)
        }
        File vars = new File(dir, 'vars')
        File[] files = vars.isDirectory() ? vars.listFiles() : new File[0]
        GroovyShell shell = new GroovyShell(loader, new Binding(), config(!trusted))
        for (File f : files.sort { it.name }) {
            if (!f.name.endsWith('.groovy')) {
                continue
            }
            String name = f.name[0..-8]
            Script s = shell.parse(f.getText('UTF-8'), name)
            Rt.globals[name] = s
        }
    }
}

// LibraryAnnotations takes @Library('name@version') off the script before
// classes are resolved and loads each library, as pipeline-groovy-lib's
// LibraryDecorator does at the CONVERSION phase.
class LibraryAnnotations extends CompilationCustomizer {
    LibraryAnnotations() { super(CompilePhase.CONVERSION) }

    void call(SourceUnit source, GeneratorContext context, ClassNode classNode) {
        List<String> wanted = []
        def visitor = new ClassCodeVisitorSupport() {
            SourceUnit getSourceUnit() { source }
            void visitAnnotations(AnnotatedNode node) {
                def keep = []
                for (AnnotationNode a : node.annotations) {
                    String n = a.classNode.name
                    if (n == 'Library' || n == 'org.jenkinsci.plugins.workflow.libs.Library') {
                        Expression v = a.getMember('value')
                        if (v instanceof ListExpression) {
                            v.expressions.each { wanted << String.valueOf(((ConstantExpression) it).value) }
                        } else if (v instanceof ConstantExpression) {
                            wanted << String.valueOf(v.value)
                        }
                    } else {
                        keep << a
                    }
                }
                node.annotations.clear()
                node.annotations.addAll(keep)
                super.visitAnnotations(node)
            }
        }
        visitor.visitClass(classNode)
        for (String w : wanted) {
            Loader.loadLibrary((Map) Rt.call('library', [identifier: w, annotation: true]))
        }
    }
}

// SandboxGetAt routes every receiver[index] read through Rt.checkedGetAt.
class SandboxGetAt extends CompilationCustomizer {
    SandboxGetAt() { super(CompilePhase.CANONICALIZATION) }

    void call(SourceUnit source, GeneratorContext context, ClassNode classNode) {
        def t = new ClassCodeExpressionTransformer() {
            SourceUnit getSourceUnit() { source }
            Expression transform(Expression e) {
                if (e instanceof BinaryExpression) {
                    BinaryExpression b = (BinaryExpression) e
                    if (b.operation.type == Types.LEFT_SQUARE_BRACKET) {
                        return new StaticMethodCallExpression(ClassHelper.make(Rt), 'checkedGetAt',
                            new ArgumentListExpression(transform(b.leftExpression), transform(b.rightExpression)))
                    }
                    if (Types.ofType(b.operation.type, Types.ASSIGNMENT_OPERATOR) && b.leftExpression instanceof BinaryExpression) {
                        BinaryExpression l = (BinaryExpression) b.leftExpression
                        l.leftExpression = transform(l.leftExpression)
                        l.rightExpression = transform(l.rightExpression)
                        b.rightExpression = transform(b.rightExpression)
                        return b
                    }
                }
                if (e instanceof ClosureExpression) {
                    e.code.visit(this)
                    return e
                }
                return e.transformExpression(this)
            }
        }
        t.visitClass(classNode)
    }
}

Rt.endpoint = args[0]
Rt.token = new File(args[1]).getText('UTF-8').trim()
String scriptText = new File(args[2]).getText('UTF-8')
boolean sandbox = args[3] == 'true'
Loader.loader = new GroovyClassLoader(this.class.classLoader)
try {
    GroovyShell shell = new GroovyShell(Loader.loader, new Binding(), Loader.config(sandbox))
    Script script = shell.parse(scriptText, 'WorkflowScript')
    script.run()
    Rt.call('finish', [:])
} catch (Throwable t) {
    String trace = ''
    if (!(t instanceof StepError)) {
        StringWriter sw = new StringWriter()
        t.printStackTrace(new PrintWriter(sw))
        trace = sw.toString()
    }
    Rt.call('finish', [error: Rt.describe(t) + [trace: trace]])
}
