package jenkins

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bndr/gojenkins"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sendrule"
)

// Config says which controller to talk to and how.
type Config struct {
	// URL is the controller's root URL, e.g. https://jenkins.example.com/ (a
	// context path such as /jenkins/ is kept).
	URL string
	// User and Token log in with HTTP Basic auth. Token is an API token (no
	// crumb needed) or a password (the session layer fetches the crumb).
	// Empty User means anonymous.
	User  string
	Token string
	// CABundle and Proxy configure the base transport (see httpx.Options).
	CABundle string
	Proxy    *url.URL
	// Logger receives one debug line per HTTP attempt (method, URL without
	// query values, status, duration); never headers or bodies.
	Logger *slog.Logger
	// Transport replaces the base transport (tests); CABundle and Proxy are
	// then ignored.
	Transport http.RoundTripper
	// Retry tunes retries of idempotent requests; Next is ignored. The zero
	// value means httpx's defaults.
	Retry httpx.Retry
}

// Client talks to one Jenkins controller. It is safe for concurrent use.
type Client struct {
	base     *url.URL // ends with "/"
	user     string
	http     *http.Client // follows same-host redirects
	noFollow *http.Client // hands 302s back: Jenkins' "done" answer on POSTs
	session  *session
	gj       *gojenkins.Jenkins
	retry    httpx.Retry
	// restart remembers the instance SafeRestart asked to restart.
	restart struct {
		sync.Mutex
		from string // its X-Jenkins-Session
	}
}

// New builds the client and its transport stack, bottom to top:
// base (TLS, CA bundle, proxy) → Log → attempt counter → Retry (idempotent
// requests, and POSTs whose replay is harmless) → Basic auth (sent to the
// Jenkins host only) → session (cookie jar + crumb) → answer recorder (lets
// calls made through gojenkins recover the status code it loses).
// New makes no request.
func New(cfg Config) (*Client, error) {
	base, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil {
		// url.Error would repeat the URL, which may hold a password.
		return nil, errors.New("jenkins URL does not parse: it must be an absolute http(s) URL such as https://jenkins.example.com/")
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("jenkins URL %q must be an absolute http(s) URL such as https://jenkins.example.com/", base.Redacted())
	}
	if base.User != nil {
		return nil, errors.New("jenkins URL must not contain credentials: set jenkins.user and jenkins.token instead")
	}
	if cfg.User != "" {
		if err := sendrule.Check(base, "jenkins URL", "API token"); err != nil {
			return nil, err
		}
	}
	base.RawQuery, base.Fragment = "", ""
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		if base.RawPath != "" {
			base.RawPath += "/"
		}
	}
	rt := cfg.Transport
	if rt == nil {
		t, err := httpx.NewTransport(httpx.Options{CABundle: cfg.CABundle, Proxy: cfg.Proxy})
		if err != nil {
			return nil, fmt.Errorf("jenkins transport: %w", err)
		}
		rt = t
	}
	rt = &httpx.Log{Next: rt, Logger: cfg.Logger}
	rt = attemptCounter{next: rt}
	retry := cfg.Retry
	retry.Next = rt
	rt = &retry
	if cfg.User != "" {
		token := cfg.Token
		auth := httpx.BasicAuth(base.Host, cfg.User, func() string { return token }, rt)
		// Only over the controller's own scheme: an http:// link to the same
		// host (a wrong root URL behind a TLS proxy) must not carry the token
		// in clear.
		auth.Scheme = base.Scheme
		rt = auth
	}
	sess := newSession(base, rt)
	rt = recorder{next: sess}

	c := &Client{
		base:     base,
		user:     cfg.User,
		http:     &http.Client{Transport: rt, CheckRedirect: httpx.SameHostRedirects},
		noFollow: &http.Client{Transport: rt, CheckRedirect: httpx.NoFollow},
		session:  sess,
		retry:    cfg.Retry,
	}
	// No auth arguments: our transport authenticates, so gojenkins never
	// holds the token. Its Init is not called (see the package doc).
	c.gj = gojenkins.CreateJenkins(c.http, strings.TrimSuffix(base.String(), "/"))
	return c, nil
}

// URL is the controller's root URL, ending with "/".
func (c *Client) URL() string { return c.base.String() }

// request is one direct call to Jenkins.
type request struct {
	method string
	path   string // escaped, relative to the root URL, no leading "/"
	query  url.Values
	body   []byte
	ctype  string
	accept string
	// noFollow returns redirects as answers (Jenkins' POST actions answer 302).
	noFollow bool
	// ok lists the statuses that mean success; default 200.
	ok []int
}

// response is a read answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// maxBody bounds what the client reads from any answer.
const maxBody = 64 << 20

