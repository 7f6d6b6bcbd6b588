package cloudsmithtest

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

type recordKey struct{}

// logged is the log entry of a request being served.
type logged struct {
	c   *Cloudsmith
	rec *Request
}

func noteAuth(r *http.Request, how string) {
	if l, ok := r.Context().Value(recordKey{}).(logged); ok {
		l.c.update(l.rec, func(rec *Request) { rec.Auth = how })
	}
}

func noteFailure(r *http.Request, why string) {
	if l, ok := r.Context().Value(recordKey{}).(logged); ok {
		l.c.update(l.rec, func(rec *Request) { rec.Failure = why })
	}
}

// statusWriter records the status in the log before the client can see it.
type statusWriter struct {
	http.ResponseWriter
	log   logged
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.log.c.update(w.log.rec, func(rec *Request) { rec.Status = code })
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap adds the request log, latency and fault injection around a host.
func (c *Cloudsmith) wrap(h Host, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &Request{Host: h, Method: r.Method, Path: logPath(h, r.URL.Path), Time: c.now()}
		c.logRequest(rec)
		l := logged{c: c, rec: rec}
		if c.cfg.latency > 0 {
			t := time.NewTimer(c.cfg.latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				c.update(rec, func(rec *Request) { rec.Failure = "client went away during injected latency" })
				return
			}
		}
		if c.cfg.faultHosts[h] {
			if fault := c.faults.next(); fault != "" {
				c.update(rec, func(rec *Request) { rec.Fault = fault })
				sw := &statusWriter{ResponseWriter: w, log: l}
				switch fault {
				case "503":
					writeJSON(sw, http.StatusServiceUnavailable, errorBody{Detail: "Service temporarily unavailable, try again later."})
				case "429":
					w.Header().Set("Retry-After", strconv.Itoa(c.cfg.retryAfter))
					writeJSON(sw, http.StatusTooManyRequests, errorBody{Detail: throttledDetail(c.cfg.retryAfter)})
				case "reset":
					resetConnection(w)
				}
				return
			}
		}
		sw := &statusWriter{ResponseWriter: w, log: l}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), recordKey{}, l)))
		if !sw.wrote {
			sw.WriteHeader(http.StatusOK) // what net/http sends for an empty handler
		}
	})
}

// logPath keeps credentials out of the log: Cloudsmith's download host also
// takes entitlement tokens as the first path segment (dl/TOKEN/org/repo/...),
// so on that host anything but /basic/... has its first segment masked.
func logPath(h Host, path string) string {
	if h != HostDownload || strings.HasPrefix(path, "/basic/") {
		return path
	}
	first, rest, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if first == "" {
		return path
	}
	return "/****/" + rest
}

// resetConnection drops the connection with a TCP RST where possible, the
// harshest network error a client must survive.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 or a test recorder: abort the handler instead.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// faultInjector draws faults from a seeded generator so a failing test can
// be replayed.
type faultInjector struct {
	mu   sync.Mutex
	rate float64
	rng  *rand.Rand
}

func newFaultInjector(cfg config) *faultInjector {
	seed := uint64(cfg.faultSeed)
	return &faultInjector{rate: cfg.faultRate, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// next returns "", "503", "429" or "reset".
func (f *faultInjector) next() string {
	if f.rate <= 0 {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= f.rate {
		return ""
	}
	return [...]string{"503", "429", "reset"}[f.rng.IntN(3)]
}

// throttledDetail is DRF's exceptions.Throttled message, whose unit is
// ngettext'd: "Expected available in 1 second." / "in 3 seconds."
func throttledDetail(wait int) string {
	unit := "seconds"
	if wait == 1 {
		unit = "second"
	}
	return "Request was throttled. Expected available in " + strconv.Itoa(wait) + " " + unit + "."
}
