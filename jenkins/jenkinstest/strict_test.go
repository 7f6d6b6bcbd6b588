package jenkinstest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/jwtutil"
)

// TestCustomIssuerEqualToJenkinsNotServed pins Keys.doDynamic/findIssuer
// (oidc-provider b5cde45 Keys.java): a credential whose issuer field is
// set is never served from /oidc, even when the value is Jenkins' own
// issuer URL, and with no other credential both documents are 404.
func TestCustomIssuerEqualToJenkinsNotServed(t *testing.T) {
	s := testServer(t)
	c := adminClient(t, s)
	anon := &client{t: t, base: s.URL, hc: noFollow()}
	c.mustStatus(200, "POST", "createItem?name=f", folderXML, xmlCT)
	createTokenCred(t, c, "credentials/store/system/domain/_/", "root-own", "aud", s.URL+"oidc")
	createTokenCred(t, c, "job/f/credentials/store/folder/domain/_/", "folder-own", "aud", s.URL+"oidc/job/f")
	for _, p := range []string{"oidc/jwks", "oidc/.well-known/openid-configuration", "oidc/job/f/jwks", "oidc/job/f/.well-known/openid-configuration"} {
		if r := anon.mustStatus(404, "GET", p, ""); r.body != "" {
			t.Errorf("%s: body %q", p, r.body)
		}
	}
	// With a default-issuer credential beside it, /oidc/jwks serves only that one.
	createTokenCred(t, c, "credentials/store/system/domain/_/", "plain", "aud", "")
	r := anon.mustStatus(200, "GET", "oidc/jwks", "")
	if !strings.Contains(r.body, `"kid":"plain"`) || strings.Contains(r.body, "root-own") {
		t.Errorf("jwks %s", r.body)
	}
}

func payloadJSON(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTokenShapeByPluginVersion pins IdTokenCredentials.token() across
// oidc-provider releases (git history of jenkinsci/oidc-provider-plugin):
// 212 (a069ffe) iss, aud[], iat, exp; 206 (cd60e4a) adds typ; before 212
// aud is a string and exp precedes iat; 170 (b53c1f7) refuses
// unsubstituted claims with the value in the message, before a missing
// sub is reported.
func TestTokenShapeByPluginVersion(t *testing.T) {
	noSub := ClaimTemplates{Build: []ClaimTemplate{{"x", "${NOPE}", ClaimString}}}
	tests := []struct {
		version  string
		tmpl     *ClaimTemplates
		prefix   string // payload prefix after iss
		typ      string
		wantErr  string
		literalX bool
	}{
		{"212.v7657c4d45c02", nil, `"aud":["a"],"iat":1700000000,"exp":1700003600,"sub":`, "JWT", "", false},
		{"206.v0a5b091d3b1d", nil, `"aud":"a","exp":1700003600,"iat":1700000000,"sub":`, "JWT", "", false},
		{"170.v15f73e25a_e28", nil, `"aud":"a","exp":1700003600,"iat":1700000000,"sub":`, "", "", false},
		{"212.v7657c4d45c02", &noSub, "", "", "java.lang.RuntimeException: Apparently unsubstituted claims: ${NOPE}", false},
		{"170.v15f73e25a_e28", &noSub, "", "", "Apparently unsubstituted claims: ${NOPE}", false},
		// Before 170 the literal goes into the token; the missing sub is then what fails.
		{"111.v29fd614b_3617", &noSub, "", "", "must specify sub", false},
		{"111.v29fd614b_3617", &ClaimTemplates{Build: []ClaimTemplate{{"sub", "${NOPE}", ClaimString}}}, `"aud":"a","exp":1700003600,"iat":1700000000,"sub":"${NOPE}"`, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			opts := []Option{WithPluginVersion("oidc-provider", tt.version), WithClock(fixedClock)}
			if tt.tmpl != nil {
				opts = append(opts, WithClaimTemplates(*tt.tmpl))
			}
			j := New(opts...)
			j.SetRootURL("https://jenkins.example.com/")
			seedTokenCred(t, j, "o", "a")
			tok, err := j.IDToken("j", "o")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := payloadJSON(t, tok)
			if want := `{"iss":"https://jenkins.example.com/oidc",` + tt.prefix; !strings.HasPrefix(p, want) {
				t.Errorf("payload %s\nwant prefix %s", p, want)
			}
			if h, _, _ := jwtutil.Decode(tok); h.Typ != tt.typ || h.Kid != "o" || h.Alg != "RS256" {
				t.Errorf("header %+v, want typ %q", h, tt.typ)
			}
		})
	}
}

