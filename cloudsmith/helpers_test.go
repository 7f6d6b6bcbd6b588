package cloudsmith

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// oidcToken mints a Jenkins-like ID token; extra overrides or adds claims.
func oidcToken(t testing.TB, exp time.Time, extra map[string]any) string {
	t.Helper()
	claims := map[string]any{
		"iss":          "https://jenkins.example.com/oidc",
		"aud":          "jenkins",
		"sub":          "https://jenkins.example.com/job/app/",
		"build_number": 7,
		"iat":          time.Now().Add(-time.Minute).Unix(),
		"exp":          exp.Unix(),
	}
	for k, v := range extra {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	tok, err := jwtutil.Sign(testKey(), "jenkins-oidc-cred", claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// cloudsmithToken mints what the exchange returns.
func cloudsmithToken(t testing.TB, exp time.Time) string {
	t.Helper()
	tok, err := jwtutil.Sign(testKey(), "cs", map[string]any{"iss": "cloudsmith", "exp": exp.Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// openAPIFile is the project's one trimmed OpenAPI description of
// Cloudsmith, kept with the emulator, which checks itself against it too.
const openAPIFile = "cloudsmithtest/testdata/openapi.yaml"

var specDoc = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(openAPIFile)
	if err != nil {
		return nil, err
	}
	// The upstream examples are invalid (claims: "{}", duplicate items),
	// so only the schemas are validated, as the emulator's test does.
	if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation()); err != nil {
		return nil, err
	}
	return doc, nil
})

// specCheck is the bottom RoundTripper of the clients under test: it
// records every request and validates it, and the test server's response,
// against the trimmed OpenAPI description in testdata.
type specCheck struct {
	errorf func(format string, args ...any)
	next   http.RoundTripper
	router routers.Router

	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
}

func newSpecCheck(t testing.TB, next http.RoundTripper) *specCheck {
	t.Helper()
	doc, err := specDoc()
	if err != nil {
		t.Fatalf("loading %s: %v", openAPIFile, err)
	}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &specCheck{errorf: t.Errorf, next: next, router: r}
}

// client returns an *http.Client for Options.HTTPClient.
func (s *specCheck) client() *http.Client { return &http.Client{Transport: s} }

func (s *specCheck) last() (*http.Request, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return nil, nil
	}
	return s.requests[len(s.requests)-1], s.bodies[len(s.bodies)-1]
}

func (s *specCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	s.mu.Lock()
	s.requests = append(s.requests, req.Clone(context.Background()))
	s.bodies = append(s.bodies, body)
	s.mu.Unlock()

	// Route as if the request went to Cloudsmith's own host: drop the test
	// server's address and any path prefix (/v1, a proxy's).
	canon := req.Clone(req.Context())
	p := req.URL.EscapedPath()
	for _, root := range []string{"/openid/", "/orgs/"} {
		if i := strings.Index(p, root); i >= 0 {
			p = p[i:]
			break
		}
	}
	canon.URL = &url.URL{Scheme: "https", Host: "api.cloudsmith.io", RawQuery: req.URL.RawQuery}
	canon.URL.Path, _ = url.PathUnescape(p)
	canon.URL.RawPath = p
	canon.Body = io.NopCloser(bytes.NewReader(body))
	route, params, rerr := s.router.FindRoute(canon)
	var input *openapi3filter.RequestValidationInput
	if rerr != nil {
		s.errorf("client sent %s %s, which the OpenAPI description has no route for: %v", req.Method, req.URL.Path, rerr)
	} else {
		input = &openapi3filter.RequestValidationInput{
			Request: canon, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		if err := openapi3filter.ValidateRequest(req.Context(), input); err != nil {
			s.errorf("request %s %s violates the OpenAPI description: %v", req.Method, req.URL.Path, err)
		}
	}

	resp, err := s.next.RoundTrip(req)
	if err != nil || input == nil {
		return resp, err
	}
	rb, rerr2 := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	if rerr2 != nil {
		return resp, nil
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return resp, nil
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input, Status: resp.StatusCode, Header: resp.Header,
		Body:    io.NopCloser(bytes.NewReader(rb)),
		Options: &openapi3filter.Options{IncludeResponseStatus: false},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		s.errorf("test server's %d response to %s %s violates the OpenAPI description: %v", resp.StatusCode, req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// TestSpecCheckCatchesViolations makes sure the validator isn't vacuous.
func TestSpecCheckCatchesViolations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"token": 42}`))
	}))
	defer srv.Close()
	var got []string
	rec := newSpecCheck(t, nil)
	rec.errorf = func(f string, a ...any) { got = append(got, fmt.Sprintf(f, a...)) }
	for _, body := range []string{`{"oidc_token":"","service_slug":"s"}`, `{"oidc_token":"t","service_slug":"s"}`} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/openid/acme/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := rec.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/nowhere/", nil)
	if resp, err := rec.RoundTrip(req); err == nil {
		resp.Body.Close()
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"request POST /openid/acme/ violates", "response to POST /openid/acme/ violates", "no route for"} {
		if !strings.Contains(joined, want) {
			t.Errorf("validator missed %q; reported:\n%s", want, joined)
		}
	}
}
