package jenkins

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors for errors.Is. Every error from a Jenkins answer is an
// *HTTPError that matches one of these when its status does.
var (
	// ErrNotFound: the job, folder, credential, build or endpoint does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: Jenkins refused the user/token pair (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the user is known but lacks a permission (403).
	ErrForbidden = errors.New("forbidden")
	// ErrAlreadyExists: createItem or createCredentials found the name taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: Jenkins answered 409 (e.g. an XML credential create with a taken id).
	ErrConflict = errors.New("conflict")
)

// HTTPError is a Jenkins answer the client did not expect. URL is safe to
// print: query values are masked and it never holds credentials.
type HTTPError struct {
	Method string
	URL    string
	Status int
	// XError is Jenkins' X-Error header (the message of a hudson.model.Failure),
	// or the message of a JSON form answer.
	XError string
	// Permission is X-Required-Permission on a 403, e.g. hudson.model.Item.Create.
	Permission string
	// AuthenticatedAs is X-You-Are-Authenticated-As on a 403.
	AuthenticatedAs string
	// Exists is set when Jenkins said the name is already taken.
	Exists bool
	// User is the configured user, for the 401 hint.
	User string
}

// Temporary reports whether the same request may succeed later: 429 and
// 5xx answers (a restarting controller, an overloaded proxy).
func (e *HTTPError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Error explains the failure in terms of what the user must fix.
func (e *HTTPError) Error() string {
	var b strings.Builder
	if e.Status < 400 {
		// A form answer whose message reports the failure.
		fmt.Fprintf(&b, "%s %s: Jenkins answered: %s", e.Method, e.URL, e.XError)
		return b.String()
	}
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	switch {
	case e.Status == http.StatusUnauthorized:
		who := e.User
		if who == "" {
			who = "(none)"
		}
		fmt.Fprintf(&b, ": Jenkins rejected user %q and its token; check jenkins.user and jenkins.token (an API token from the user's Security page)", who)
	case e.Status == http.StatusForbidden && e.Permission != "":
		fmt.Fprintf(&b, ": user %q lacks the Jenkins permission %s; grant it (or Overall/Administer) to that user", e.AuthenticatedAs, e.Permission)
	case e.Status == http.StatusForbidden && e.XError != "":
		fmt.Fprintf(&b, ": %s", e.XError)
	case e.Status == http.StatusForbidden && e.AuthenticatedAs != "":
		fmt.Fprintf(&b, ": user %q is not allowed to do this", e.AuthenticatedAs)
	case e.Status == http.StatusForbidden:
		b.WriteString(": Jenkins refused the request (no valid CSRF crumb, or a proxy in front of Jenkins)")
	case e.XError != "":
		fmt.Fprintf(&b, ": %s", e.XError)
	}
	return b.String()
}

// Is maps the status to the package's sentinel errors.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrAlreadyExists:
		return e.Exists
	}
	return false
}

// newHTTPError builds an HTTPError from a response's status and headers.
func (c *Client) newHTTPError(method string, resp *http.Response) *HTTPError {
	e := &HTTPError{
		Method:          method,
		URL:             safeURL(resp.Request),
		Status:          resp.StatusCode,
		XError:          resp.Header.Get("X-Error"),
		Permission:      resp.Header.Get("X-Required-Permission"),
		AuthenticatedAs: resp.Header.Get("X-You-Are-Authenticated-As"),
		User:            c.user,
	}
	e.Exists = e.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.XError), "already exists")
	return e
}

// PluginsError names the required plugins a controller lacks.
type PluginsError struct {
	URL      string
	Missing  []string // not installed
	Disabled []string // installed but disabled
	Inactive []string // installed and enabled but not running (restart pending)
	// Uses says, by plugin, what needs it ("job a/b, job c"), when known.
	Uses map[string]string
}

// names lists plugins, each with what uses it when e knows.
func (e *PluginsError) names(list []string) string {
	out := make([]string, len(list))
	for i, n := range list {
		out[i] = n
		if u := e.Uses[n]; u != "" {
			out[i] += " (used by " + u + ")"
		}
	}
	return strings.Join(out, ", ")
}

// Error lists each problem with the fix.
func (e *PluginsError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("required plugins not installed: %s (install them from Manage Jenkins » Plugins, or run apply with plugin installation enabled)", e.names(e.Missing)))
	}
	if len(e.Disabled) > 0 {
		parts = append(parts, fmt.Sprintf("required plugins disabled: %s (enable them in Manage Jenkins » Plugins » Installed, then restart)", e.names(e.Disabled)))
	}
	if len(e.Inactive) > 0 {
		parts = append(parts, fmt.Sprintf("required plugins installed but not active until Jenkins restarts: %s", e.names(e.Inactive)))
	}
	return "jenkins " + e.URL + ": " + strings.Join(parts, "; ")
}