// do sends r and returns the answer, or an *HTTPError when its status is
// not one of r.ok. Bodies are read in full (bounded) so connections are
// reused.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	u := c.resolve(r.path)
	if r.query != nil {
		u.RawQuery = r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("jenkins request %s %s: %w", r.method, httpx.SafeURL(u), err)
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	hc := c.http
	if r.noFollow {
		hc = c.noFollow
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jenkins %s %s: %w", r.method, httpx.SafeURL(u), unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("jenkins %s %s: reading answer: %w", r.method, httpx.SafeURL(u), err)
	}
	ok := r.ok
	if ok == nil {
		ok = []int{http.StatusOK}
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
		}
	}
	return nil, c.newHTTPError(r.method, resp)
}

// resolve turns an escaped relative path into an absolute URL under the
// root URL, keeping the escaping (so "a%2Fb" stays one segment).
func (c *Client) resolve(path string) *url.URL {
	u := *c.base
	u.RawPath = u.EscapedPath() + path
	u.Path, _ = url.PathUnescape(u.RawPath)
	return &u
}

// unwrapURLError drops *url.Error's copy of the URL (with query values) so
// the message holds only the safe URL we print ourselves.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func safeURL(req *http.Request) string {
	if req == nil {
		return ""
	}
	return httpx.SafeURL(req.URL)
}

// splitName splits a Jenkins full name ("a/b/c") into its segments,
// refusing empty, "." and ".." ones.
func splitName(fullName string) ([]string, error) {
	fullName = strings.Trim(fullName, "/")
	if fullName == "" {
		return nil, errors.New("empty job name")
	}
	segs := strings.Split(fullName, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return nil, fmt.Errorf("job name %q has an empty, \".\" or \"..\" segment", fullName)
		}
	}
	return segs, nil
}

// itemPath is "job/<a>/job/<b>/" for "a/b", each segment escaped with
// url.PathEscape. An empty name is the root ("").
func itemPath(fullName string) (string, error) {
	if strings.Trim(fullName, "/") == "" {
		return "", nil
	}
	segs, err := splitName(fullName)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, s := range segs {
		b.WriteString("job/")
		b.WriteString(url.PathEscape(s))
		b.WriteByte('/')
	}
	return b.String(), nil
}

// parentAndBase splits "a/b/c" into "a/b" and "c".
func parentAndBase(fullName string) (parent, base string, err error) {
	segs, err := splitName(fullName)
	if err != nil {
		return "", "", err
	}
	return strings.Join(segs[:len(segs)-1], "/"), segs[len(segs)-1], nil
}

// --- transport layers private to this package ---

// answer is what the recorder saw for the last response of a call.
type answer struct {
	method string
	resp   *http.Response // headers and status only; body belongs to the caller
}

type answerKey struct{}

// recordAnswers returns a context under which the recorder keeps the last
// response, so calls through gojenkins (which drops status codes and
// decodes HTML error pages as JSON) can be mapped to *HTTPError.
func recordAnswers(ctx context.Context) (context.Context, *answer) {
	a := &answer{}
	return context.WithValue(ctx, answerKey{}, a), a
}

type recorder struct{ next http.RoundTripper }

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if a, ok := req.Context().Value(answerKey{}).(*answer); ok && err == nil {
		a.method, a.resp = req.Method, resp
	}
	return resp, err
}

type attemptsKey struct{}

// countAttempts returns a context under which attemptCounter counts the
// attempts the Retry layer makes, so a caller can tell "404 on the first
// try" from "404 after a retry of a request that had already landed".
func countAttempts(ctx context.Context) (context.Context, *atomic.Int32) {
	n := new(atomic.Int32)
	return context.WithValue(ctx, attemptsKey{}, n), n
}

type attemptCounter struct{ next http.RoundTripper }

func (a attemptCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if n, ok := req.Context().Value(attemptsKey{}).(*atomic.Int32); ok {
		n.Add(1)
	}
	return a.next.RoundTrip(req)
}

// viaGojenkins runs a gojenkins call and turns what it reports into our
// errors: a non-2xx answer (which gojenkins may report as a JSON syntax
// error, or not at all) becomes an *HTTPError.
func (c *Client) viaGojenkins(ctx context.Context, what string, call func(ctx context.Context) error) error {
	ctx, a := recordAnswers(ctx)
	err := call(ctx)
	if a.resp != nil && (a.resp.StatusCode < 200 || a.resp.StatusCode > 299) {
		return c.newHTTPError(a.method, a.resp)
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("jenkins %s: the answer is not JSON (is a login page or proxy in front of Jenkins?): %w", what, err)
	}
	if err != nil {
		return fmt.Errorf("jenkins %s: %w", what, unwrapURLError(err))
	}
	return nil
}
