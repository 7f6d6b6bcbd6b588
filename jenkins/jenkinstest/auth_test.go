package jenkinstest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAuthentication(t *testing.T) {
	s := testServer(t,
		WithUser(User{Name: "reader", Password: "rpw", Token: "rtok", Permissions: ReadOnly}),
		WithUser(User{Name: "dev", Password: "dpw", Token: "dtok", Permissions: []Permission{OverallRead, ItemCreate, ItemRead}}),
		WithUser(User{Name: "ops", Token: "otok", Permissions: []Permission{OverallRead, SystemRead}}),
	)
	admin := adminClient(t, s)
	admin.mustStatus(200, "POST", "createItem?name=j", freestyleXML, xmlCT)
	tests := []struct {
		name, user, secret, method, path, body string
		status                                 int
		required                               string
		impliedBy                              []string
	}{
		{"token ok", "admin", s.Jenkins.AdminToken(), "GET", "api/json", "", 200, "", nil},
		{"bad token", "admin", "nope", "GET", "api/json", "", 401, "", nil},
		{"unknown user", "ghost", "x", "GET", "api/json", "", 401, "", nil},
		{"anonymous", "", "", "GET", "api/json", "", 403, "hudson.model.Hudson.Read", []string{"hudson.security.Permission.GenericRead", "hudson.model.Hudson.Administer"}},
		{"anonymous oidc", "", "", "GET", "oidc/jwks", "", 404, "", nil},
		{"anonymous whoAmI", "", "", "GET", "whoAmI/api/json", "", 200, "", nil},
		{"reader reads config", "reader", "rtok", "GET", "job/j/config.xml", "", 200, "", nil},
		{"reader cannot configure", "reader", "rtok", "POST", "job/j/config.xml", freestyleXML, 403, "hudson.model.Item.Configure",
			[]string{"hudson.security.Permission.GenericConfigure", "hudson.security.Permission.GenericUpdate", "hudson.security.Permission.GenericWrite", "hudson.model.Hudson.Administer"}},
		{"reader cannot create", "reader", "rtok", "POST", "createItem?name=x", freestyleXML, 403, "hudson.model.Item.Create", nil},
		{"reader cannot delete", "reader", "rtok", "POST", "job/j/doDelete", "", 403, "hudson.model.Item.Delete", nil},
		{"dev creates", "dev", "dtok", "POST", "createItem?name=x", freestyleXML, 200, "", nil},
		{"dev cannot read config", "dev", "dtok", "GET", "job/j/config.xml", "", 403, "hudson.model.Item.ExtendedRead", nil},
		{"dev cannot see credentials", "dev", "dtok", "GET", "credentials/store/system/domain/_/api/json", "", 403, "com.cloudbees.plugins.credentials.CredentialsProvider.View", []string{"hudson.security.Permission.GenericRead", "hudson.model.Hudson.Administer"}},
		{"reader no manage jwks", "reader", "rtok", "GET", "descriptorByName/" + ClassIDTokenString + "/jwks?id=x&issuer=https://i", "", 403, "hudson.model.Hudson.Manage", []string{"hudson.model.Hudson.Administer"}},
		// PluginManager.getApi: Jenkins.get().checkPermission(Jenkins.SYSTEM_READ)
		// (jenkinsci/jenkins core/src/main/java/hudson/PluginManager.java);
		// SYSTEM_READ = new Permission(PERMISSIONS, "SystemRead", …, ADMINISTER, …).
		{"reader no plugin list", "reader", "rtok", "GET", "pluginManager/api/json?tree=plugins[shortName]", "", 403, "hudson.model.Hudson.SystemRead", []string{"hudson.model.Hudson.Administer"}},
		{"system reader lists plugins", "ops", "otok", "GET", "pluginManager/api/json?tree=plugins[shortName]", "", 200, "", nil},
		{"admin lists plugins", "admin", s.Jenkins.AdminToken(), "GET", "manage/pluginManager/api/json", "", 200, "", nil},
		{"password POST without crumb", "reader", "rpw", "POST", "job/j/config.xml", freestyleXML, 403, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{t: t, base: s.URL, user: tt.user, secret: tt.secret, hc: noFollow()}
			var hdr []string
			if tt.body != "" {
				hdr = []string{xmlCT}
			}
			r := c.do(tt.method, tt.path, tt.body, hdr...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status == 401 && r.header.Get("WWW-Authenticate") != `Basic realm="Jenkins"` {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
			if tt.required != "" {
				if r.header.Get("X-Hudson") != "1.395" || r.header.Get("X-Jenkins") == "" {
					t.Errorf("403 lacks advertiseHeaders: %v", r.header)
				}
				if got := r.header.Get("X-Required-Permission"); got != tt.required {
					t.Errorf("X-Required-Permission %q, want %q", got, tt.required)
				}
				want := tt.user
				if want == "" {
					want = "anonymous"
				}
				if got := r.header.Get("X-You-Are-Authenticated-As"); got != want {
					t.Errorf("X-You-Are-Authenticated-As %q", got)
				}
				if tt.impliedBy != nil && strings.Join(r.header.Values("X-Permission-Implied-By"), ",") != strings.Join(tt.impliedBy, ",") {
					t.Errorf("X-Permission-Implied-By %q", r.header.Values("X-Permission-Implied-By"))
				}
			}
			if tt.name == "password POST without crumb" && !strings.Contains(r.body, "No valid crumb was included in the request") {
				t.Errorf("crumb error body: %s", r.body)
			}
		})
	}
}

func TestCrumbs(t *testing.T) {
	s := testServer(t, WithUser(User{Name: "bob", Password: "pw", Permissions: []Permission{Administer}}))
	tests := []struct {
		name       string
		path       string
		keepCookie bool
		sendCrumb  bool
		status     int
	}{
		{"crumb and cookie", "crumbIssuer/api/json", true, true, 200},
		{"gojenkins doubled path", "crumbIssuer/api/json/api/json", true, true, 200},
		{"crumb without cookie", "crumbIssuer/api/json", false, true, 403},
		{"cookie without crumb", "crumbIssuer/api/json", true, false, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{t: t, base: s.URL, user: "bob", secret: "pw", hc: noFollow()}
			r := c.mustStatus(200, "GET", tt.path, "")
			var crumb struct {
				Class             string `json:"_class"`
				Crumb             string `json:"crumb"`
				CrumbRequestField string `json:"crumbRequestField"`
			}
			if err := json.Unmarshal([]byte(r.body), &crumb); err != nil || len(crumb.Crumb) != 64 || crumb.CrumbRequestField != "Jenkins-Crumb" || crumb.Class != "hudson.security.csrf.DefaultCrumbIssuer" {
				t.Fatalf("crumb: %s %v", r.body, err)
			}
			if !strings.HasPrefix(r.header.Get("Set-Cookie"), "JSESSIONID.") {
				t.Errorf("no session cookie: %q", r.header.Get("Set-Cookie"))
			}
			if !tt.keepCookie {
				c.hc = noFollow()
			}
			var hdr []string
			if tt.sendCrumb {
				hdr = append(hdr, "Jenkins-Crumb: "+crumb.Crumb)
			}
			c.mustStatus(tt.status, "POST", "createItem?name="+strings.ReplaceAll(tt.name, " ", "-"), freestyleXML, append(hdr, xmlCT)...)
		})
	}
	off := testServer(t, WithCSRF(false), WithDoubledCrumbPath(false))
	c := adminClient(t, off)
	c.mustStatus(404, "GET", "crumbIssuer/api/json", "")
	on := testServer(t, WithDoubledCrumbPath(false))
	adminClient(t, on).mustStatus(404, "GET", "crumbIssuer/api/json/api/json", "")
}

