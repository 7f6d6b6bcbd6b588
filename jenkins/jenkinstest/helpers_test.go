package jenkinstest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// testServer starts an emulator for one test.
func testServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// client talks to a test server as one user.
type client struct {
	t      *testing.T
	base   string
	user   string
	secret string
	hc     *http.Client
}

func adminClient(t *testing.T, s *Server) *client {
	return &client{t: t, base: s.URL, user: "admin", secret: s.Jenkins.AdminToken(), hc: noFollow()}
}

func noFollow() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type resp struct {
	status int
	header http.Header
	body   string
}

// do sends a request; hdr is "Key: value" pairs.
func (c *client) do(method, path, body string, hdr ...string) resp {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+strings.TrimPrefix(path, "/"), r)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.secret)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: string(b)}
}

const xmlCT = "Content-Type: application/xml"

func (c *client) mustStatus(want int, method, path, body string, hdr ...string) resp {
	c.t.Helper()
	r := c.do(method, path, body, hdr...)
	if r.status != want {
		c.t.Fatalf("%s %s = %d, want %d\n%s", method, path, r.status, want, r.body)
	}
	return r
}

const freestyleXML = `<?xml version="1.0" encoding="UTF-8"?>
<project>
  <description>hello</description>
  <builders>
    <hudson.tasks.Shell><command>echo hi</command></hudson.tasks.Shell>
  </builders>
</project>`

const folderXML = `<com.cloudbees.hudson.plugins.folder.Folder><description>f</description><properties/></com.cloudbees.hudson.plugins.folder.Folder>`

const pipelineXML = `<flow-definition><description>p</description><definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition"><script>echo 'hi'</script><sandbox>true</sandbox></definition></flow-definition>`

func urlEscape(s string) string { return url.QueryEscape(s) }
