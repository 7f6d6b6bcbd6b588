package jenkins

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/httpx"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/sendrule"
)

// logged wraps a handler and records "METHOD /escaped/path?query" lines.
type logged struct {
	mu  sync.Mutex
	log []string
	h   http.Handler
}

func (l *logged) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	line := r.Method + " " + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	l.log = append(l.log, line)
	l.mu.Unlock()
	w.Header().Set("X-Jenkins", "2.462.3")
	l.h.ServeHTTP(w, r)
}

func (l *logged) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.log...)
}

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// newTest starts h on loopback and returns a client for it (user "admin",
// token "s3cr3t-token", no retry sleeps).
func newTest(t *testing.T, h http.HandlerFunc) (*Client, *logged) {
	t.Helper()
	l := &logged{h: h}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL, User: "admin", Token: "s3cr3t-token", Retry: httpx.Retry{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	return c, l
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "jenkins.example.com", "ftp://x/", "https://user:pw@jenkins.example.com/", "ftp://u:pw@x/", "http://u:pw@[::1"} {
		if _, err := New(Config{URL: u}); err == nil {
			t.Errorf("New(%q) accepted", u)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error repeats the password: %v", err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAPITokenNeverOverPlainHTTPOffLoopback: the API token goes over https,
// or plain http to this machine only; anonymous access needs no rule.
func TestAPITokenNeverOverPlainHTTPOffLoopback(t *testing.T) {
	var sent atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return nil, errors.New("must not be reached")
	})
	for _, u := range []string{"http://jenkins.example.com/", "http://10.0.0.9:8080/jenkins/"} {
		c, err := New(Config{URL: u, User: "admin", Token: "s3cr3t-token", Transport: rt})
		if !errors.Is(err, sendrule.ErrCleartext) {
			t.Errorf("New(%s) = %v, want a plain-http refusal", u, err)
		}
		if c != nil {
			_, _ = c.Plugins(context.Background())
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080/", "https://jenkins.example.com/"} {
		if _, err := New(Config{URL: u, User: "admin", Token: "s3cr3t-token", Transport: rt}); err != nil {
			t.Errorf("New(%s): %v", u, err)
		}
	}
	if _, err := New(Config{URL: "http://jenkins.example.com/", Transport: rt}); err != nil {
		t.Errorf("anonymous, nothing secret to send: %v", err)
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestItemPathEscapesEachSegment(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a", "job/a/"},
		{"team a/b c", "job/team%20a/job/b%20c/"},
		{"ünï/c%d/e+f/g'h/i?j#k", "job/%C3%BCn%C3%AF/job/c%25d/job/e+f/job/g%27h/job/i%3Fj%23k/"},
		{"/a/b/", "job/a/job/b/"},
	}
	for _, tt := range tests {
		got, err := itemPath(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("itemPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"a//b", "a/../b", "./a"} {
		if _, err := itemPath(bad); err == nil {
			t.Errorf("itemPath(%q) accepted", bad)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		sentinel error
		wantMsg  string
	}{
		{"401", 401, map[string]string{"WWW-Authenticate": `Basic realm="Jenkins"`}, ErrUnauthorized, "check jenkins.user and jenkins.token"},
		{"403 permission", 403, map[string]string{"X-Required-Permission": "hudson.model.Item.Create", "X-You-Are-Authenticated-As": "reader"}, ErrForbidden, `user "reader" lacks the Jenkins permission hudson.model.Item.Create`},
		{"404 html", 404, nil, ErrNotFound, "404 Not Found"},
		{"400 exists", 400, map[string]string{"X-Error": "A job already exists with the name ‘x’"}, ErrAlreadyExists, "already exists"},
		{"409", 409, nil, ErrConflict, "409"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTest(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tt.status)
				io.WriteString(w, "<html><body>Error</body></html>")
			})
			// One direct call and one through gojenkins: both map alike.
			_, err1 := c.JobConfig(context.Background(), "x")
			_, err2 := c.Info(context.Background())
			for _, err := range []error{err1, err2} {
				if !errors.Is(err, tt.sentinel) {
					t.Fatalf("error %v does not match %v", err, tt.sentinel)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error %q does not say %q", err, tt.wantMsg)
				}
				if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "invalid character") {
					t.Errorf("bad error text: %v", err)
				}
			}
		})
	}
}

func TestInfoAndPlugins(t *testing.T) {
	c, l := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "admin" || p != "s3cr3t-token" {
			w.WriteHeader(401)
			return
		}
		switch r.URL.Path {
		case "/whoAmI/api/json":
			io.WriteString(w, `{"_class":"hudson.security.WhoAmI","authenticated":true,"name":"admin"}`)
		case "/api/json":
			io.WriteString(w, `{"_class":"hudson.model.Hudson","url":null}`)
		case "/pluginManager/api/json":
			io.WriteString(w, `{"plugins":[{"shortName":"oidc-provider","version":"212.v1","active":true,"enabled":true},
				{"shortName":"workflow-job","version":"1","active":false,"enabled":false},
				{"shortName":"workflow-cps","version":"1","active":false,"enabled":true},
				{"shortName":"cloudbees-folder","version":"6","active":true,"enabled":true}]}`)
		default:
			http.NotFound(w, r)
		}
	})
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != "2.462.3" || info.User != "admin" || info.Plugins["oidc-provider"].Version != "212.v1" || !info.RootURLUnset {
		t.Errorf("info = %+v", info)
	}
	got := strings.Join(l.lines(), "\n")
	want := "GET /whoAmI/api/json\nGET /api/json?tree=url\nGET /pluginManager/api/json?tree=plugins%5BshortName%2Cversion%2Cactive%2Cenabled%2Cdependencies%5BshortName%2Cversion%2Coptional%5D%5D"
	if got != want {
		t.Errorf("requests:\n%s\nwant\n%s", got, want)
	}
	err = c.CheckPlugins(context.Background(), "oidc-provider", "credentials-binding", "workflow-job", "workflow-cps", "cloudbees-folder")
	var pe *PluginsError
	if !errors.As(err, &pe) {
		t.Fatalf("CheckPlugins = %v", err)
	}
	if strings.Join(pe.Missing, ",") != "credentials-binding" || strings.Join(pe.Disabled, ",") != "workflow-job" || strings.Join(pe.Inactive, ",") != "workflow-cps" {
		t.Errorf("PluginsError = %+v", pe)
	}
	for _, name := range []string{"credentials-binding", "workflow-job", "workflow-cps"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%q does not name %s", err, name)
		}
	}
}