func TestWhoAmIAndRoot(t *testing.T) {
	s := testServer(t, WithVersion("2.999"))
	c := adminClient(t, s)
	r := c.mustStatus(200, "GET", "whoAmI/api/json", "")
	if !strings.Contains(r.body, `"name":"admin"`) || !strings.Contains(r.body, `"_class":"hudson.security.WhoAmI"`) {
		t.Errorf("whoAmI: %s", r.body)
	}
	r = c.mustStatus(200, "GET", "", "")
	if r.header.Get("X-Jenkins") != "2.999" {
		t.Errorf("X-Jenkins on /: %q", r.header.Get("X-Jenkins"))
	}
	if !strings.HasSuffix(s.URL, "/") || !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL %q", s.URL)
	}
}

func TestLatencyAndRequestLog(t *testing.T) {
	s := testServer(t, WithLatency(30*time.Millisecond))
	c := adminClient(t, s)
	start := time.Now()
	c.mustStatus(200, "GET", "api/json", "")
	if time.Since(start) < 30*time.Millisecond {
		t.Error("latency not applied")
	}
	reqs := s.Jenkins.Requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/api/json" || reqs[0].Status != 200 || reqs[0].User != "admin" {
		t.Errorf("log: %+v", reqs)
	}
	s.Jenkins.ResetRequests()
	if len(s.Jenkins.Requests()) != 0 {
		t.Error("ResetRequests")
	}
}

func TestCrumbXPathAndMe(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	r := c.mustStatus(200, "GET", `crumbIssuer/api/xml?xpath=concat(//crumbRequestField,":",//crumb)`, "")
	if !strings.HasPrefix(r.body, "Jenkins-Crumb:") || len(r.body) != len("Jenkins-Crumb:")+64 {
		t.Errorf("xpath crumb %q", r.body)
	}
	r = c.mustStatus(200, "GET", "me/api/json", "")
	if !strings.Contains(r.body, `"id":"admin"`) {
		t.Errorf("me: %s", r.body)
	}
	anon := &client{t: t, base: s.URL, hc: noFollow()}
	anon.mustStatus(403, "GET", "me/api/json", "")
	open := testServer(t, WithAnonymousRead())
	(&client{t: t, base: open.URL, hc: noFollow()}).mustStatus(200, "GET", "api/json", "")
}
