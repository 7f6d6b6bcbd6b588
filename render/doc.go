// Package render turns a validated spec into everything a user's Jenkins
// runs, offline: job and folder config.xml, each pipeline's Jenkinsfile, the
// OIDC credential's form JSON and XML, and the vars/ shared-library steps.
//
// Files come from the templates package (embedded), each replaceable by a
// file at the same relative path under the spec's templates_dir or
// Options.TemplatesDir (--templates). Templates run with text/template,
// sprig's hermetic functions (no environment, clock or randomness) and
// missingkey=error.
//
// # Escaping
//
// A template prints a value only through one of these functions; New
// refuses any template (embedded or override) with an output action that
// does not end in one:
//
//   - xml: XML 1.0 character data (&, <, >; CR as &#xD;). Refuses
//     characters XML cannot carry (C0 controls other than tab/LF/CR,
//     U+FFFE, U+FFFF, invalid UTF-8) instead of replacing them.
//   - xmlAttr: as xml, for attribute values (also quotes, and LF and tab as
//     references).
//   - groovy: a Groovy single-quoted string literal '...', in which ${...}
//     is inert; backslash is escaped before the quote, so ”' and a
//     trailing backslash cannot end it, and newline/CR/tab become \n \r \t.
//     Refuses other control characters.
//   - groovyList: a Groovy list of groovy-quoted strings.
//   - sh: one single-quoted POSIX shell word (' becomes '\”).
//   - json: a JSON value (strings with <, >, & as \u escapes).
//   - text: plain help text (vars/*.txt), unchanged; refuses <, > and &,
//     which a Safe HTML markup formatter would read as markup.
//
// They compose innermost first where contexts nest: a shell word in a
// Groovy string in XML is {{ .X | sh | groovy | xml }}, and a whole rendered
// Jenkinsfile embedded as a pipeline's <script> is {{ .Jenkinsfile | xml }}.
//
// # Shared library
//
// Without a spec library.remote, the Jenkinsfiles load the vars/ steps with
// @Library('jenkins-cloudsmith') _ (the spec's library.name, LibraryName by
// default; Options.Library overrides both, e.g. "jenkins-cloudsmith@v1"),
// which finds a Global Trusted Pipeline Library an administrator
// registered under that name (trusted: outside the script sandbox). With
// library.remote and library.version, each Jenkinsfile loads it itself with
// the library step and a modernSCM GitSCMSource retriever: no
// administrator needed, but the code runs in the sandbox, so every call in
// vars/ is one script-security allows (TestVarsSandboxCalls). The committed vars/
// is generated (no org baked in: every setting is an argument with a
// default from the environment); regenerate it with
//
//	jenkins-cloudsmith render --vars-only -o .
//
// or go generate ./render/, and TestCommittedVarsUpToDate fails when they
// differ.
//
// The steps (withCloudsmith, cloudsmithExec) keep their shared code in one
// more global variable, vars/cloudsmithSupport.groovy, and call its
// methods (cloudsmithSupport.settings(args), .runBinary(...)): Jenkins
// instantiates each vars/ script on first use and resolves its name from
// the other scripts of the run, so the helpers are written once instead of
// into every step. The name is specific enough not to collide with another
// library's variables; its help page says it is internal.
//
// # Tests and benchmarks
//
// The tests run real tools on the output: encoding/xml on every document,
// bash on every freestyle shell step (with fakes from testdata/fakebin that
// record their argv), Debian Groovy 2.4.21 on every Groovy file (one JVM per
// test group, testdata/groovy/harness.groovy: parse-only compile, literal
// evaluation, and the vars/ steps run against a stub of the pipeline DSL,
// each vars/ script loaded as a global variable of its own as Jenkins does),
// and the Jenkins and Cloudsmith emulators with the real cloudsmith-oidc.
// bench_jjb.sh prints the time to render 1,000 jobs next to Jenkins Job
// Builder's `jenkins-jobs test` on equivalent jobs.
package render

//go:generate go run ../cmd/jenkins-cloudsmith render --vars-only --out ..