// Password auth: the crumb is fetched once per session with the session
// cookie, sent on every POST, and re-fetched after a 403 "No valid crumb".
func TestSessionCrumbAndCookie(t *testing.T) {
	var session atomic.Int32
	var crumbs atomic.Int32
	c, l := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		ck, _ := r.Cookie("JSESSIONID.abc")
		switch {
		case r.URL.Path == "/crumbIssuer/api/json":
			id := session.Add(1)
			http.SetCookie(w, &http.Cookie{Name: "JSESSIONID.abc", Value: "s" + string(rune('0'+id)), Path: "/", HttpOnly: true})
			crumbs.Add(1)
			io.WriteString(w, `{"_class":"hudson.security.csrf.DefaultCrumbIssuer","crumb":"c`+string(rune('0'+id))+`","crumbRequestField":"Jenkins-Crumb"}`)
		case r.Method == http.MethodPost:
			want := "s" + string(rune('0'+session.Load()))
			if ck == nil || ck.Value != want || r.Header.Get("Jenkins-Crumb") != "c"+want[1:] {
				w.WriteHeader(403)
				io.WriteString(w, "<html>Error 403 No valid crumb was included in the request</html>")
				return
			}
			body, _ := io.ReadAll(r.Body)
			if !bytes.Contains(body, []byte("<project/>")) {
				w.WriteHeader(400)
				return
			}
		default:
			http.NotFound(w, r)
		}
	})
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		if err := c.UpdateJob(ctx, name, []byte("<project/>")); err != nil {
			t.Fatal(err)
		}
	}
	if crumbs.Load() != 1 {
		t.Errorf("crumb fetched %d times for two POSTs, want once", crumbs.Load())
	}
	// The controller forgets the session (a restart): the next POST gets
	// 403 No valid crumb, fetches a new crumb and succeeds.
	session.Add(1)
	if err := c.UpdateJob(ctx, "c", []byte("<project/>")); err != nil {
		t.Fatal(err)
	}
	if crumbs.Load() != 2 {
		t.Errorf("crumb fetched %d times, want 2", crumbs.Load())
	}
	if strings.Contains(strings.Join(l.lines(), " "), "api/json/api/json") {
		t.Error("doubled crumb path")
	}
}

