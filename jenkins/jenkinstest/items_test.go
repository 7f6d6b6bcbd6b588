package jenkinstest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCreateItemErrors(t *testing.T) {
	s := testServer(t, WithUTF8Headers())
	c := adminClient(t, s)
	c.mustStatus(200, "POST", "createItem?name=exists", freestyleXML, xmlCT)
	tests := []struct {
		name, path, body string
		hdr              []string
		status           int
		xError           string
	}{
		{"existing", "createItem?name=exists", freestyleXML, []string{xmlCT}, 400, "A job already exists with the name ‘exists’"},
		{"existing case-insensitive", "createItem?name=EXISTS", freestyleXML, []string{xmlCT}, 400, "A job already exists with the name ‘EXISTS’"},
		{"unsafe char", "createItem?name=a%3Fb", freestyleXML, []string{xmlCT}, 400, "‘?’ is an unsafe character"},
		{"unsafe slash", "createItem?name=a%2Fb", freestyleXML, []string{xmlCT}, 400, "‘/’ is an unsafe character"},
		{"dot", "createItem?name=.", freestyleXML, []string{xmlCT}, 400, "“.” is not allowed name"},
		{"dotdot", "createItem?name=..", freestyleXML, []string{xmlCT}, 400, "“..” is not allowed name"},
		{"trailing dot", "createItem?name=a.", freestyleXML, []string{xmlCT}, 400, "A name cannot end with ‘.’"},
		{"empty name", "createItem?name=", freestyleXML, []string{xmlCT}, 400, "No name is specified"},
		{"missing name", "createItem", freestyleXML, []string{xmlCT}, 400, "Query parameter 'name' is required"},
		{"no content type", "createItem?name=x", freestyleXML, nil, 400, "No Content-Type header set"},
		{"invalid xml", "createItem?name=bad", "<project><oops></project>", []string{xmlCT}, 500, ""},
		{"unknown type", "createItem?name=bad", "<maven2-moduleset/>", []string{xmlCT}, 500, ""},
		{"GET", "createItem?name=x", "", nil, 405, ""},
		{"parent missing", "job/nope/createItem?name=x", freestyleXML, []string{xmlCT}, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "POST"
			if tt.name == "GET" {
				method = "GET"
			}
			r := c.do(method, tt.path, tt.body, tt.hdr...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if got := r.header.Get("X-Error"); got != tt.xError {
				t.Errorf("X-Error %q, want %q", got, tt.xError)
			}
			if tt.status == 500 && !strings.Contains(r.body, "Oops") {
				t.Errorf("500 without an error page: %q", r.body)
			}
		})
	}
	if _, ok := s.Jenkins.ItemByFullName("bad"); ok {
		t.Error("a failed create left an item behind")
	}
}

