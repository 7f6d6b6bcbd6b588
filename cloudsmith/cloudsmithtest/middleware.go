package cloudsmithtest

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/emumw"
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
		if !emumw.Delay(r.Context(), c.cfg.latency) {
			c.update(rec, func(rec *Request) { rec.Failure = "client went away during injected latency" })
			return
		}
		if c.cfg.faultHosts[h] {
			if fault := c.faults.Draw(faultKinds); fault != "" {
				c.update(rec, func(rec *Request) { rec.Fault = fault })
				sw := &statusWriter{ResponseWriter: w, log: l}
				switch fault {
				case "503":
					writeJSON(sw, http.StatusServiceUnavailable, errorBody{Detail: "Service temporarily unavailable, try again later."})
				case "429":
					w.Header().Set("Retry-After", strconv.Itoa(c.cfg.retryAfter))
					writeJSON(sw, http.StatusTooManyRequests, errorBody{Detail: throttledDetail(c.cfg.retryAfter)})
				case "reset":
					emumw.ResetConnection(w)
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

// faultKinds are the faults Cloudsmith's edge produces: a 503 from the
// load balancer, a 429 from DRF's throttling, a dropped connection.
var faultKinds = []string{"503", "429", "reset"}

// throttledDetail is DRF's exceptions.Throttled message, whose unit is
// ngettext'd: "Expected available in 1 second." / "in 3 seconds."
func throttledDetail(wait int) string {
	unit := "seconds"
	if wait == 1 {
		unit = "second"
	}
	return "Request was throttled. Expected available in " + strconv.Itoa(wait) + " " + unit + "."
}