// A createItem whose answer is lost after the job was created is not sent
// again: the client sees the job exists. A createItem that failed before
// acting is sent again.
func TestCreateJobRetryDoesNotDuplicate(t *testing.T) {
	for _, landed := range []bool{true, false} {
		var mu sync.Mutex
		jobs := map[string]bool{}
		posts := 0
		c, l := newTest(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case r.URL.Path == "/crumbIssuer/api/json":
				http.NotFound(w, r)
			case r.Method == http.MethodPost && r.URL.Path == "/job/f o/createItem":
				posts++
				name := r.URL.Query().Get("name")
				if jobs[name] {
					w.Header().Set("X-Error", "A job already exists with the name ‘"+name+"’")
					w.WriteHeader(400)
					return
				}
				if posts == 1 {
					if landed {
						jobs[name] = true
					}
					w.WriteHeader(502)
					return
				}
				jobs[name] = true
			case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/job/f o/job/"):
				if !jobs[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/job/f o/job/"), "/api/json")] {
					http.NotFound(w, r)
					return
				}
				io.WriteString(w, `{"_class":"hudson.model.FreeStyleProject"}`)
			default:
				http.NotFound(w, r)
			}
		})
		if err := c.CreateJob(context.Background(), "f o/j+1", []byte("<project/>")); err != nil {
			t.Fatalf("landed=%v: %v", landed, err)
		}
		wantPosts := 2
		if landed {
			wantPosts = 1
		}
		if posts != wantPosts || len(jobs) != 1 {
			t.Errorf("landed=%v: %d POSTs, %d jobs; want %d POSTs, 1 job\n%s", landed, posts, len(jobs), wantPosts, strings.Join(l.lines(), "\n"))
		}
		// A second create of the same job is an error callers can test.
		if err := c.CreateJob(context.Background(), "f o/j+1", []byte("<project/>")); !errors.Is(err, ErrAlreadyExists) {
			t.Errorf("second create: %v, want ErrAlreadyExists", err)
		}
	}
}

func TestDeleteJobReads302AsDone(t *testing.T) {
	c, l := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.EscapedPath() {
		case "/job/a/job/b%20c/doDelete":
			w.Header().Set("Location", "/job/a/")
			w.WriteHeader(302)
		case "/job/a/":
			io.WriteString(w, "<html>dashboard</html>")
		default:
			http.NotFound(w, r)
		}
	})
	if err := c.DeleteJob(context.Background(), "a/b c"); err != nil {
		t.Fatal(err)
	}
	for _, line := range l.lines() {
		if line == "GET /job/a/" {
			t.Error("followed the 302")
		}
	}
	if err := c.DeleteJob(context.Background(), "a/missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete of a missing job: %v", err)
	}
}

func TestListJobs(t *testing.T) {
	// A tree deeper than one request reads: the handler honours the
	// depth of the tree= filter, like Jenkins.
	const depth = listDepth + 3
	c, l := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "api/json") {
			http.NotFound(w, r)
			return
		}
		levels := strings.Count(r.URL.Query().Get("tree"), "jobs[")
		prefix := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "api/json")
		start := strings.Count(prefix, "job/") // folder depth of the request
		var node func(level, remaining int, parent string) string
		node = func(level, remaining int, parent string) string {
			if remaining == 0 || level > depth {
				return ""
			}
			name := "f" + string(rune('a'+level))
			full := strings.TrimPrefix(parent+"/"+name, "/")
			kids := node(level+1, remaining-1, full)
			job := `{"_class":"hudson.model.FreeStyleProject","name":"j","fullName":"` + full + `/j","description":"d"}`
			if remaining == 1 {
				return `{"name":"` + name + `"},{"name":"j"}` // the jobs[name] probe
			}
			if kids != "" {
				kids += ","
			}
			return `{"_class":"com.cloudbees.hudson.plugins.folder.Folder","name":"` + name + `","fullName":"` + full + `","description":"","jobs":[` + kids + job + `]}`
		}
		parent := ""
		for i := 1; i <= start; i++ {
			parent = strings.TrimPrefix(parent+"/f"+string(rune('a'+i)), "/")
		}
		top := node(start+1, levels, parent)
		if start > 0 {
			top += `,{"_class":"hudson.model.FreeStyleProject","name":"j","fullName":"` + parent + `/j","description":"d"}`
		}
		io.WriteString(w, `{"jobs":[`+top+`]}`)
	})
	items, err := c.ListJobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var folders, jobs int
	for _, it := range items {
		if it.Folder {
			folders++
		} else {
			jobs++
		}
	}
	if folders != depth || jobs != depth {
		t.Errorf("%d folders and %d jobs, want %d each: %+v", folders, jobs, depth, items)
	}
	if n := len(l.lines()); n != 2 {
		t.Errorf("%d requests, want 2:\n%s", n, strings.Join(l.lines(), "\n"))
	}
	if items[0].FullName != "fb" || items[len(items)-1].FullName == "" {
		t.Errorf("order: first %q", items[0].FullName)
	}
}