func TestItemsLifecycleAndNames(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	c.mustStatus(200, "POST", "createItem?name=team%20a", folderXML, "Content-Type: text/xml; charset=utf-8")
	c.mustStatus(200, "POST", "job/team%20a/createItem?name=sub", folderXML, xmlCT)
	c.mustStatus(200, "POST", "job/team%20a/job/sub/createItem?name=caf%C3%A9%2B1", freestyleXML, xmlCT)
	c.mustStatus(200, "POST", "job/team%20a/createItem?name=pipe", pipelineXML, xmlCT)

	if cl, ok := s.Jenkins.ItemByFullName("team a/sub/café+1"); !ok || cl != classFreestyle {
		t.Fatalf("nested job missing: %q %v", cl, ok)
	}
	// Until the next save config.xml is the posted text as an XSLT
	// identity transform writes it (ItemGroupMixIn.createProjectFromXML).
	r := c.mustStatus(200, "GET", "job/team%20a/job/sub/job/caf%C3%A9+1/config.xml", "")
	if want := `<?xml version="1.0" encoding="UTF-8"?>` + strings.TrimPrefix(freestyleXML, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"); r.body != want {
		t.Errorf("config is not the identity copy:\n%s\nwant\n%s", r.body, want)
	}
	r = c.mustStatus(200, "GET", "job/team%20a/job/pipe/config.xml", "")
	if want := `<?xml version="1.0" encoding="UTF-8"?>` + pipelineXML; r.body != want {
		t.Errorf("pipeline config:\n%s\nwant\n%s", r.body, want)
	}
	// A form create saves, so XStream writes the file.
	c.mustStatus(302, "POST", "createItem?name=formed&mode=org.jenkinsci.plugins.workflow.job.WorkflowJob", "", formCT)
	r = c.mustStatus(200, "GET", "job/formed/config.xml", "")
	for _, want := range []string{"<?xml version='1.1' encoding='UTF-8'?>\n", `<flow-definition plugin="workflow-job@`, "  <description></description>\n"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("saved config lacks %q:\n%s", want, r.body)
		}
	}
	c.mustStatus(302, "POST", "job/formed/doDelete", "")
	// Round trip of Jenkins' own output is accepted.
	c.mustStatus(200, "POST", "job/team%20a/job/pipe/config.xml", r.body, xmlCT)
	// Type change is refused.
	r = c.mustStatus(500, "POST", "job/team%20a/job/pipe/config.xml", freestyleXML, xmlCT)
	if !strings.Contains(r.body, "Expecting class") {
		t.Errorf("type change error: %s", r.body)
	}
	c.mustStatus(500, "POST", "job/team%20a/job/pipe/config.xml", "<flow-definition>", xmlCT)

	// Recursive listing in one request.
	r = c.mustStatus(200, "GET", "api/json?tree=jobs[name,fullName,url,_class,description,jobs[name,fullName,url,_class,description,jobs[name,fullName,_class]]]", "")
	var root struct {
		Class string `json:"_class"`
		Jobs  []struct {
			Class, Name, FullName, URL string
			Jobs                       []struct {
				Class    string `json:"_class"`
				FullName string
				Jobs     []struct{ FullName string }
			}
		}
	}
	if err := json.Unmarshal([]byte(r.body), &root); err != nil {
		t.Fatal(err, r.body)
	}
	if root.Class != "hudson.model.Hudson" || len(root.Jobs) != 1 || root.Jobs[0].URL != s.URL+"job/team%20a/" {
		t.Fatalf("root listing: %s", r.body)
	}
	if got := root.Jobs[0].Jobs; len(got) != 2 || got[0].FullName != "team a/pipe" || got[1].Jobs[0].FullName != "team a/sub/café+1" {
		t.Fatalf("nested listing: %s", r.body)
	}
	for _, h := range []string{"X-Jenkins", "X-Jenkins-Session"} {
		if r.header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	// hudson.model.Api.setHeaders sets only X-Jenkins and X-Jenkins-Session;
	// X-Hudson comes from Functions.advertiseHeaders (pages, 403s).
	if r.header.Get("X-Hudson") != "" {
		t.Errorf("api/json sends X-Hudson")
	}
	if p := c.mustStatus(200, "GET", "job/team%20a/", ""); p.header.Get("X-Hudson") != "1.395" || p.header.Get("X-Jenkins") == "" {
		t.Errorf("page headers: %v", p.header)
	}

	// Depth 0 shows name/url/color only.
	r = c.mustStatus(200, "GET", "job/team%20a/job/sub/api/json", "")
	if !strings.Contains(r.body, `"jobs":[{"_class":"hudson.model.FreeStyleProject","name":"café+1","url":"`+s.URL+`job/team%20a/job/sub/job/caf%C3%A9+1/","color":"notbuilt"}]`) {
		t.Errorf("folder api: %s", r.body)
	}

	// Deletion: doDelete redirects to the parent, DELETE answers 204.
	r = c.mustStatus(302, "POST", "job/team%20a/job/sub/job/caf%C3%A9+1/doDelete", "")
	if loc := r.header.Get("Location"); loc != s.URL+"job/team%20a/job/sub/" {
		t.Errorf("doDelete Location %q", loc)
	}
	c.mustStatus(204, "DELETE", "job/team%20a/job/pipe/", "")
	c.mustStatus(404, "GET", "job/team%20a/job/pipe/config.xml", "")
	c.mustStatus(405, "GET", "job/team%20a/doDelete", "")
}

