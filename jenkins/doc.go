// Package jenkins is the client jenkins-cloudsmith uses to read and change
// a Jenkins controller: version, user and plugins, the oidc-provider ID
// token credential, folders and jobs, the OIDC discovery documents, builds,
// and plugin installation.
//
// Every request, including those gojenkins makes, goes through one
// *http.Client whose transport is built from internal/httpx layers (base
// TLS/proxy → Log → Retry → Basic auth for the Jenkins host only → a
// session layer with a cookie jar and the CSRF crumb). Errors from Jenkins
// answers are *HTTPError values matching ErrNotFound, ErrUnauthorized,
// ErrForbidden (naming X-Required-Permission), ErrConflict and
// ErrAlreadyExists; none carries a secret.
//
// Built on github.com/bndr/gojenkins v1.2.0, used where it is right and
// bypassed where it is wrong. Where it is used, a transport layer records
// the last answer so the status code it loses is recovered:
//   - used: Requester.GetJSON for whoAmI (its *http.Response gives the
//     X-Jenkins version), the plugin list with a tree filter, and ListJobs;
//     Build.Poll for build state.
//   - GetQueueItem's Task has no "cancelled" field (a cancelled item would
//     be polled forever): the queue item is read directly.
//   - Init is not called: it re-assigns package-level loggers that print to
//     stdout (a data race between clients, and noise on our stdout); its
//     only other job, the version, comes from the whoAmI answer.
//   - HTML after a followed 302 is decoded as JSON and reported as an error
//     even though the action succeeded (DeleteJob, CreateFolder,
//     credential delete): our POSTs don't follow redirects and read 302 as done.
//   - status codes are lost (404 becomes a JSON syntax error; non-2xx is an
//     error only with X-Error): direct calls map every status; gojenkins
//     calls are mapped from the recorded answer.
//   - SetCrumb asks /crumbIssuer/api/json/api/json, on every POST, panics on
//     transport errors and sends a raw Set-Cookie as Cookie: no POST goes
//     through gojenkins; our session layer fetches the crumb once per session.
//   - no escaping of job, folder or credential names: every path here is
//     built segment by segment with url.PathEscape.
//   - UpdateJob drops the error of UpdateConfig: ours reports every non-200.
//   - Job.GetConfig returns an error page's HTML as the config: JobConfig is direct.
//   - GetAllJobs is top level only with one GET per job: ListJobs asks for
//     the whole tree in one request per 10 folder levels.
//   - Job.GetBuild rebuilds the path from the job's absolute URL (wrong
//     behind a proxy or with another root URL): builds are read by path.
//   - CredentialsManager posts XML (no key is generated for ID token
//     credentials) and nests folders unescaped: credentials use the form path.
//   - CreateFolder posts a form and InstallPlugin reads the status before
//     the error (panics on transport errors): both are direct requests.
//
// Non-idempotent POSTs (createItem, createCredentials, doDelete, build) are not
// replayed blindly: when the outcome is unknown the client checks whether
// the first attempt landed before it tries again, so faults neither
// duplicate nor lose an item.
package jenkins