func TestCredentials(t *testing.T) {
	cred, _ := os.ReadFile("testdata/idtoken-credential.xml")
	var posted []string
	c, l := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		switch {
		case r.Method == http.MethodGet && p == "/job/team%20a/job/s%C3%BCb/credentials/store/folder/domain/_/credential/my-oidc/config.xml":
			w.Header().Set("Content-Type", "application/xml")
			w.Write(cred)
		case r.Method == http.MethodPost && strings.HasSuffix(p, "/createCredentials"):
			if r.Header.Get("Accept") != "application/json" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
				w.WriteHeader(400)
				return
			}
			posted = append(posted, r.PostFormValue("json"))
			msg := `{"message":"Credentials created","notificationType":"SUCCESS"}`
			if len(posted) > 1 {
				msg = `{"message":"Credentials with specified ID already exist","notificationType":"ERROR"}`
			}
			io.WriteString(w, msg)
		case r.Method == http.MethodPost && strings.HasSuffix(p, "/credential/my-oidc/updateSubmit"):
			posted = append(posted, r.PostFormValue("json"))
			w.Header().Set("Location", ".")
			w.WriteHeader(302)
		case r.Method == http.MethodDelete && p == "/credentials/store/system/domain/_/credential/my-oidc/config.xml":
		default:
			http.NotFound(w, r)
		}
	})
	ctx := context.Background()
	got, err := c.GetCredential(ctx, "team a/süb", "my-oidc")
	if err != nil {
		t.Fatal(err)
	}
	want := IDTokenCredential{ID: "my-oidc", Kind: "string", Description: "Cloudsmith & friends", Audience: "my-audience",
		Issuer: "https://issuer.example.com", Folder: "team a/süb", Class: "io.jenkins.plugins.oidc_provider.IdTokenStringCredentials", Scope: "GLOBAL"}
	if *got != want {
		t.Errorf("got %+v\nwant %+v", *got, want)
	}
	if _, err := c.GetCredential(ctx, "", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing credential: %v", err)
	}
	form := []byte(`{"":"0","credentials":{"scope":"GLOBAL","id":"my-oidc","$class":"io.jenkins.plugins.oidc_provider.IdTokenStringCredentials"}}`)
	if err := c.CreateCredential(ctx, "", form); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateCredential(ctx, "", form); !errors.Is(err, ErrAlreadyExists) || !strings.Contains(err.Error(), "already exist") {
		t.Errorf("duplicate create: %v", err)
	}
	if err := c.UpdateCredential(ctx, "", "my-oidc", form); err != nil {
		t.Fatal(err)
	}
	if posted[2] != `{"scope":"GLOBAL","id":"my-oidc","$class":"io.jenkins.plugins.oidc_provider.IdTokenStringCredentials"}` {
		t.Errorf("updateSubmit got %s, want the credential object", posted[2])
	}
	if err := c.DeleteCredential(ctx, "", "my-oidc"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteCredential(ctx, "", "gone"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing: %v", err)
	}
	_ = l
}