func TestCopyAndFolderCredentialsDrop(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	c.mustStatus(200, "POST", "createItem?name=src", freestyleXML, xmlCT)
	r := c.mustStatus(302, "POST", "createItem?name=dst&mode=copy&from=src", "")
	if r.header.Get("Location") != s.URL+"job/dst/configure" {
		t.Errorf("copy Location %q", r.header.Get("Location"))
	}
	c.mustStatus(400, "POST", "createItem?name=dst2&mode=copy&from=nope", "")

	// A folder config.xml POST without its credentials property drops the store.
	c.mustStatus(200, "POST", "createItem?name=f", folderXML, xmlCT)
	createTokenCred(t, c, "job/f/credentials/store/folder/domain/_/", "cred", "aud", "")
	r = c.mustStatus(200, "GET", "job/f/config.xml", "")
	if !strings.Contains(r.body, folderCredsProperty) || !strings.Contains(r.body, "{AQAAAB") {
		t.Fatalf("folder config lacks its store:\n%s", r.body)
	}
	c.mustStatus(200, "POST", "job/f/config.xml", r.body, xmlCT)
	c.mustStatus(200, "GET", "job/f/credentials/store/folder/domain/_/credential/cred/config.xml", "")
	c.mustStatus(200, "POST", "job/f/config.xml", folderXML, xmlCT)
	c.mustStatus(404, "GET", "job/f/credentials/store/folder/domain/_/credential/cred/config.xml", "")
}

func TestPluginsAndRestart(t *testing.T) {
	s := testServer(t, WithoutPlugins("oidc-provider", "workflow-job"), WithRestartDuration(time.Second), WithoutDynamicLoad(), WithPluginDownloadTime(time.Millisecond))
	c := adminClient(t, s)
	r := c.mustStatus(200, "GET", "pluginManager/api/json?tree=plugins[shortName,version,active,enabled]", "")
	if strings.Contains(r.body, `"oidc-provider"`) || !strings.Contains(r.body, `{"active":true,"enabled":true,"shortName":"credentials","version":"1488.v9049e8c8b_d98"}`) {
		t.Fatalf("plugins: %s", r.body)
	}
	r = c.mustStatus(200, "GET", "pluginManager/api/json", "")
	if !strings.Contains(r.body, `"plugins":[{},{}`) {
		t.Errorf("depth 0 plugins should be empty objects: %s", r.body)
	}
	c.mustStatus(500, "POST", "createItem?name=p", pipelineXML, xmlCT)
	c.mustStatus(404, "GET", "oidc/jwks", "")

	c.mustStatus(302, "POST", "pluginManager/installNecessaryPlugins", `<jenkins><install plugin="oidc-provider@latest"/><install plugin="workflow-job@1.0"/><install plugin="no-such@1"/></jenkins>`, xmlCT)
	time.Sleep(20 * time.Millisecond)
	r = c.mustStatus(200, "GET", "updateCenter/api/json", "")
	if !strings.Contains(r.body, `"restartRequiredForCompletion":true`) {
		t.Errorf("update center: %s", r.body)
	}
	r = c.mustStatus(200, "GET", "pluginManager/api/json?tree=plugins[shortName,active]", "")
	if strings.Contains(r.body, "oidc-provider") {
		t.Errorf("plugin active before restart: %s", r.body)
	}
	session := r.header.Get("X-Jenkins-Session")
	c.mustStatus(302, "POST", "safeRestart", "")
	c.mustStatus(503, "GET", "api/json", "")
	waitReady(t, c)
	r = c.mustStatus(200, "GET", "pluginManager/api/json?tree=plugins[shortName,active]", "")
	if !strings.Contains(r.body, `{"active":true,"shortName":"oidc-provider"}`) || r.header.Get("X-Jenkins-Session") == session {
		t.Errorf("after restart: %s", r.body)
	}
	c.mustStatus(200, "POST", "createItem?name=p", pipelineXML, xmlCT)
}

