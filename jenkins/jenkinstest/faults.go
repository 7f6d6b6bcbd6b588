package jenkinstest

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/emumw"
)

// Request is one logged request.
type Request struct {
	Method string
	// Path is the decoded path; RawPath the path as sent (escaped).
	Path    string
	RawPath string
	Query   string
	// User is who the request was authenticated as ("" before auth).
	User string
	// Status is the status sent (0 for a reset connection).
	Status int
	// Fault names an injected fault ("" for none), e.g. "503",
	// "reset", "503 after mutation", "restarting".
	Fault string
}

// Requests returns a copy of the request log.
func (j *Jenkins) Requests() []Request { return j.log.All() }

// ResetRequests empties the request log.
func (j *Jenkins) ResetRequests() { j.log.Reset() }

func (j *Jenkins) logRequest(r *http.Request, rec *recorder) {
	user, _, _ := r.BasicAuth()
	j.log.Add(&Request{
		Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		User: user, Status: rec.status, Fault: rec.fault,
	})
}

// recorder remembers the status a handler sent.
type recorder struct {
	http.ResponseWriter
	status int
	fault  string
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Hijack and Flush.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// bufferedWriter collects a response that will never be sent.
type bufferedWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func newBufferedWriter() *bufferedWriter { return &bufferedWriter{h: http.Header{}} }

func (b *bufferedWriter) Header() http.Header { return b.h }
func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// faultKinds are the faults a reverse proxy in front of Jenkins produces:
// gateway-style 5xx answers and a dropped connection.
var faultKinds = []string{"502", "503", "504", "reset"}

// fault is one injected fault; after means the request took effect and
// only its answer is lost.
type fault struct {
	kind  string
	after bool
}

func (f fault) String() string {
	if f.after {
		return f.kind + " after mutation"
	}
	return f.kind
}

// inject sends the fault: a gateway-style 5xx or a TCP reset.
func (f fault) inject(w *recorder, _ *http.Request) {
	if f.kind == "reset" {
		w.status = 0
		emumw.ResetConnection(w)
		return
	}
	code, _ := strconv.Atoi(f.kind)
	w.status = 0
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<html><body><h1>%d %s</h1><p>jenkinstest injected fault</p></body></html>\n", code, http.StatusText(code))
}