func TestDiscoveryPaths(t *testing.T) {
	c, l := newTest(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) })
	ctx := context.Background()
	if _, _, err := c.Discovery(ctx, "", "id", "at the top/middle"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Discovery(ctx, "", "id", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Discovery(ctx, "https://issuer.example.com/x", "my id", "f"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /oidc/job/at%20the%20top/job/middle/.well-known/openid-configuration",
		"GET /oidc/job/at%20the%20top/job/middle/jwks",
		"GET /oidc/.well-known/openid-configuration",
		"GET /oidc/jwks",
		"GET /job/f/descriptorByName/io.jenkins.plugins.oidc_provider.IdTokenStringCredentials/wellKnownOpenidConfiguration?issuer=https%3A%2F%2Fissuer.example.com%2Fx",
		"GET /job/f/descriptorByName/io.jenkins.plugins.oidc_provider.IdTokenStringCredentials/jwks?id=my+id&issuer=https%3A%2F%2Fissuer.example.com%2Fx",
	}
	if got := l.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Retried GETs, and nothing secret in the debug log.
func TestRetryAndLogging(t *testing.T) {
	var n atomic.Int32
	var buf bytes.Buffer
	l := &logged{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) < 3 {
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, "<project/>")
	})}
	srv := httptest.NewServer(l)
	defer srv.Close()
	c, err := New(Config{URL: srv.URL + "/", User: "admin", Token: "s3cr3t-token",
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retry:  httpx.Retry{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.JobConfig(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 3 {
		t.Errorf("%d attempts, want 3", n.Load())
	}
	if strings.Contains(buf.String(), "s3cr3t") || strings.Count(buf.String(), "http request") != 3 {
		t.Errorf("log:\n%s", buf.String())
	}
}

// A controller under a context path (https://host/ci/) keeps it on every
// request, direct, through gojenkins, and for the crumb.
func TestContextPath(t *testing.T) {
	l := &logged{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ci/whoAmI/api/json":
			io.WriteString(w, `{"name":"admin"}`)
		case "/ci/api/json":
			io.WriteString(w, `{"url":"https://ci.example.com/ci/"}`)
		case "/ci/pluginManager/api/json":
			io.WriteString(w, `{"plugins":[]}`)
		case "/ci/crumbIssuer/api/json":
			io.WriteString(w, `{"crumb":"c","crumbRequestField":"Jenkins-Crumb"}`)
		case "/ci/job/a b/config.xml":
			io.WriteString(w, "<project/>")
		default:
			http.NotFound(w, r)
		}
	})}
	srv := httptest.NewServer(l)
	defer srv.Close()
	c, err := New(Config{URL: srv.URL + "/ci", User: "u", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateJob(ctx, "a b", []byte("<project/>")); err != nil {
		t.Fatal(err)
	}
	want := "GET /ci/whoAmI/api/json\nGET /ci/api/json?tree=url\nGET /ci/pluginManager/api/json?tree=plugins%5BshortName%2Cversion%2Cactive%2Cenabled%2Cdependencies%5BshortName%2Cversion%2Coptional%5D%5D\n" +
		"GET /ci/crumbIssuer/api/json\nPOST /ci/job/a%20b/config.xml"
	if got := strings.Join(l.lines(), "\n"); got != want {
		t.Errorf("requests:\n%s\nwant\n%s", got, want)
	}
	if c.URL() != srv.URL+"/ci/" {
		t.Errorf("URL() = %s", c.URL())
	}
}

func TestInstallPluginsBodyAndWaitReady(t *testing.T) {
	var body string
	var ready atomic.Bool
	var polls atomic.Int32
	failing := false
	c, _ := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pluginManager/installNecessaryPlugins":
			b, _ := io.ReadAll(r.Body)
			body = string(b)
			w.Header().Set("Location", "/pluginManager/updates/")
			w.WriteHeader(302)
		case "/pluginManager/api/json":
			io.WriteString(w, `{"plugins":[{"shortName":"workflow-cps","version":"4.1","active":true,"enabled":true}]}`)
		case "/updateCenter/api/json":
			// Downloads finish on the third poll (UpdateCenter.InstallationJob).
			st := `{"type":"Pending","success":false}`
			if polls.Add(1) >= 3 {
				st = `{"type":"Success","success":true}`
				if failing {
					st = `{"type":"Failure","success":false}`
				}
			}
			fmt.Fprintf(w, `{"jobs":[{"type":"ConnectionCheckJob","status":{"type":"Success"}},{"type":"InstallationJob","name":"oidc-provider","errorMessage":%s,"status":%s}]}`,
				map[bool]string{true: `"Connection refused"`, false: "null"}[failing], st)
		case "/api/json":
			if !ready.Load() {
				w.Header().Del("X-Jenkins")
				w.WriteHeader(503)
				return
			}
			io.WriteString(w, `{"mode":"NORMAL"}`)
		default:
			http.NotFound(w, r)
		}
	})
	ctx := context.Background()
	// No job for evil"<x> (prevalidateConfig only logs "No such plugin")
	// and it is not installed; workflow-cps is, so it got none either.
	err := c.InstallPlugins(ctx, "oidc-provider@latest", `evil"<x>`, "workflow-cps@4.0")
	if err == nil || !strings.Contains(err.Error(), `offers no plugin named evil"<x>`) || strings.Contains(err.Error(), "workflow-cps") {
		t.Fatalf("InstallPlugins = %v", err)
	}
	want := `<jenkins><install plugin="oidc-provider@latest"/><install plugin="evil&#34;&lt;x&gt;@latest"/><install plugin="workflow-cps@4.0"/></jenkins>`
	if body != want {
		t.Errorf("body %s\nwant %s", body, want)
	}
	if polls.Load() != 3 {
		t.Errorf("InstallPlugins returned after %d update center polls, want 3 (until the downloads finished)", polls.Load())
	}
	failing = true
	polls.Store(0)
	if err := c.InstallPlugins(ctx, "oidc-provider"); err == nil || !strings.Contains(err.Error(), "could not install oidc-provider (Connection refused)") {
		t.Errorf("failed download: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := c.WaitReady(short); err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("WaitReady while down: %v", err)
	}
	ready.Store(true)
	if err := c.WaitReady(ctx); err != nil {
		t.Errorf("WaitReady when up: %v", err)
	}
}
