package httpx

import (
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Log logs one line per request: method, URL without query values or user
// info, status and duration. It never logs headers or bodies, which is
// where credentials live.
type Log struct {
	Next   http.RoundTripper
	Logger *slog.Logger
}

// RoundTrip implements http.RoundTripper.
func (l *Log) RoundTrip(req *http.Request) (*http.Response, error) {
	next := l.Next
	if next == nil {
		next = http.DefaultTransport
	}
	if l.Logger == nil {
		return next.RoundTrip(req)
	}
	start := time.Now()
	resp, err := next.RoundTrip(req)
	attrs := []any{"method", req.Method, "url", SafeURL(req.URL), "duration", time.Since(start).Round(time.Millisecond)}
	if err != nil {
		l.Logger.DebugContext(req.Context(), "http request failed", append(attrs, "error", err.Error())...)
		return nil, err
	}
	l.Logger.DebugContext(req.Context(), "http request", append(attrs, "status", resp.StatusCode)...)
	return resp, nil
}

// SafeURL renders u for logs and errors: user info dropped and query
// values replaced, since either may carry a credential.
func SafeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		for k := range q {
			q[k] = []string{"…"}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}
