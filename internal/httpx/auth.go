package httpx

import (
	"net/http"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sendrule"
)

// HeaderAuth adds headers to requests for one host only (host:port, and
// the scheme when Scheme is set, must match), so a redirect or an absolute
// link to another host never carries the credential. Values are read
// through a func so that a refreshed token is picked up without rebuilding
// the client.
type HeaderAuth struct {
	// Host is the URL host (host:port) the credential belongs to.
	Host string
	// Scheme, when set, is the only scheme the credential is sent over
	// ("https"), so an absolute http:// link to the same host (a
	// controller whose root URL says http behind a TLS proxy) does not
	// send it in clear.
	Scheme string
	// Header returns the headers to set; it is called once per request.
	Header func() http.Header
	// Next is the layer below; nil means http.DefaultTransport.
	Next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (a *HeaderAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	next := a.Next
	if next == nil {
		next = http.DefaultTransport
	}
	if req.URL.Host != a.Host || a.Header == nil || (a.Scheme != "" && req.URL.Scheme != a.Scheme) {
		return next.RoundTrip(req)
	}
	if err := sendrule.Check(req.URL, "request URL", "credential"); err != nil {
		// Clients check their base URL when built; this catches any other
		// way a URL for the credential's host could arrive in clear.
		return nil, err
	}
	req = req.Clone(req.Context())
	for k, vs := range a.Header() {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return next.RoundTrip(req)
}

// BasicAuth returns a HeaderAuth that sends HTTP Basic credentials to host.
func BasicAuth(host, user string, password func() string, next http.RoundTripper) *HeaderAuth {
	return &HeaderAuth{Host: host, Next: next, Header: func() http.Header {
		r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		r.SetBasicAuth(user, password())
		return http.Header{"Authorization": r.Header["Authorization"]}
	}}
}