func fixedClock() time.Time { return time.Unix(1700000000, 0) }

// direct sends one request to a bare handler as admin and returns the recorder.
func direct(t *testing.T, j *Jenkins, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "http://jenkins.example.com/"+strings.TrimPrefix(path, "/"), strings.NewReader(body))
	req.SetBasicAuth("admin", j.AdminToken())
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	j.ServeHTTP(w, req)
	return w
}

// seedTokenCred creates freestyle job "j" and a system IdTokenStringCredentials.
func seedTokenCred(t *testing.T, j *Jenkins, id, aud string) {
	t.Helper()
	if w := direct(t, j, "POST", "createItem?name=j", freestyleXML, xmlCT); w.Code != 200 {
		t.Fatalf("createItem: %d %s", w.Code, w.Body)
	}
	js, _ := json.Marshal(map[string]any{"credentials": map[string]any{"$class": ClassIDTokenString, "id": id, "audience": aud}})
	if w := direct(t, j, "POST", "credentials/store/system/domain/_/createCredentials", "json="+url.QueryEscape(string(js)), formCT); w.Code != 302 {
		t.Fatalf("createCredentials: %d %s", w.Code, w.Body)
	}
}

// TestCredentialsFormAnswersByVersion pins CredentialsStoreAction's form
// actions (jenkinsci/credentials-plugin d96751bc and 9049e8c8~1): from
// 1488.v9049e8c8b_d98 Accept: application/json gets a notification, a
// duplicate id "Credentials with specified ID already exist"; before it
// every answer is a 302, a duplicate included, whatever Accept says.
func TestCredentialsFormAnswersByVersion(t *testing.T) {
	js := func(id string) string {
		b, _ := json.Marshal(map[string]any{"credentials": map[string]any{"$class": ClassSecretText, "id": id, "secret": "s"}})
		return "json=" + url.QueryEscape(string(b))
	}
	const base = "credentials/store/system/domain/_/"
	const accept = "Accept: application/json"
	for _, tt := range []struct {
		version          string
		create, dup, del int
		dupBody, delBody string
	}{
		{"1488.v9049e8c8b_d98", 200, 200, 200,
			`{"message":"Credentials with specified ID already exist","notificationType":"ERROR"}`,
			`{"message":"Credentials deleted","notificationType":"SUCCESS"}`},
		{"1415.v831096eb_5534", 302, 302, 302, "", ""},
	} {
		t.Run(tt.version, func(t *testing.T) {
			j := New(WithPluginVersion("credentials", tt.version))
			if w := direct(t, j, "POST", base+"createCredentials", js("x"), formCT, accept); w.Code != tt.create {
				t.Errorf("create: %d %s", w.Code, w.Body)
			}
			w := direct(t, j, "POST", base+"createCredentials", js("x"), formCT, accept)
			if w.Code != tt.dup || tt.dupBody != "" && w.Body.String() != tt.dupBody {
				t.Errorf("duplicate: %d %s", w.Code, w.Body)
			}
			if tt.dup == 302 && w.Header().Get("Location") != "http://jenkins.example.com/credentials/store/system/domain/_" {
				t.Errorf("duplicate redirect %q", w.Header().Get("Location"))
			}
			w = direct(t, j, "POST", base+"credential/x/doDelete", "", accept)
			if w.Code != tt.del || tt.delBody != "" && w.Body.String() != tt.delBody {
				t.Errorf("doDelete: %d %s", w.Code, w.Body)
			}
		})
	}
}

