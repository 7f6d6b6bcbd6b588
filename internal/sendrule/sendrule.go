// Package sendrule is the project's one rule for where a secret (a Jenkins
// API token, an OIDC ID token, a Cloudsmith token or API key, a private
// key) may be sent: over https to any host, or over plain http only to a
// loopback host (an emulator or a local test server on this machine).
//
// Every client that sends a secret asks Check before its first request,
// and the host-scoped auth layer asks again per request, so a URL from a
// flag, an environment variable, a spec or a redirect cannot carry a
// secret across the network in clear. It is a leaf package (standard
// library only) so the small agent binary can link it.
package sendrule

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrCleartext is matched (errors.Is) by every refusal of Check.
var ErrCleartext = errors.New("plain http to a host that is not this machine")

// Hint is the fix every refusal names.
const Hint = "use https (plain http is accepted only for localhost, 127.0.0.1 or ::1, e.g. an emulator)"

// IsLoopback reports whether host (a URL's Hostname: no port, no
// brackets) is this machine: the name localhost or a loopback address.
// Other names are not resolved: a DNS answer can change between this check
// and the connection.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackAddr is IsLoopback for a listen address (host:port). An
// empty host (":8080") listens on every interface, so it is not loopback.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return IsLoopback(host)
}

// Allows reports whether a secret may be sent to u.
func Allows(u *url.URL) bool {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		return IsLoopback(u.Hostname())
	}
	return false
}

// Check returns nil when a secret may be sent to u, or an error naming
// what (the URL's role, e.g. "the Cloudsmith API URL"), the URL without
// credentials or query, the secret that would leak, and the fix.
func Check(u *url.URL, what, secret string) error {
	if u == nil || Allows(u) {
		return nil
	}
	shown := *u
	shown.User, shown.RawQuery, shown.Fragment = nil, "", ""
	if !strings.EqualFold(u.Scheme, "http") {
		return fmt.Errorf("%s %s has scheme %q: the %s is only sent over https: %w", what, shown.String(), u.Scheme, secret, ErrCleartext)
	}
	return &Error{What: what, URL: shown.String(), Secret: secret}
}

// Error is Check's refusal of a plain-http URL off loopback.
type Error struct {
	What   string // the URL's role
	URL    string // without credentials or query
	Secret string // what would have been sent
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s uses plain http to a host that is not this machine: the %s would cross the network in clear; %s", e.What, e.URL, e.Secret, Hint)
}

// Unwrap makes errors.Is(err, ErrCleartext) true.
func (e *Error) Unwrap() error { return ErrCleartext }
