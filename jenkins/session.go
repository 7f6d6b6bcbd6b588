package jenkins

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
)

// session is the top of the auth stack: it keeps Jenkins' session cookie
// and CSRF crumb. Since 2.176.2 a crumb is bound to the web session, so a
// client using a password must fetch the crumb and then send both the
// crumb header and the JSESSIONID cookie with every POST. API tokens are
// exempt from the crumb check; the one extra GET per session is harmless.
//
// It keeps its own cookie jar, rather than using http.Client.Jar, because
// the crumb request is made from inside the transport where the client's
// jar is not consulted.
type session struct {
	next http.RoundTripper
	host string
	base *url.URL
	jar  http.CookieJar

	fetchMu sync.Mutex // one crumb request at a time
	mu      sync.Mutex
	fetched bool   // a crumb answer (or a 404: CSRF disabled) was seen
	field   string // e.g. Jenkins-Crumb; empty when CSRF protection is off
	crumb   string
}

func newSession(base *url.URL, next http.RoundTripper) *session {
	jar, _ := cookiejar.New(nil) // never fails with nil options
	return &session{next: next, host: base.Host, base: base, jar: jar}
}

// reset forgets the crumb and cookies, e.g. after a restart.
func (s *session) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetched, s.field, s.crumb = false, "", ""
	s.jar, _ = cookiejar.New(nil)
}

func (s *session) cookies() http.CookieJar {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jar
}

// RoundTrip adds the session cookie to every request to Jenkins and the
// crumb to every POST; a 403 "No valid crumb" makes it fetch a new crumb
// and replay the POST once (the crumb filter rejects before any action
// runs, so the replay cannot duplicate anything).
func (s *session) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != s.host {
		return s.next.RoundTrip(req)
	}
	post := req.Method == http.MethodPost
	if post {
		s.ensureCrumb(req.Context(), false)
	}
	resp, err := s.send(req, post)
	if err != nil || !post || resp.StatusCode != http.StatusForbidden || req.GetBody == nil {
		return resp, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if !bytes.Contains(body, []byte("No valid crumb")) {
		return resp, nil
	}
	s.ensureCrumb(req.Context(), true)
	replay := req.Clone(req.Context())
	if replay.Body, err = req.GetBody(); err != nil {
		return resp, nil
	}
	return s.send(replay, true)
}

func (s *session) send(req *http.Request, withCrumb bool) (*http.Response, error) {
	req = req.Clone(req.Context())
	jar := s.cookies()
	for _, ck := range jar.Cookies(req.URL) {
		if _, err := req.Cookie(ck.Name); err != nil {
			req.AddCookie(ck)
		}
	}
	if withCrumb {
		s.mu.Lock()
		if s.field != "" {
			req.Header.Set(s.field, s.crumb)
		}
		s.mu.Unlock()
	}
	resp, err := s.next.RoundTrip(req)
	if err == nil {
		if cks := resp.Cookies(); len(cks) > 0 {
			jar.SetCookies(req.URL, cks)
		}
	}
	return resp, err
}

// ensureCrumb fetches the crumb once per session (or again when force).
// A failure to fetch is not an error here: the POST then fails with
// Jenkins' own, more useful, answer.
func (s *session) ensureCrumb(ctx context.Context, force bool) {
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	s.mu.Lock()
	done := s.fetched && !force
	s.mu.Unlock()
	if done {
		return
	}
	u := s.base.JoinPath("crumbIssuer", "api", "json")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.send(req, false)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	var v struct {
		Crumb             string `json:"crumb"`
		CrumbRequestField string `json:"crumbRequestField"`
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		// CSRF protection is off: nothing to send.
	case resp.StatusCode == http.StatusOK && json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&v) == nil && v.CrumbRequestField != "":
	default:
		return
	}
	s.mu.Lock()
	s.fetched, s.field, s.crumb = true, strings.TrimSpace(v.CrumbRequestField), v.Crumb
	s.mu.Unlock()
}