func waitReady(t *testing.T, c *client) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if c.do("GET", "api/json", "").status == http.StatusOK {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("controller did not come back")
}

func TestFormModeCreate(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	// gojenkins' CreateFolder posts the form mode, not XML.
	r := c.mustStatus(302, "POST", "createItem?name=f&mode=com.cloudbees.hudson.plugins.folder.Folder", "", formCT)
	if r.header.Get("Location") != s.URL+"job/f/configure" {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	c.mustStatus(200, "GET", "job/f/configure", "")
	c.mustStatus(302, "POST", "job/f/createItem", "name=g&mode=hudson.model.FreeStyleProject", formCT)
	if cl, ok := s.Jenkins.ItemByFullName("f/g"); !ok || cl != classFreestyle {
		t.Errorf("form create in folder: %q %v", cl, ok)
	}
	c.mustStatus(400, "POST", "createItem?name=h", "", formCT)
	c.mustStatus(400, "POST", "createItem?name=h&mode=no.such.Type", "", formCT)
}

func TestXErrorAsJettyWritesIt(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	c.mustStatus(200, "POST", "createItem?name=caf%C3%A9", freestyleXML, xmlCT)
	r := c.mustStatus(400, "POST", "createItem?name=caf%C3%A9", freestyleXML, xmlCT)
	// ‘ and ’ become spaces (the trailing one is trimmed as header
	// whitespace); é goes out as the Latin-1 byte 0xE9.
	if got := r.header.Get("X-Error"); got != "A job already exists with the name  caf\xe9" {
		t.Errorf("X-Error %q", got)
	}
	if !strings.Contains(r.body, "A job already exists with the name ‘café’") {
		t.Errorf("body %q", r.body)
	}
}

func TestConcurrentCreateIsSerialized(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	const n = 16
	codes := make(chan int, n)
	for i := 0; i < n; i++ {
		go func() { codes <- c.do("POST", "createItem?name=same", freestyleXML, xmlCT).status }()
	}
	count := map[int]int{}
	for i := 0; i < n; i++ {
		count[<-codes]++
	}
	if count[200] != 1 || count[400] != n-1 {
		t.Errorf("statuses %v, want one 200 and %d 400s", count, n-1)
	}
}

func TestCompareVersionsAndReinstall(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1415.v831096eb_5534", "1415.v831096eb_5534", 0},
		{"2.10", "2.9", 1},
		{"5.7.0", "5.7", 1},
		{"1.0", "1.0.1", -1},
		{"212.v7657c4d45c02", "96.vee8ed882ec4d", 1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d", tt.a, tt.b, got)
		}
	}
	s := testServer(t)
	c := adminClient(t, s)
	c.mustStatus(302, "POST", "pluginManager/installNecessaryPlugins", `<jenkins><install plugin="credentials@1.0"/><install plugin="git@latest"/></jenkins>`, xmlCT)
	if r := c.mustStatus(200, "GET", "updateCenter/api/json", ""); !strings.Contains(r.body, `"restartRequiredForCompletion":false`) {
		t.Errorf("installed plugins should be skipped: %s", r.body)
	}
	c.mustStatus(302, "POST", "pluginManager/installNecessaryPlugins", `<jenkins><install plugin="job-dsl@1.0"/></jenkins>`, xmlCT)
	if r := c.mustStatus(200, "GET", "updateCenter/api/json?depth=2", ""); !strings.Contains(r.body, `"name":"job-dsl","status":{"_class":"hudson.model.UpdateCenter$DownloadJob$Pending","success":false,"type":"Pending"},"plugin":{"_class":"hudson.model.UpdateSite$Plugin","name":"job-dsl","version":"1.90"}`) {
		t.Errorf("update center should install its own version: %s", r.body)
	}
	c.mustStatus(500, "POST", "pluginManager/installNecessaryPlugins", ``, xmlCT)
}
