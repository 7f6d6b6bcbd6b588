package cloudsmithtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// httpError is an error response. Handlers return one and writeError
// writes it, once, in the style of the host that answers (as
// go-containerregistry's pkg/registry does with regError), so no handler
// formats an error body itself.
type httpError struct {
	Status int
	Detail string
	// Fields are DRF's per-field validation errors (422).
	Fields fieldErrors
	// Challenge adds WWW-Authenticate: Basic: pip, npm and go only send
	// credentials (or ask for them) after a Basic challenge.
	Challenge bool
	// Allow lists the methods of a 405.
	Allow []string
	// RetryAfter, when set, is sent as Retry-After (seconds).
	RetryAfter int
}

func (e *httpError) Error() string { return strconv.Itoa(e.Status) + " " + e.Detail }

// errorStyle is how a host or format phrases an error body.
type errorStyle int

const (
	// apiErrors is Cloudsmith's API error: ErrorDetail JSON, {"detail"},
	// with "fields" and code "invalid" on 422s.
	apiErrors errorStyle = iota
	// plainErrors is Go's plain-text 404 page, what the download host's
	// format handlers answer for a file that is not there.
	plainErrors
	// npmErrors is the npm registry's {"error": "..."}.
	npmErrors
	// goErrors is the GOPROXY protocol's plain-text reason.
	goErrors
	// cargoErrors is the Cargo registry API's {"errors": [{"detail"}]}.
	cargoErrors
)

// errNotFound is DRF's 404.
var errNotFound = &httpError{Status: http.StatusNotFound, Detail: msgNotFound}

func errMethodNotAllowed(r *http.Request, allowed ...string) *httpError {
	return &httpError{Status: http.StatusMethodNotAllowed, Detail: fmt.Sprintf("Method %q not allowed.", r.Method), Allow: allowed}
}

// writeError writes e in the given style.
func writeError(w http.ResponseWriter, style errorStyle, e *httpError) {
	h := w.Header()
	if e.Challenge {
		h.Set("WWW-Authenticate", realm)
	}
	if len(e.Allow) > 0 {
		h.Set("Allow", strings.Join(append(e.Allow, http.MethodOptions), ", "))
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	switch style {
	case plainErrors:
		detail := e.Detail
		if e.Status == http.StatusNotFound && detail == msgNotFound {
			detail = "404 page not found"
		}
		http.Error(w, detail, e.Status)
	case goErrors:
		http.Error(w, e.Detail, e.Status)
	case cargoErrors:
		writeJSON(w, e.Status, map[string]any{"errors": []map[string]string{{"detail": e.Detail}}})
	case npmErrors:
		detail := e.Detail
		if detail == msgNotFound {
			detail = "Not found"
		}
		writeJSON(w, e.Status, map[string]string{"error": detail})
	default:
		body := errorBody{Detail: e.Detail}
		if len(e.Fields) > 0 {
			body.Fields, body.Code = e.Fields, "invalid"
		}
		writeJSON(w, e.Status, body)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeDetail writes an API error with only a detail.
func writeDetail(w http.ResponseWriter, status int, detail string) {
	writeError(w, apiErrors, &httpError{Status: status, Detail: detail})
}

// writeFieldErrors writes DRF's 422 with per-field errors.
func writeFieldErrors(w http.ResponseWriter, fe fieldErrors) {
	writeError(w, apiErrors, &httpError{Status: http.StatusUnprocessableEntity, Detail: msgInvalidInput, Fields: fe})
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allowed ...string) {
	writeError(w, apiErrors, errMethodNotAllowed(r, allowed...))
}

func quote(s string) string { return strconv.Quote(s) }

// fieldErrors collects DRF-style validation errors.
type fieldErrors map[string][]string

func (fe fieldErrors) add(field, msg string) { fe[field] = append(fe[field], msg) }