// TestIdentityCopy pins what XMLUtils.safeTransform writes for a posted
// config.xml (core ItemGroupMixIn.createProjectFromXML and
// AbstractItem.updateByXml; JDK identity transformer): a 1.0 declaration
// before the root, comments and whitespace kept, empty elements collapsed,
// text and attributes re-escaped.
func TestIdentityCopy(t *testing.T) {
	in := "\ufeff<?xml version='1.1' encoding='UTF-8'?>\n<!-- c -->\n<a x='&apos;1&quot;'>\n  <b></b>\n  <s>&apos;&#60;\r</s><![CDATA[<y>]]><?pi z?>\n</a>\n"
	want := "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!-- c --><a x=\"'1&quot;\">\n  <b/>\n  <s>'&lt;\n</s>&lt;y&gt;<?pi z?>\n</a>"
	if got := string(identityCopy([]byte(in))); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestSubmitDescriptionSaves pins AbstractItem.doSubmitDescription (core):
// POST only, Item/Configure, the whole description replaced, the item
// saved (config.xml in XStream's form from then on), 302 to ".".
func TestSubmitDescriptionSaves(t *testing.T) {
	j := New()
	if w := direct(t, j, "POST", "createItem?name=j", freestyleXML, xmlCT); w.Code != 200 {
		t.Fatal(w.Code)
	}
	if w := direct(t, j, "GET", "job/j/submitDescription", ""); w.Code != 405 {
		t.Errorf("GET: %d", w.Code)
	}
	w := direct(t, j, "POST", "job/j/submitDescription", "description="+url.QueryEscape("new <text>"), formCT)
	if w.Code != 302 || w.Header().Get("Location") != "http://jenkins.example.com/job/j/" {
		t.Errorf("submit: %d %q", w.Code, w.Header().Get("Location"))
	}
	cfg := direct(t, j, "GET", "job/j/config.xml", "").Body.String()
	if !strings.HasPrefix(cfg, "<?xml version='1.1' encoding='UTF-8'?>\n<project>\n  <description>new &lt;text&gt;</description>\n") {
		t.Errorf("config after submitDescription:\n%s", cfg)
	}
}

// TestNoRootURL pins a controller whose Jenkins URL is not configured:
// /api/json exports "url" null (Jenkins.getConfiguredRootUrl), /oidc
// answers from the request (getRootUrlFromRequest, X-Forwarded-Host
// honoured), and a build gets no JOB_URL (CoreEnvironmentContributor), so
// binding an ID token fails with the plugin's message.
func TestNoRootURL(t *testing.T) {
	s := testServer(t, WithoutRootURL(), WithQuietPeriod(0))
	c := adminClient(t, s)
	if r := c.mustStatus(200, "GET", "api/json?tree=url", ""); r.body != `{"_class":"hudson.model.Hudson","url":null}` {
		t.Errorf("api/json %s", r.body)
	}
	createTokenCred(t, c, "credentials/store/system/domain/_/", "oidc", "a", "")
	r := c.mustStatus(200, "GET", "oidc/.well-known/openid-configuration", "", "X-Forwarded-Host: ci.example.com", "X-Forwarded-Proto: https")
	if !strings.HasPrefix(r.body, `{"issuer":"https://ci.example.com/oidc",`) {
		t.Errorf("issuer from the request: %s", r.body)
	}
	job := strings.Replace(buildJobXML, `<org.jenkinsci.plugins.credentialsbinding.impl.FileBinding>
          <credentialsId>oidc-file</credentialsId>
          <variable>OIDC_TOKEN_FILE</variable>
        </org.jenkinsci.plugins.credentialsbinding.impl.FileBinding>`, "", 1)
	c.mustStatus(200, "POST", "createItem?name=b", job, xmlCT)
	q := c.mustStatus(201, "POST", "job/b/build", "")
	n, res := waitBuild(t, c, q.header.Get("Location"), "b")
	console := c.mustStatus(200, "GET", fmt.Sprintf("job/b/%d/consoleText", n), "").body
	if res != "FAILURE" || !strings.Contains(console, "Apparently unsubstituted claims: ${JOB_URL}") {
		t.Errorf("build %s:\n%s", res, console)
	}
	if _, err := s.Jenkins.IDToken("b", "oidc"); err == nil || !strings.Contains(err.Error(), "Apparently unsubstituted claims: ${JOB_URL}") {
		t.Errorf("IDToken: %v", err)
	}
	// Configured later, builds mint again.
	s.Jenkins.SetRootURL(s.URL)
	if r := c.mustStatus(200, "GET", "api/json?tree=url", ""); r.body != `{"_class":"hudson.model.Hudson","url":"`+s.URL+`"}` {
		t.Errorf("api/json %s", r.body)
	}
	if _, err := s.Jenkins.IDToken("b", "oidc"); err != nil {
		t.Error(err)
	}
}
