package jenkinstest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
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
func (j *Jenkins) Requests() []Request {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Request(nil), j.requests...)
}

// ResetRequests empties the request log.
func (j *Jenkins) ResetRequests() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.requests = nil
}

func (j *Jenkins) logRequest(r *http.Request, rec *recorder) {
	user, _, _ := r.BasicAuth()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.requests = append(j.requests, Request{
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

type faultKind int

const (
	faultNone faultKind = iota
	fault502
	fault503
	fault504
	faultReset
)

type fault struct {
	kind  faultKind
	after bool
}

func (f fault) String() string {
	s := map[faultKind]string{fault502: "502", fault503: "503", fault504: "504", faultReset: "reset"}[f.kind]
	if f.after {
		s += " after mutation"
	}
	return s
}

// inject sends the fault: a gateway-style 5xx or a TCP reset.
func (f fault) inject(w *recorder, _ *http.Request) {
	switch f.kind {
	case faultReset:
		w.status = 0
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST, not FIN
		}
		_ = conn.Close()
	default:
		code := map[faultKind]int{fault502: http.StatusBadGateway, fault503: http.StatusServiceUnavailable, fault504: http.StatusGatewayTimeout}[f.kind]
		w.status = 0
		if f.kind == fault503 {
			w.Header().Set("Retry-After", "1")
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		fmt.Fprintf(w, "<html><body><h1>%d %s</h1><p>jenkinstest injected fault</p></body></html>\n", code, http.StatusText(code))
	}
}

// faults draws faults from a seeded generator so runs are reproducible.
type faults struct {
	mu    sync.Mutex
	rng   *rand.Rand
	rate  float64
	after float64
}

func newFaults(rate float64, seed uint64, after float64) *faults {
	return &faults{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rate: rate, after: after}
}

func (f *faults) next() fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= f.rate {
		return fault{}
	}
	kinds := []faultKind{fault502, fault503, fault504, faultReset}
	return fault{kind: kinds[f.rng.IntN(len(kinds))], after: f.rng.Float64() < f.after}
}
