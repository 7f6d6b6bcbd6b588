// Package jenkinstest is an in-memory Jenkins controller that speaks the
// HTTP API the way a real one does, for tests and for the demo: the core
// item, auth, crumb and plugin APIs, the credentials plugin's REST API, the
// oidc-provider plugin (keys, tokens, discovery), and freestyle and Pipeline
// builds whose shell steps really run on this machine.
//
// Fidelity is the point: status codes, headers, XML and JSON shapes and
// error bodies follow Jenkins' source (see the project's reference notes).
// Where a behaviour is derived rather than observed, the emulator does the
// strictest plausible thing and an Option relaxes it:
//
//   - config.xml comes back as Jenkins saves it: an XML 1.1 declaration,
//     XStream's indentation and escaping (&apos; &quot;), comments dropped,
//     and plugin="name@version" on plugin-owned elements. Clients must
//     normalise before comparing.
//   - Query parameters are form-decoded ("+" is a space), path segments
//     percent-decoded ("+" stays "+"), item names are case-insensitive, and
//     "//" or an encoded "/" in a path is a 400, as on Jetty 12.
//   - IdToken credentials get an RSA-2048 key only on the constructor paths
//     (form createCredentials, updateSubmit); XML without <privateKey>, or
//     with <secret-redacted/>, fails with 500. updateSubmit takes the
//     credential object itself as the "json" field, not {"credentials":…}.
//   - A folder config.xml POST without the FolderCredentialsProperty drops
//     the folder's credentials (WithFolderConfigKeepsCredentials to keep them).
//   - /crumbIssuer/api/json/api/json (gojenkins v1.2.0) is served, since
//     Stapler runs a do-method whatever path follows (WithDoubledCrumbPath).
//   - installNecessaryPlugins queues downloads that take time
//     (WithPluginDownloadTime); a plugin not installed before loads
//     dynamically when its download ends, an upgrade waits for a restart
//     (WithoutDynamicLoad makes every install wait), during which every
//     request gets a 503.
//   - Tokens carry "aud" as an array, as current oidc-provider releases do
//     (WithAudienceString for the older single string).
//   - /pluginManager/api/json needs Overall/SystemRead (implied by
//     Administer). Jenkins only offers SystemRead with
//     -Djenkins.security.SystemReadPermission=true, so in practice a
//     non-admin account cannot list plugins; the emulator lets a User hold
//     SystemRead to model controllers that enable it.
//   - Builds wait a 50ms quiet period (Jenkins: 5s; WithQuietPeriod).
//   - Header values go out as Jetty writes them: X-Error's ‘’ quotes become
//     spaces (the HTML body keeps them; WithUTF8Headers sends UTF-8).
//
// What is served (each also under /job/<folder>/... where Jenkins has it):
//
//	/api/json, /whoAmI/api/json, /me/api/json       ?depth= and ?tree=
//	/crumbIssuer/api/json                           crumb bound to JSESSIONID.<hex>
//	/createItem, /job/a/job/b/{config.xml,doDelete,api/json,build}
//	/job/x/{<n>,lastBuild,...}/{api/json,consoleText}, /queue/item/<n>/api/json
//	/pluginManager/{api/json,installNecessaryPlugins}, /updateCenter/{api/json,safeRestart}, /safeRestart
//	/credentials/store/system/domain/_/..., /job/F/credentials/store/folder/domain/_/...
//	/oidc/.well-known/openid-configuration, /oidc/jwks, /oidc/job/F/...
//	/descriptorByName/io.jenkins.plugins.oidc_provider.IdTokenStringCredentials/{wellKnownOpenidConfiguration,jwks}
//
// Behaviour → upstream source (jenkinsci/jenkins core unless noted):
//
//	403 + X-Required-Permission/X-Permission-Implied-By   hudson/security/AccessDeniedException3.java, AccessDeniedHandlerImpl.java
//	401 + WWW-Authenticate on a wrong token/password     jenkins/security/BasicHeaderProcessor.java
//	crumb: SHA-256(user;session), POST only, API tokens  hudson/security/csrf/DefaultCrumbIssuer.java, CrumbFilter.java,
//	exempt                                               jenkins/security/ApiCrumbExclusion.java
//	createItem order of checks, 400 + X-Error Failure     hudson/model/ItemGroupMixIn.java, hudson/model/Failure.java
//	(mode=copy: Item/ExtendedRead of the source too)     (copy)  TestCopyNeedsExtendedReadOfTheSource
//	config.xml GET/POST/other, doDelete 302, DELETE 204  hudson/model/AbstractItem.java
//	/pluginManager/api/json needs Overall/SystemRead     hudson/PluginManager.java (getApi), jenkins/model/Jenkins.java (SYSTEM_READ)
//	job "queueItem", Queue.Item visibility 999           hudson/model/Queue.java (@ExportedBean(defaultVisibility = 999)),
//	                                                     hudson/model/Job.java; BlockedBecauseOfBuildInProgress.java
//	"why" durations                                      hudson/Util.java (getTimeSpanString)
//	freestyle assignedNode no node has (canRoam false):  core hudson/model/Queue.java (BuildableItem, maintain), Messages
//	stays a BuildableItem "There are no nodes with the   Queue_LabelHasNoNodes; WithAgentLabels  TestFreestyleLabelWithoutNodeWaits
//	label ‘x’", never runs
//	build: ?delay=, 409 when disabled, Item/Build, POST  jenkins/model/ParameterizedJobMixIn.java (doBuild),
//	or an API token, 201 + queue Location                hudson/model/BuildAuthorizationToken.java, hudson/util/TimeDuration.java
//	?depth= / ?tree= pruning                             stapler org/kohsuke/stapler/export/TreePruner.java
//	bean property order: superclass first, then by name  stapler export/Model.java, Property.compareTo
//	@Exported(inline = true) (an update center job's     stapler export/Exported.java (inline), TreePruner.ByDepth
//	status) is not cut by ?depth=
//	X-Jenkins(-Session) on /api/*; X-Hudson only on      hudson/model/Api.java (setHeaders),
//	pages and 403s                                       hudson/Functions.java (advertiseHeaders)
//	credentials REST (create 200/409, config.xml,        jenkinsci/credentials-plugin CredentialsStoreAction.java
//	redacted secrets, doDelete, updateSubmit)
//	IdToken key: RSA-2048 on constructor paths only,     jenkinsci/oidc-provider-plugin IdTokenCredentials.java
//	readResolve failure without <privateKey>
//	claims in a Pipeline from the Run's environment      oidc-provider IdTokenCredentials.token() (build.getEnvironment), workflow-job
//	(env.X included; not withEnv, bindings, WORKSPACE)   WorkflowRun.getEnvironment  TestTokenClaimsFromRunEnvironment;
//	and in freestyle without other bindings' variables   credentials-binding SecretBuildWrapper  TestFreestyleClaimsIgnoreOtherBindings
//	token claims iss, aud, exp, iat, templates           oidc-provider IdTokenCredentials.token(), config/IdTokenConfiguration.java,
//	(Integer.valueOf, Boolean.valueOf), sub required     config/IntegerClaimType.java, config/BooleanClaimType.java
//	/oidc discovery + JWKS, 404 empty body, folders      oidc-provider Keys.java, RootIssuer.java, FolderIssuer.java
//	descriptorByName …/jwks needs Manage or Item/Read    oidc-provider IdTokenCredentials.IdTokenCredentialsDescriptor, RootIssuer
//	build credential lookup: enclosing folders nearest   credentials-plugin CredentialsProvider.findCredentialById,
//	first, then the system store without SYSTEM scope    SystemCredentialsProvider.getCredentialsInItem (not(withScope(SYSTEM)))
//	                                                     TestSystemScopedCredentialsInvisibleToBuilds, jenkins.TestEmulatorCredentialScope
//	binding type check: type().isInstance(cred) before   jenkinsci/credentials-binding-plugin MultiBinding.getCredentials,
//	the secret is read (no token minted), else           impl/CredentialNotFoundException.java (an AbortException: "ERROR: …")
//	"Credentials 'x' is of type 'T' where 'I' was        (@0331934, 2026-07)  TestBindingTypeCheckedBeforeMinting
//	expected" (I = interface class name)
//	FileBinding: <dir>@tmp/secretFiles/<uuid>/ 0700,     credentials-binding impl/AbstractOnDiskBinding.java, UnbindableDir.java,
//	file<n>.tmp 0400, the PATH masked, not the content   impl/FileBinding.java; core hudson/slaves/WorkspaceList.java (tempDir)
//	(dir: the step's FilePath, so dir() moves it)        TestPipelineBindingRules
//	freestyle shell: /bin/sh -xe <ws>@tmp/jenkins*.sh     core hudson/tasks/Shell.java (getShellOrDefault), CommandInterpreter.java
//	(dash on Debian), shebang scripts run as written
//	installNecessaryPlugins: Administer, every element's  core hudson/PluginManager.java (doInstallNecessaryPlugins, prevalidateConfig,
//	plugin="n@v" (malformed: 500), new or older only,     parseRequestedPlugins: "Malformed plugin attribute"), hudson/model/UpdateSite.java
//	deps first, 302 to pluginManager/updates/             (Plugin.deploy(true), getNeededDependencies)
//	downloads one at a time; fresh plugin loads          core hudson/model/UpdateCenter.java (InstallationJob, DownloadJob.Pending/
//	dynamically, upgrade SuccessButRequiresRestart        Success/SuccessButRequiresRestart, isRestartRequiredForCompletion),
//	                                                     hudson/PluginManager.java (dynamicLoad, RestartRequiredException)
//	a failed download (WithFailingDownloads): Failure,    core hudson/model/UpdateCenter.java (DownloadJob.run: status = new Failure(e),
//	errorMessage the exception's message                 error = e; UpdateCenterJob.getErrorMessage)
//	updateCenter/safeRestart: POST, Administer, a         core hudson/model/UpdateCenter.java (doSafeRestart, RestartJenkinsJob)
//	RestartJenkinsJob behind the downloads, 302 to "."
//	/safeRestart: POST, Overall/Manage (2.475+; before    core jenkins/model/Jenkins.java (doSafeRestart, safeRestart: waits for
//	Administer), waits for builds only, 302 to root       executors, not for the update center)
//	unknown class in a posted config (missing plugin):    core hudson/util/RobustReflectionConverter.java (non-critical field error),
//	200, element dropped (null SCM without git); the      hudson/diagnosis/OldDataMonitor.java; workflow-cps CpsScmFlowDefinition (null scm)
//	posted text stays config.xml until the next save
//	unknown root class (job type's plugin missing): 500  core hudson/model/Items.java (load), ItemGroupMixIn.createProjectFromXML
//	a plugin whose mandatory dependency is missing or     core hudson/PluginManager.java (start; "Failed to load: …"),
//	too old is listed inactive; it loads only after a     hudson/PluginWrapper.java (resolvePluginDependencies: "Plugin is missing"); dynamicLoad
//	restart, also once the dependency is installed        refuses a plugin whose dependencies are not loaded
//
// Every request the product's client (package jenkins) makes, the upstream
// code that answers it, and the emulator tests that pin the answer (in
// this package unless named jenkins.Test…, the client against the emulator):
//
//	GET  /whoAmI/api/json                        core hudson/security/WhoAmI.java; X-Jenkins: hudson/model/Api.java
//	                                             TestWhoAmIAndRoot, jenkins.TestEmulatorAuthErrors
//	GET  /api/json?tree=url (root URL, null      core jenkins/model/Jenkins.java (getConfiguredRootUrl exported as url)
//	     when unset), ?tree=mode (WaitReady)     TestNoRootURL, TestPluginsAndRestart
//	GET  /crumbIssuer/api/json                   core hudson/security/csrf/DefaultCrumbIssuer.java, CrumbIssuer.java (getApi)
//	                                             TestCrumbs, TestCrumbXPathAndMe, TestGojenkins
//	GET  /pluginManager/api/json?tree=plugins[…] core hudson/PluginManager.java (getApi: SYSTEM_READ), hudson/PluginWrapper.java
//	                                             TestPluginsAndRestart, jenkins.TestEmulatorPlugins
//	POST /pluginManager/installNecessaryPlugins  core hudson/PluginManager.java (see above)    TestPluginInstallIsAsynchronous,
//	                                             TestRestartPermissions, jenkins.TestEmulatorPlugins
//	GET  /updateCenter/api/json?tree=jobs[…]     core hudson/model/UpdateCenter.java (getJobs, InstallationJob, DownloadJob statuses)
//	                                             TestPluginInstallIsAsynchronous
//	POST /updateCenter/safeRestart               core hudson/model/UpdateCenter.java (doSafeRestart)   TestPluginInstallIsAsynchronous,
//	                                             TestRestartPermissions, jenkins.TestEmulatorPlugins
//	GET  /job/…/api/json?tree=jobs[…] (ListJobs, core hudson/model/Api.java + stapler TreePruner; cloudbees-folder AbstractFolder
//	     one request per 10 levels), ?tree=_class (getItems exported)   TestTreeAndDepth, TestItemsLifecycleAndNames, jenkins.TestListJobs
//	POST /…/createItem?name= (job, folder, lease core hudson/model/ItemGroupMixIn.java (createTopLevelItem), jenkins/model/Jenkins.java
//	     item; XML body)                         (checkGoodName); cloudbees-folder Folder    TestCreateItemErrors, TestCheckGoodName,
//	                                             TestConcurrentCreateIsSerialized, TestUnknownClassesDropped, jenkins.TestEmulatorJobs
//	GET/POST /job/…/config.xml                   core hudson/model/AbstractItem.java (doConfigDotXml, updateByXml), XmlFile (identity
//	                                             copy)  TestIdentityCopy, TestCopyAndFolderCredentialsDrop, jenkins.TestEmulatorIdentityCopyThenSaved
//	POST /job/…/doDelete (302)                   core hudson/model/AbstractItem.java (doDoDelete)  TestItemsLifecycleAndNames,
//	                                             jenkins.TestDeleteJobReads302AsDone
//	POST /job/…/build (201 + Location)           core jenkins/model/ParameterizedJobMixIn.java (doBuild)  TestBuildTrigger, jenkins.TestEmulatorBuild
//	GET  /job/…/api/json?tree=nextBuildNumber,   core hudson/model/Job.java, hudson/model/Queue.java (Item export), Run.java
//	     inQueue; /queue/item/<n>/api/json;      TestJobQueueItem, TestBlockedQueueItem, TestFreestyleBuild,
//	     /job/…/{<n>,lastBuild}/api/json (gojenkins jenkins.TestEmulatorBuild, jenkins.TestEmulatorTriggerUnderFaults
//	     Build.Poll, depth=1); …/<n>/consoleText  (core jenkins/model/PeepholePermalink.java for lastBuild, Run.doConsoleText)
//	GET  …/credentials/store/{system,folder}/    credentials-plugin CredentialsStoreAction.java (DomainWrapper, CredentialsWrapper;
//	     domain/_/api/json?tree=credentials[…],  getCredentials exported, doConfigDotXml redacts secrets; DELETE)
//	     …/credential/<id>/config.xml (GET,      TestCredentialsREST, jenkins.TestEmulatorCredentials
//	     DELETE)
//	POST …/createCredentials (form json=)        credentials-plugin CredentialsStoreAction.DomainWrapper.doCreateCredentials (302 before
//	                                             1488.v9049e8c8b_d98, JSON / 409 "Credentials with specified ID already exist" after)
//	                                             TestCredentialsFormAnswersByVersion, jenkins.TestEmulatorOldCredentialsPlugin
//	POST …/credential/<id>/updateSubmit          credentials-plugin CredentialsWrapper.doUpdateSubmit   TestCredentialsREST
//	GET  /oidc/.well-known/openid-configuration, oidc-provider Keys.java, RootIssuer.java, FolderIssuer.java; descriptor:
//	     /oidc/jwks, /job/F/oidc/…,              IdTokenCredentials.IdTokenCredentialsDescriptor (custom issuer)
//	     /descriptorByName/…/{wellKnown…,jwks}   TestDiscoveryAndKeyRotation, TestFolderIssuer, TestCustomIssuerEqualToJenkinsNotServed,
//	                                             jenkins.TestDiscoveryPaths
//
// Builds run through a runner per job kind (runner.go: freestyleRunner,
// pipelineRunner); credential bindings are one service (bindings.go) that
// the freestyle SecretBuildWrapper and Pipeline's withCredentials share.
// Shell steps run with this machine's /bin/sh -xe, as Jenkins runs them
// (dash on Debian), unless the script starts with a shebang.
//
// Pipeline builds (WorkflowJob: inline CpsFlowDefinition, or
// CpsScmFlowDefinition checked out with the real git) run their script on
// Debian's Groovy 2.4, the Groovy Jenkins bundles, with the step runtime in
// pipeline_runtime.groovy: each step calls back into the emulator over
// loopback HTTP. Scripts run as plain Groovy, not CPS-transformed, and
// nothing survives a restart. Steps it does not model fail the build with
// DSL's NoSuchMethodError; without groovy a build fails saying what to
// install. Step → upstream source:
//
//	[Pipeline] lines, Start/End of Pipeline, "ERROR: msg"  workflow-job WorkflowRun, workflow-support LogActionImpl
//	for an AbortException, the exception otherwise
//	unknown step: NoSuchMethodError "No such DSL method"  workflow-cps DSL.java (invokeMethod); CpsScript.java (sleep N is the step,
//	(sleep too: not modelled, never Groovy's own sleep)  not DefaultGroovyStaticMethods.sleep)  TestPipelineFailures
//	each step only with its plugin active: node/sh/bat    workflow-durable-task-step (ExecutorStep, ShellStep, BatchScriptStep);
//	durable-task-step, withEnv/isUnix/error/pwd/dir/...   workflow-basic-steps; pipeline-stage-step StageStep; workflow-scm-step
//	basic-steps, stage, checkout, library, withCredentials GenericSCMStep; pipeline-groovy-lib LibraryStep; credentials-binding BindingStep
//	@Library without pipeline-groovy-lib: compile error   pipeline-groovy-lib LibraryDecorator (absent: the annotation class is unresolvable)
//	checkout([$class: 'GitSCM', …]) without git:          structs DescribableModel.resolveClass (UnsupportedOperationException
//	"no known implementation of class hudson.scm.SCM…"  "no known implementation of " + base + " is named " + name)
//	no flow definition (workflow-cps missing): fails      workflow-job WorkflowRun.run ("No flow definition, cannot run")
//	secret in a step's arguments: interpolation warning   workflow-cps DSL.java (reportInsecureInterpolation)
//	node(label): built-in node (WithAgentLabels), ws and  workflow-durable-task-step ExecutorStepExecution, core WorkspaceList.tempDir;
//	@tmp; an unknown label would wait forever: fails      core Messages "There are no nodes with the label ‘{0}’"
//	sh: <ws>@tmp/durable-<hex>/script.sh, 'sh' -xe (PATH, durable-task BourneShellScript.java (@8dcdaa8), workflow-durable-task-step
//	dash on Debian) unless #!, returnStdout/returnStatus, ShellStep/DurableTaskStep; exit code → "script returned exit code N"
//	encoding (default: agent charset, ASCII here)
//	bat/powershell on a Unix agent: IOException          durable-task WindowsBatchScript.java ("Batch scripts can only be run on Windows nodes")
//	steps needing a workspace outside node (FilePath;     workflow-step-api MissingContextVariableException, StepDescriptor.getRequiredContext;
//	isUnix: Launcher)                                    workflow-basic-steps IsUnixStep.java  TestPipelineFailures
//	withCredentials: bindings service, "Masking supported credentials-binding impl/BindingStep.java (Execution2.doStart, Overrider, Filter),
//	pattern matches of $A or $B" (secret values in each  impl/UsernamePasswordMultiBinding.java (secret username before the password),
//	binding's order), masks in the block only; file and  BindingDescriptor.requiresWorkspace (true; only StringBinding overrides it)
//	usernamePassword outside node: MissingContextVariable TestPipelineBindingRules
//	println/print are the echo step                      workflow-cps CpsScript.java (println → invokeMethod("echo", …))
//	withEnv: NAME=v, NAME+X=v prepends, NAME= unsets; no  workflow-basic-steps EnvStep.java, core EnvVars.override
//	expansion
//	stage, dir, pwd(tmp), isUnix, echo, error, writeFile, workflow-basic-steps (StageStep in pipeline-stage-step), PwdStep, ReadFileStep,
//	readFile, fileExists, catchError(buildResult)         WriteFileStep, FileExistsStep, CatchErrorStep, ErrorStep (AbortException)
//	timeout: "Timeout set to expire in", interrupts the   workflow-basic-steps TimeoutStepExecution.java; FlowInterruptedException → ABORTED
//	body's processes, build ABORTED
//	env (EnvActionImpl), currentBuild.result (worse only) workflow-cps EnvActionImpl.java, workflow-support RunWrapper; core Run.setResult
//	a bare unknown property falls back to env (FOO =     workflow-cps CpsScript.getProperty  TestPipelineBindingRules
//	env.FOO), else MissingPropertyException
//	checkout scm (SCM jobs only), GitSCM maps; file://    git-plugin GitSCM.java (abortIfSourceIsLocal, @add6e4dc), workflow-multibranch SCMVar
//	and local paths refused (WithAllowLocalCheckout)
//	@Library('n@v') _ and library: global trusted         pipeline-groovy-lib LibraryDecorator (CONVERSION phase), LibraryAdder
//	libraries (WithGlobalLibrary: default version; any    ("No version specified", "Version override not permitted": LibraryConfiguration
//	@version, even the default, needs AllowOverride),     .defaultedVersion), LibraryStep ("Must specify a version" with a retriever,
//	library(retriever: modernSCM(...)) untrusted; a       "Only using first definition"), SCMSourceRetriever; vars/*.groovy as globals,
//	second load keeps the first; vars/*.groovy globals    src/ on the classpath  TestLibraryVersionRules (@5cc6888)
//	sandbox=false inline script: approved when saved by  script-security ScriptApproval.configuring (approveIfAdmin), using;
//	an Administer user, else builds fail with            workflow-cps CpsFlowDefinition (readResolve, create)
//	UnapprovedUsageException                             TestUnsandboxedScriptNeedsApproval
//	sandbox: untrusted code (sandbox=true, SCM scripts,   script-security blacklist "staticMethod org.codehaus.groovy.runtime.
//	modernSCM libraries) may not call DGM getAt(Object,    DefaultGroovyMethods getAt java.lang.Object java.lang.String" (SECURITY-538),
//	String), i.e. env['X']; only that rule is modelled    RejectedAccessException
package jenkinstest
